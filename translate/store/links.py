"""Alignments as stand-off links: document pairs, the sentence lists their alignment uses, the links
(rows) and the link log (a part of ``Store``; migration 7).

An alignment is read and written whole (``load_alignment`` / ``write_alignment``): a document pair has
a few hundred rows at most, and rewriting them in one transaction keeps every change simple and atomic.
Every write increments the pair's ``version``; the log keeps the alignment as it was before each change,
which is what an undo puts back. The pairs (translations) that links make are kept in step by
``sync_link_pairs``: a pair no current link makes is superseded (kept with its reviews), a link whose
pair exists (also superseded, or stored before links existed) revives that pair, so its review decision
comes back with it.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

from .connection import now
from .corpus import NewSegment

SIDES = ("ar", "en")


@dataclass
class AlignedSentence:
    segment_id: int
    start: int
    end: int
    text: str
    bridge: str | None = None       # MT of an Arabic sentence by the alignment's bridge model


@dataclass
class LinkRow:
    ar: list[int]                   # sentence indices (consecutive; empty: a 0-n row)
    en: list[int]
    status: str = "auto"            # 'auto' or 'confirmed'
    score: float | None = None      # the aligner's link probability; None for hand-made rows
    translation_id: int | None = None
    reviewer: str | None = None
    updated_at: str | None = None

    def side(self, side: str) -> list[int]:
        return self.ar if side == "ar" else self.en

    def kind(self) -> str:
        return f"{len(self.ar)}-{len(self.en)}"


@dataclass
class StoredAlignment:
    id: int
    ar_document_id: int
    en_document_id: int
    model_id: int | None
    bridge: str | None
    version: int
    ar: list[AlignedSentence] = field(default_factory=list)
    en: list[AlignedSentence] = field(default_factory=list)
    rows: list[LinkRow] = field(default_factory=list)

    def sentences(self, side: str) -> list[AlignedSentence]:
        return self.ar if side == "ar" else self.en

    def copy(self) -> "StoredAlignment":
        """Sentence lists and rows copied (operations change them in place; sentences are replaced, not changed)."""
        rows = [LinkRow(list(r.ar), list(r.en), r.status, r.score, r.translation_id, r.reviewer, r.updated_at)
                for r in self.rows]
        return StoredAlignment(self.id, self.ar_document_id, self.en_document_id, self.model_id, self.bridge,
                               self.version, list(self.ar), list(self.en), rows)

    def snapshot(self) -> str:
        """The sentence lists and rows as JSON (the link log's ``before``)."""
        return json.dumps({"ar": [[s.segment_id, s.bridge] for s in self.ar],
                           "en": [[s.segment_id, s.bridge] for s in self.en],
                           "rows": [dict(r.__dict__) for r in self.rows]}, ensure_ascii=False)


class LinkBook:
    """Document pairs, their links and the link log (a part of ``Store``)."""

    # -- reading --------------------------------------------------------------------------------
    def document_pair_id(self, ar_document_id: int, en_document_id: int) -> int | None:
        row = self.db.execute("SELECT id FROM document_pairs WHERE ar_document_id = ? AND en_document_id = ?",
                              (ar_document_id, en_document_id)).fetchone()
        return row[0] if row else None

    def load_alignment(self, pair_id: int, db: sqlite3.Connection | None = None) -> StoredAlignment | None:
        """The alignment as stored now. A copy of the one this connection last wrote or read is reused
        while the stored version is still the same (every write increments it, in any process)."""
        db = db or self.db
        pair = db.execute("SELECT * FROM document_pairs WHERE id = ?", (pair_id,)).fetchone()
        if pair is None:
            return None
        cached = self.__dict__.setdefault("_alignments", {}).get(pair_id)
        if cached is not None and cached.version == pair["version"]:
            return cached.copy()
        alignment = StoredAlignment(pair["id"], pair["ar_document_id"], pair["en_document_id"], pair["model_id"],
                                    pair["bridge"], pair["version"])
        for row in db.execute(
                "SELECT a.side, a.segment_id, a.bridge, s.start, s.end, s.text FROM alignment_sentences a"
                " JOIN segments s ON s.id = a.segment_id WHERE a.document_pair_id = ? ORDER BY a.side, a.position",
                (pair_id,)):
            alignment.sentences(row["side"]).append(
                AlignedSentence(row["segment_id"], row["start"], row["end"], row["text"], row["bridge"]))
        for row in db.execute("SELECT * FROM links WHERE document_pair_id = ? ORDER BY position", (pair_id,)):
            alignment.rows.append(LinkRow(
                list(range(row["ar_first"], row["ar_first"] + row["ar_count"])),
                list(range(row["en_first"], row["en_first"] + row["en_count"])),
                row["status"], row["score"], row["translation_id"], row["reviewer"], row["updated_at"]))
        self.remember_alignment(alignment)
        return alignment

    def remember_alignment(self, alignment: StoredAlignment) -> None:
        """Keep a copy of an alignment as stored (call after its transaction committed)."""
        self.__dict__.setdefault("_alignments", {})[alignment.id] = alignment.copy()

    def restore_snapshot(self, db: sqlite3.Connection, alignment: StoredAlignment, snapshot: str) -> None:
        """Put the sentence lists and rows of a link log ``before`` back into ``alignment`` (in memory)."""
        state = json.loads(snapshot)
        for side in SIDES:
            # most sentences are still those of the current alignment: only the others are read
            known = {s.segment_id: s for s in alignment.sentences(side)}
            missing = [i for i, _ in state[side] if i not in known]
            for r in _rows_by_id(db, "SELECT id, start, end, text FROM segments", missing):
                known[r[0]] = AlignedSentence(r[0], r[1], r[2], r[3])
            alignment.sentences(side)[:] = [
                known[i] if known[i].bridge == bridge else AlignedSentence(i, known[i].start, known[i].end,
                                                                           known[i].text, bridge)
                for i, bridge in state[side]]
        alignment.rows = [LinkRow(**row) for row in state["rows"]]

    def alignment_summaries(self, check_threshold: float) -> list[sqlite3.Row]:
        """Every document pair with its documents' paths and counts of rows, confirmed rows, rows not 1-1
        and linked rows whose pair scores below ``check_threshold``."""
        return self.db.execute(
            "SELECT p.id, a.path AS ar_file, e.path AS en_file, p.version, p.bridge,"
            " COUNT(l.position) AS rows, COALESCE(SUM(l.status = 'confirmed'), 0) AS confirmed,"
            " COALESCE(SUM(l.ar_count <> 1 OR l.en_count <> 1), 0) AS non_1_1,"
            " COALESCE(SUM(sc.score < ?), 0) AS below_check"
            " FROM document_pairs p JOIN documents a ON a.id = p.ar_document_id"
            " JOIN documents e ON e.id = p.en_document_id"
            " LEFT JOIN links l ON l.document_pair_id = p.id"
            " LEFT JOIN scores sc ON sc.translation_id = l.translation_id"
            " GROUP BY p.id ORDER BY p.id", (check_threshold,)).fetchall()

    def pair_scores(self, translation_ids: list[int]) -> dict[int, sqlite3.Row]:
        """{translation id: (id, score, label, status)} of these pairs."""
        return {r["id"]: r for r in _rows_by_id(
            self.db, "SELECT t.id, sc.score, sc.label, t.status FROM translations t"
            " LEFT JOIN scores sc ON sc.translation_id = t.id", translation_ids, column="t.id")}

    def alignments_of_translation(self, translation_id: int) -> int | None:
        """The document pair whose current link makes this pair (None: not made by a link)."""
        row = self.db.execute("SELECT document_pair_id FROM links WHERE translation_id = ? LIMIT 1",
                              (translation_id,)).fetchone()
        return row[0] if row else None

    def link_rows_of(self, translation_ids: list[int]) -> dict[int, tuple[int, int]]:
        """{translation id: (document pair id, row)} for the pairs among these that a current link makes."""
        return {r[0]: (r[1], r[2]) for r in _rows_by_id(
            self.db, "SELECT translation_id, document_pair_id, position FROM links", translation_ids,
            column="translation_id")}

    def alignments_of_document(self, document_id: int) -> list[int]:
        return [r[0] for r in self.db.execute(
            "SELECT id FROM document_pairs WHERE ar_document_id = ? OR en_document_id = ? ORDER BY id",
            (document_id, document_id))]

    # -- writing (inside the caller's transaction) ----------------------------------------------
    def create_document_pair(self, db: sqlite3.Connection, ar_document_id: int, en_document_id: int,
                             model_id: int | None, bridge: str | None) -> int:
        created = now()
        db.execute("INSERT INTO document_pairs (ar_document_id, en_document_id, model_id, bridge, created_at,"
                   " updated_at) VALUES (?,?,?,?,?,?) ON CONFLICT (ar_document_id, en_document_id) DO NOTHING",
                   (ar_document_id, en_document_id, model_id, bridge, created, created))
        return db.execute("SELECT id FROM document_pairs WHERE ar_document_id = ? AND en_document_id = ?",
                          (ar_document_id, en_document_id)).fetchone()[0]

    def write_alignment(self, db: sqlite3.Connection, alignment: StoredAlignment,
                        stored: StoredAlignment | None = None) -> None:
        """Make the stored sentence lists and links of this pair ``alignment``'s; version + 1. Only the
        positions that differ are written (an op changes a few rows of hundreds); ``stored``: the
        alignment as it is stored now, if the caller has it (else it is read)."""
        pair_id = alignment.id
        changed = now()
        for side in SIDES:
            new = [(s.segment_id, s.bridge) for s in alignment.sentences(side)]
            old = ([(s.segment_id, s.bridge) for s in stored.sentences(side)] if stored is not None else db.execute(
                "SELECT segment_id, bridge FROM alignment_sentences WHERE document_pair_id = ? AND side = ?"
                " ORDER BY position", (pair_id, side)).fetchall())
            db.execute("DELETE FROM alignment_sentences WHERE document_pair_id = ? AND side = ? AND position >= ?",
                       (pair_id, side, len(new)))
            db.executemany("INSERT OR REPLACE INTO alignment_sentences (document_pair_id, side, position, segment_id,"
                           " bridge) VALUES (?,?,?,?,?)",
                           [(pair_id, side, k, *item) for k, item in enumerate(new)
                            if k >= len(old) or tuple(old[k]) != item])
        new_links = _link_tuples(alignment.rows, changed)
        old_links = _link_tuples(stored.rows, changed) if stored is not None else db.execute(
            "SELECT ar_first, ar_count, en_first, en_count, status, score, translation_id, reviewer, updated_at"
            " FROM links WHERE document_pair_id = ? ORDER BY position", (pair_id,)).fetchall()
        db.execute("DELETE FROM links WHERE document_pair_id = ? AND position >= ?", (pair_id, len(new_links)))
        # rows that stay are updated in place (cheaper than replacing them: rows below a merge all move up)
        db.executemany("UPDATE links SET ar_first = ?, ar_count = ?, en_first = ?, en_count = ?, status = ?, score = ?,"
                       " translation_id = ?, reviewer = ?, updated_at = ? WHERE document_pair_id = ? AND position = ?",
                       [(*item, pair_id, k) for k, item in enumerate(new_links[:len(old_links)])
                        if tuple(old_links[k]) != item])
        db.executemany("INSERT INTO links (document_pair_id, position, ar_first, ar_count, en_first, en_count, status,"
                       " score, translation_id, reviewer, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                       [(pair_id, k, *item) for k, item in enumerate(new_links) if k >= len(old_links)])
        alignment.version += 1
        db.execute("UPDATE document_pairs SET version = ?, model_id = ?, bridge = ?, updated_at = ? WHERE id = ?",
                   (alignment.version, alignment.model_id, alignment.bridge, changed, pair_id))

    def log_link_change(self, db: sqlite3.Connection, pair_id: int, op: str, args: dict, reviewer: str,
                        before: str, undoes: int | None = None) -> int:
        return db.execute(
            "INSERT INTO link_log (document_pair_id, op, args, reviewer, created_at, before, undoes)"
            " VALUES (?,?,?,?,?,?,?)",
            (pair_id, op, json.dumps(args, ensure_ascii=False), reviewer, now(), before, undoes)).lastrowid

    def last_undoable_change(self, db: sqlite3.Connection, pair_id: int) -> sqlite3.Row | None:
        """The newest change of this pair's links still in force (undone ones and undos themselves skipped)."""
        return db.execute("SELECT * FROM link_log WHERE document_pair_id = ? AND op <> 'undo' AND undone_at IS NULL"
                          " ORDER BY id DESC LIMIT 1", (pair_id,)).fetchone()

    def mark_undone(self, db: sqlite3.Connection, log_id: int) -> None:
        db.execute("UPDATE link_log SET undone_at = ? WHERE id = ?", (now(), log_id))

    def insert_spans(self, db: sqlite3.Connection, document_id: int, spans: list[NewSegment]) -> list[int]:
        """Segments for new spans (a sentence split or joined in the editor): added beside the old ones,
        never replacing them (as a changed segmentation does)."""
        return self._insert_segments(db, document_id, spans, current=False)

    def sync_link_pairs(self, db: sqlite3.Connection, alignment: StoredAlignment, document_text: str,
                        previous: set[int], make_pair: Callable[[str, str, LinkRow], tuple[float, str, dict]],
                        run_id: int | None = None) -> tuple[int, int]:
        """Make the aligned pairs match the rows: each row with both sides gets its pair (kept when it
        still fits, else an existing pair of the same link revived, else a new one scored by
        ``make_pair(source, english, row)`` -> (score, label, signals)); pairs of ``previous`` (the
        translation ids the rows made before) that no row makes now are superseded. Returns (pairs
        added, pairs reused)."""
        added = reused = 0
        in_use: set[int] = set()
        # the pairs the rows name now, read at once (most rows keep theirs: an op touches a few)
        named = {r[0]: r for r in _rows_by_id(db, "SELECT id, segment_id, segment_count, text, superseded_at"
                                              " FROM translations", [r.translation_id for r in alignment.rows
                                                                     if r.translation_id is not None])}
        revive = []
        for row in alignment.rows:
            if not row.ar or not row.en:
                row.translation_id = None
                continue
            first, last = alignment.ar[row.ar[0]], alignment.ar[row.ar[-1]]
            english = " ".join(alignment.en[j].text for j in row.en)
            kept = named.get(row.translation_id)
            if kept is not None and row.translation_id not in in_use \
                    and (kept[1], kept[2], kept[3]) == (first.segment_id, len(row.ar), english):
                pair_id = row.translation_id
                if kept[4] is not None:
                    revive.append(pair_id)
            else:
                pair_id = _existing_pair(db, first.segment_id, len(row.ar), english, in_use)
                if pair_id is not None:
                    revive.append(pair_id)
            if pair_id is None:
                source = document_text[first.start:last.end]
                score, label, signals = make_pair(source, english, row)
                bridges = [alignment.ar[i].bridge for i in row.ar]
                bridge = " ".join(bridges) if all(b is not None for b in bridges) else None
                pair_id = self.add_translation(
                    db, first.segment_id, english, alignment.model_id, run_id, score, label, signals, origin="human",
                    segment_count=len(row.ar), source_end=last.end, bridge=bridge)
                added += 1
            else:
                reused += 1
            row.translation_id = pair_id
            in_use.add(pair_id)
        db.executemany("UPDATE translations SET superseded_at = NULL WHERE id = ? AND superseded_at IS NOT NULL",
                       [(i,) for i in revive])
        gone = sorted(previous - in_use)
        db.executemany("UPDATE translations SET superseded_at = ? WHERE id = ? AND superseded_at IS NULL",
                       [(now(), i) for i in gone])
        return added, reused

    def legacy_aligned_pairs(self, db: sqlite3.Connection, ar_document_id: int, english_text: str,
                             linked_elsewhere: set[int]) -> list[sqlite3.Row]:
        """Aligned pairs of this Arabic document stored before links existed (no link makes them) whose
        English comes from ``english_text``: what an alignment of this document pair replaces."""
        rows = db.execute(
            "SELECT t.id, t.text, t.status, t.segment_id, t.segment_count, s.start FROM translations t"
            " JOIN segments s ON s.id = t.segment_id"
            " WHERE s.document_id = ? AND t.origin = 'human' AND t.superseded_at IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM links l WHERE l.translation_id = t.id)", (ar_document_id,)).fetchall()
        return [r for r in rows if r["id"] not in linked_elsewhere and r["text"] in english_text]


def _existing_pair(db: sqlite3.Connection, segment_id: int, count: int, english: str, taken: set[int]) -> int | None:
    """An aligned pair of exactly this link (any bridge model), current ones first, then the newest."""
    for (pair_id,) in db.execute(
            "SELECT id FROM translations WHERE segment_id = ? AND segment_count = ? AND origin = 'human' AND text = ?"
            " ORDER BY superseded_at IS NOT NULL, id DESC", (segment_id, count, english)):
        if pair_id not in taken:
            return pair_id
    return None


def _link_tuples(rows: list[LinkRow], changed: str) -> list[tuple]:
    """The links table's columns of each row (after document_pair_id and position)."""
    return [(*_range(r.ar, k, rows, "ar"), *_range(r.en, k, rows, "en"), r.status, r.score, r.translation_id,
             r.reviewer, r.updated_at or changed) for k, r in enumerate(rows)]


def _range(indices: list[int], k: int, rows: list[LinkRow], side: str) -> tuple[int, int]:
    """(first, count) of a row's side; an empty cell stands where the next sentence of that side would."""
    if indices:
        return indices[0], len(indices)
    for row in reversed(rows[:k]):
        cell = row.side(side)
        if cell:
            return max(cell) + 1, 0
    return 0, 0


def _rows_by_id(db: sqlite3.Connection, select: str, ids: list[int], column: str = "id") -> list:
    out = []
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        out.extend(db.execute(f"{select} WHERE {column} IN ({','.join('?' * len(chunk))})", chunk).fetchall())
    return out
