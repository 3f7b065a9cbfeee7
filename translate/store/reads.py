"""Reading the corpus: pairs with their source, current text, scores and provenance (exports, eval),
and document text."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from .schema import CURRENT_PAIR, PAIR_SELECT


class CorpusReads:
    """Streams of pairs and document text (a part of ``Store``)."""

    def iter_pairs(self, min_score: float | None = None, status: str | None = None,
                   batch: int = 1000, include_superseded: bool = False, after_id: int = 0) -> Iterator[sqlite3.Row]:
        """Stream every pair with its source, newest reviewed text, scores and provenance, in id order
        (from the first id above ``after_id``).

        Only pairs of the current segmentation (CURRENT_PAIR), so no source text comes twice from one
        model; ``include_superseded`` adds the machine translations of spans a later run segmented
        differently."""
        where, args = _pair_filters(status, min_score)
        if not include_superseded:
            where.append(CURRENT_PAIR)
        last_id = after_id
        while True:
            rows = self.db.execute(
                PAIR_SELECT + " WHERE t.id > ?" + "".join(" AND " + w for w in where) + " ORDER BY t.id LIMIT ?",
                (last_id, *args, batch)).fetchall()
            if not rows:
                return
            yield from rows
            last_id = rows[-1]["id"]

    def document_slice(self, document_id: int, start: int, end: int) -> str:
        return self.db.execute("SELECT substr(text, ?, ?) FROM documents WHERE id=?",
                               (start + 1, end - start, document_id)).fetchone()[0]

    def counts(self) -> dict:
        one = lambda sql: self.db.execute(sql).fetchone()[0]  # noqa: E731
        return {"documents": one("SELECT COUNT(*) FROM documents"),
                "segments": one("SELECT COUNT(*) FROM segments"),
                "translations": one("SELECT COUNT(*) FROM translations")}



def _pair_filters(status: str | None = None, min_score: float | None = None,
                  max_score: float | None = None) -> tuple[list[str], list]:
    """WHERE terms (and their arguments) for pages of pairs read in translations.id order."""
    where, args = [], []
    if status is not None:
        where.append("t.status = ?")
        args.append(status)
    # unary + keeps the planner on the translations id order instead of the scores index, which
    # would mean sorting every pair in the range to find one page
    if min_score is not None:
        where.append("+sc.score >= ?")
        args.append(min_score)
    if max_score is not None:
        where.append("+sc.score <= ?")
        args.append(max_score)
    return where, args


