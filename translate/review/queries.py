"""What the review page reads from the store: pages of pairs in three orders, counts, context, one
document, and the figures of the stats page. Writes are in ``decisions``.

Every list is keyset-paged (never OFFSET): a page starts after (or before) one pair's key in the chosen
order, so page 4,000 costs what page 1 costs. A cursor is a pair id; its key is looked up by that id.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from ..store import CURRENT_EDIT_TEXT, CURRENT_PAIR, PAIR_SOURCE, STATUSES, Store, normalise_for_search

PAIR_COLUMNS = f"""
t.id, t.status, t.origin, t.segment_count, t.text AS mt_text, t.bridge, t.reject_reason, t.reject_comment,
{CURRENT_EDIT_TEXT} AS edited_text, s.sentence, s.part, s.position, s.start, s.end,
d.id AS document_id, d.path AS document, m.name AS model,
sc.score, sc.label, sc.signals, {PAIR_SOURCE} AS source"""
PAIR_JOINS = """
FROM translations t
JOIN segments s ON s.id = t.segment_id
JOIN documents d ON d.id = s.document_id
LEFT JOIN models m ON m.id = t.model_id
"""


@dataclass(frozen=True)
class Order:
    """One sort order of the list: the key columns (a unique key: the pair id comes last) and direction."""
    name: str
    key: tuple[str, ...]
    descending: bool
    score_join: str          # scores must be an inner join when the order reads the score
    first_key: tuple         # at or before every real key: the first page is keyset-bounded too, which
                             # keeps SQLite walking the order's index (unbounded, a WHERE term on the pair
                             # can make it scan every pair and sort them)

    def order_by(self, backwards: bool = False) -> str:
        down = self.descending != backwards
        return ", ".join(f"{c} {'DESC' if down else 'ASC'}" for c in self.key)

    def beyond(self, backwards: bool = False, inclusive: bool = False) -> str:
        """The keyset condition 'after this key' (or before, going backwards), as a row-value compare."""
        down = self.descending != backwards
        op = ("<" if down else ">") + ("=" if inclusive else "")
        marks = ", ".join("?" * len(self.key))
        return f"({', '.join(self.key)}) {op} ({marks})"


ORDERS = {
    # document order: by document, then by where the pair starts in it (ties: the longer span, then id)
    "doc": Order("doc", ("s.document_id", "s.start", "s.end", "t.id"), False,
                 "LEFT JOIN scores sc ON sc.translation_id = t.id", (-1, -1, -1, -1)),
    # worst first; the scores index holds (score, translation_id), so the key walks it directly
    "score": Order("score", ("sc.score", "sc.translation_id"), False,
                   "JOIN scores sc ON sc.translation_id = t.id", (float("-inf"), -1)),
    "-score": Order("-score", ("sc.score", "sc.translation_id"), True,
                    "JOIN scores sc ON sc.translation_id = t.id", (float("inf"), 2 ** 63 - 1)),
}
COMMON_SEARCH = 10_000    # matches past which a search is checked pair by pair along the order

SORT_LABELS = {"doc": "document order", "score": "worst score first", "-score": "best score first"}


@dataclass
class Filter:
    status: str | None = None
    min_score: float | None = None
    max_score: float | None = None
    document_id: int | None = None
    search: str | None = None
    reason: str | None = None
    superseded: bool = False    # also pairs of an earlier segmentation of their document (other --max-words)

    def terms(self, order: Order | None = None, common_status: bool = False,
              common_search: bool = False) -> tuple[list[str], list]:
        """WHERE terms on the aliases t, s, sc.

        Pairs of superseded segmentations are left out unless ``superseded``. A unary + (or IFNULL)
        keeps SQLite walking the index of the page's order instead of collecting every match through
        another index and sorting them: in document order for the score bounds, and for the status when
        it is a common one (``common_status``: most pairs are pending at first, and then walking the order
        finds a page at once, while collecting would sort tens of thousands of pairs per page)."""
        where, args = [] if self.superseded else [CURRENT_PAIR], []
        if self.status:
            where.append(("+t.status" if common_status else "t.status") + " = ?")
            args.append(self.status)
        if self.reason:
            where.append("t.reject_reason = ?")
            args.append(self.reason)
        # IFNULL: in document order scores is a LEFT JOIN, and a plain bound on it would let SQLite turn
        # that into an inner join driven by the scores table, then sort every match
        score = "sc.score" if order is not None and order.name != "doc" else "IFNULL(sc.score, -1)"
        if self.min_score is not None:
            where.append(f"{score} >= ?")
            args.append(self.min_score)
        if self.max_score is not None:
            where.append(f"{score} <= ?")
            args.append(self.max_score)
        if self.document_id is not None:
            where.append("s.document_id = ?")
            args.append(self.document_id)
        if self.search:
            term, args_ = search_term(self.search)
            if common_search and order is not None:
                # a word in most pairs: check each pair met walking the order (the set of matches would
                # be most of the store); a rarer one: collect its matches first
                where.append(f"EXISTS ({term} AND rowid = t.id)")
            else:
                where.append(f"t.id IN ({term})")
            args += args_
        return where, args

    def needs_score(self) -> bool:
        return self.min_score is not None or self.max_score is not None

    def is_everything(self) -> bool:
        return self == Filter(superseded=self.superseded)


def search_term(text: str) -> tuple[str, list]:
    """A subquery of the pair ids whose normalised source or current English contains ``text``.

    Three or more characters go through the trigram index (a phrase query matches any substring);
    shorter ones scan the index's text with LIKE."""
    needle = normalise_for_search(text.strip())
    if len(needle) >= 3:
        return "SELECT rowid FROM pair_search WHERE (pair_search MATCH ?)", ['"' + needle.replace('"', '""') + '"']
    pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return ("SELECT rowid FROM pair_search WHERE (source LIKE ? ESCAPE '\\' OR target LIKE ? ESCAPE '\\')",
            [pattern, pattern])


@dataclass
class Page:
    rows: list[sqlite3.Row]
    has_previous: bool
    has_next: bool


class ReviewQueries:
    def __init__(self, store: Store):
        self.db = store.db
        self._store_counts: dict | None = None
        self._common_searches: dict[str, bool] = {}

    # -- pages ------------------------------------------------------------------------------------
    def _common_status(self, flt: Filter) -> bool:
        """Whether the filter's status is held by more than 2% of all pairs (see Filter.terms)."""
        if not flt.status:
            return False
        counts = self.counts()
        return counts[flt.status] > 0.02 * max(counts["total"], 1)

    def _common_search(self, flt: Filter) -> bool:
        """Whether the searched text is in more than COMMON_SEARCH pairs (see Filter.terms); probed once
        per text for the request (a page asks for it for its rows and again for its previous link)."""
        if not flt.search:
            return False
        if flt.search not in self._common_searches:
            term, args = search_term(flt.search)
            self._common_searches[flt.search] = self.db.execute(
                f"SELECT COUNT(*) FROM ({term} LIMIT ?)", (*args, COMMON_SEARCH)).fetchone()[0] >= COMMON_SEARCH
        return self._common_searches[flt.search]

    def _select(self, order: Order, flt: Filter, extra: list[str], extra_args: list, backwards: bool,
                limit: int) -> list[sqlite3.Row]:
        where, args = flt.terms(order, self._common_status(flt), self._common_search(flt))
        where += extra
        sql = (f"SELECT {PAIR_COLUMNS} {PAIR_JOINS} {order.score_join}"
               + (" WHERE " + " AND ".join(where) if where else "")
               + f" ORDER BY {order.order_by(backwards)} LIMIT ?")
        return self.db.execute(sql, (*args, *extra_args, limit)).fetchall()

    def key_of(self, order: Order, pair_id: int) -> tuple | None:
        row = self.db.execute(f"SELECT {', '.join(order.key)} {PAIR_JOINS} {order.score_join} WHERE t.id = ?",
                              (pair_id,)).fetchone()
        return tuple(row) if row is not None else None

    def page(self, order: Order, flt: Filter, *, after: int | None = None, before: int | None = None,
             start: int | None = None, size: int = 50) -> Page | None:
        """One page: from the start, or strictly after / strictly before / starting at (``start``) a pair.
        None when the cursor pair does not exist (or has no score in a score order)."""
        cursor = after if after is not None else before if before is not None else start
        key = None
        if cursor is not None:
            key = self.key_of(order, cursor)
            if key is None:
                return None
        backwards = before is not None
        extra = [order.beyond(backwards, inclusive=start is not None or key is None)]
        rows = self._select(order, flt, extra, list(key or order.first_key), backwards, size + 1)
        more = len(rows) > size
        rows = rows[:size]
        if backwards:
            rows.reverse()
            if not more and len(rows) < size:
                # reached the beginning with less than a page: show the first full page instead
                return self.page(order, flt, size=size)
            has_previous, has_next = more, True
        else:
            has_next = more
            has_previous = bool(rows) and self._exists_before(order, flt, rows[0])
        return Page(rows, has_previous, has_next)

    def _exists_before(self, order: Order, flt: Filter, row: sqlite3.Row) -> bool:
        key = self.key_of(order, row["id"])
        return bool(self._select(order, flt, [order.beyond(backwards=True)], list(key), True, 1))

    def position(self, order: Order, flt: Filter, pair_id: int) -> int:
        """1-based rank of a pair in the filtered order: a count of the pairs before it, which is why the
        list page carries the position in its links and asks for this (/api/position) only after showing
        a page opened at some pair (next pending, links from the document view)."""
        key = self.key_of(order, pair_id)
        if key is None:
            return 1
        before = order.beyond(backwards=True)
        if flt.is_everything():
            # unfiltered: count along the order's own index (covering), then take out the (few) pairs of
            # superseded segmentations, as counts() does
            if order.name == "doc":
                sql = ("SELECT COUNT(*) FROM segments s CROSS JOIN translations t INDEXED BY translations_segment"
                       f" ON t.segment_id = s.id WHERE {before}")
            else:
                sql = f"SELECT COUNT(*) FROM scores sc WHERE {before}"
            count = self.db.execute(sql, key).fetchone()[0]
            if not flt.superseded:
                count -= self.db.execute(
                    "SELECT COUNT(*) FROM segments s INDEXED BY segments_superseded CROSS JOIN translations t"
                    f" ON t.segment_id = s.id {order.score_join.replace('LEFT JOIN', 'JOIN')}"
                    f" WHERE s.superseded_at IS NOT NULL AND t.origin IN ('mt', 'copied') AND {before}", key).fetchone()[0]
                count -= self.db.execute(     # aligned pairs a link change replaced (alignment editor)
                    "SELECT COUNT(*) FROM translations t INDEXED BY translations_superseded"
                    f" CROSS JOIN segments s ON s.id = t.segment_id {order.score_join.replace('LEFT JOIN', 'JOIN')}"
                    f" WHERE t.superseded_at IS NOT NULL AND {before}", key).fetchone()[0]
            return count + 1
        where, args = flt.terms(order, self._common_status(flt), self._common_search(flt))
        where.append(before)
        sql = "SELECT COUNT(*) FROM translations t JOIN segments s ON s.id = t.segment_id"
        if order.name != "doc" or flt.needs_score():
            sql += " JOIN scores sc ON sc.translation_id = t.id"
        return self.db.execute(sql + " WHERE " + " AND ".join(where), (*args, *key)).fetchone()[0] + 1

    def next_pending(self, order: Order, flt: Filter, after: int | None) -> int | None:
        """The id of the first pending pair after this one (from the start when None) in the filtered order."""
        pending = Filter(**{**flt.__dict__, "status": "pending"})
        key = self.key_of(order, after) if after is not None else None
        extra = [order.beyond(inclusive=key is None)]
        rows = self._select(order, pending, extra, list(key or order.first_key), False, 1)
        return rows[0]["id"] if rows else None

    def pending_ids(self, order: Order, flt: Filter, limit: int, extra: list[str] = (),
                    extra_args: list = ()) -> list[int]:
        """The first ``limit`` pending pairs of the filtered order that also meet the WHERE terms ``extra``
        (team review: not claimed by anyone, not voted on by this reviewer)."""
        pending = Filter(**{**flt.__dict__, "status": "pending"})
        rows = self._select(order, pending, [order.beyond(inclusive=True), *extra],
                            [*order.first_key, *extra_args], False, limit)
        return [r["id"] for r in rows]

    # -- counts -----------------------------------------------------------------------------------
    def counts(self, flt: Filter | None = None) -> dict[str, int]:
        """Pairs per status (and 'total') matching the filter, or in the whole store (read once per
        ReviewQueries, which lives for one request). Pairs of superseded segmentations are left out unless
        the filter asks for them: counted over all pairs (the status index alone, or the filter's index)
        minus the few superseded ones (found through their own index), rather than checking every pair's
        segment."""
        flt = flt or Filter()
        if flt.is_everything():
            if self._store_counts is None:
                self._store_counts = self._counted(
                    self.db.execute("SELECT status, COUNT(*) FROM translations GROUP BY status").fetchall())
            counts = dict(self._store_counts)
        else:
            # through the status index (covering) with a lookup of each pair's score: the scores index
            # would need a lookup in the wide translations table per pair instead, several times slower
            where, args = Filter(**{**flt.__dict__, "superseded": True}).terms()
            joins = "JOIN segments s ON s.id = t.segment_id" if flt.document_id is not None else ""
            if flt.needs_score():
                joins += " JOIN scores sc ON sc.translation_id = t.id"
            counts = self._counted(self.db.execute(
                f"SELECT t.status, COUNT(*) FROM translations t {joins}"
                + "".join((" WHERE " if i == 0 else " AND ") + w for i, w in enumerate(where))
                + " GROUP BY t.status", args).fetchall())
        if not flt.superseded:
            where, args = Filter(**{**flt.__dict__, "superseded": True}).terms()
            joins = " JOIN scores sc ON sc.translation_id = t.id" if flt.needs_score() else ""
            for status, n in self.db.execute(
                    # CROSS JOIN: from the (few) superseded spans to their pairs, never the other way
                    "SELECT t.status, COUNT(*) FROM segments s INDEXED BY segments_superseded"
                    f" CROSS JOIN translations t ON t.segment_id = s.id {joins}"
                    " WHERE s.superseded_at IS NOT NULL AND t.origin IN ('mt', 'copied')"
                    + "".join(" AND " + w for w in where) + " GROUP BY t.status", args):
                counts[status] -= n
            for status, n in self.db.execute(
                    # aligned pairs a link change replaced (alignment editor), through their own index
                    "SELECT t.status, COUNT(*) FROM translations t INDEXED BY translations_superseded"
                    f" CROSS JOIN segments s ON s.id = t.segment_id {joins} WHERE t.superseded_at IS NOT NULL"
                    + "".join(" AND " + w for w in where) + " GROUP BY t.status", args):
                counts[status] -= n
            counts["total"] = sum(counts[s] for s in STATUSES)
            counts["reviewed"] = counts["total"] - counts["pending"]
        return counts

    @staticmethod
    def _counted(rows) -> dict[str, int]:
        counts = {status: 0 for status in STATUSES}
        counts.update({r[0]: r[1] for r in rows})
        counts["total"] = sum(counts[s] for s in STATUSES)
        counts["reviewed"] = counts["total"] - counts["pending"]
        return counts

    # -- one pair, its context, its document ------------------------------------------------------
    def pair(self, pair_id: int) -> sqlite3.Row | None:
        order = ORDERS["doc"]
        return self.db.execute(f"SELECT {PAIR_COLUMNS} {PAIR_JOINS} {order.score_join} WHERE t.id = ?",
                               (pair_id,)).fetchone()

    def context(self, pair_id: int) -> tuple[sqlite3.Row | None, sqlite3.Row | None] | None:
        """The pairs just before and after this one in its document (None for an unknown pair): pairs of
        the same kind (of the same run's model: machine-translated or copied; else the same origin and
        model) whose text lies wholly before or after its own. A document both translated and aligned
        holds two pairs of one sentence (MT and human): the other one is the same sentence, not its
        neighbour."""
        order = ORDERS["doc"]
        key = self.key_of(order, pair_id)
        if key is None:
            return None
        this = self.db.execute("SELECT t.origin, t.model_id, s.start, COALESCE(t.source_end, s.end) AS end"
                               " FROM translations t JOIN segments s ON s.id = t.segment_id WHERE t.id = ?",
                               (pair_id,)).fetchone()
        same = Filter(document_id=key[0])
        if this["origin"] in ("mt", "copied"):
            kind, kind_args = ["t.origin IN ('mt', 'copied')", "t.model_id IS ?"], [this["model_id"]]
        else:
            kind, kind_args = ["t.origin = ?", "t.model_id IS ?"], [this["origin"], this["model_id"]]
        before = self._select(order, same, [order.beyond(backwards=True), *kind, "COALESCE(t.source_end, s.end) <= ?"],
                              [*key, *kind_args, this["start"]], True, 1)
        after = self._select(order, same, [order.beyond(), *kind, "s.start >= ?"],
                             [*key, *kind_args, this["end"]], False, 1)
        return (before[0] if before else None), (after[0] if after else None)

    def document(self, document_id: int, limit: int = 5000) -> tuple[sqlite3.Row | None, list[sqlite3.Row]]:
        doc = self.db.execute("SELECT id, path, sha256, added_at, length(text) AS chars FROM documents"
                              " WHERE id = ?", (document_id,)).fetchone()
        if doc is None:
            return None, []
        return doc, self._select(ORDERS["doc"], Filter(document_id=document_id), [], [], False, limit)

    def documents(self, limit: int) -> list[sqlite3.Row]:
        """Documents for the filter list (the first ``limit`` by path)."""
        # (English documents an alignment stored have no pairs of their own)
        return self.db.execute("SELECT id, path FROM documents WHERE lang <> 'en' ORDER BY path, id LIMIT ?",
                               (limit,)).fetchall()

    def history(self, pair_id: int) -> dict:
        """The machine (or aligned/imported) text, every edit with the score before it, every log entry."""
        row = self.db.execute("SELECT t.text, t.status, t.origin, t.bridge, m.name AS model FROM translations t"
                              " LEFT JOIN models m ON m.id = t.model_id WHERE t.id = ?", (pair_id,)).fetchone()
        if row is None:
            return {}
        edits = self.db.execute("SELECT id, text, reviewer, created_at, undone_at, old_score, old_label FROM edits"
                                " WHERE translation_id = ? ORDER BY id", (pair_id,)).fetchall()
        log = self.db.execute("SELECT id, action, old_status, new_status, edit_id, reviewer, created_at, undoes,"
                              " reason, comment, batch, from_pair FROM review_log WHERE translation_id = ? ORDER BY id",
                              (pair_id,)).fetchall()
        return {"original_text": row["text"], "origin": row["origin"], "bridge": row["bridge"],
                "model": row["model"], "status": row["status"],
                "edits": [dict(e) for e in edits], "log": [dict(entry) for entry in log]}

    # -- the stats page ---------------------------------------------------------------------------
    def score_histogram(self, by: str, bins: int) -> dict[str, list[int]]:
        """Pairs per score bin (``bins`` equal bins over [0, 1]) for each status or each model."""
        group = "t.status" if by == "status" else "COALESCE(m.name, '(no model)')"
        join = "LEFT JOIN models m ON m.id = t.model_id" if by == "model" else ""
        out: dict[str, list[int]] = {}
        # the pairs the page's header counts: those of the current segmentation (as every list and export)
        for name, bucket, n in self.db.execute(
                f"SELECT {group}, MIN(CAST(sc.score * ? AS INTEGER), ? - 1), COUNT(*) FROM scores sc"
                f" JOIN translations t ON t.id = sc.translation_id JOIN segments s ON s.id = t.segment_id {join}"
                f" WHERE {CURRENT_PAIR} GROUP BY 1, 2", (bins, bins)):
            out.setdefault(name, [0] * bins)[max(bucket, 0)] += n
        return out

    def document_summary(self, limit: int) -> list[sqlite3.Row]:
        """The documents with the lowest mean score: pairs, reviewed, rejected, mean score."""
        return self.db.execute(
            "SELECT d.id, d.path, COUNT(*) AS pairs, SUM(t.status != 'pending') AS reviewed,"
            " SUM(t.status = 'rejected') AS rejected, AVG(sc.score) AS mean_score"
            " FROM translations t JOIN segments s ON s.id = t.segment_id JOIN documents d ON d.id = s.document_id"
            f" LEFT JOIN scores sc ON sc.translation_id = t.id WHERE {CURRENT_PAIR}"
            " GROUP BY d.id ORDER BY mean_score LIMIT ?",
            (limit,)).fetchall()

    def reasons(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT t.reject_reason, COUNT(*) FROM translations t"
                                    " JOIN segments s ON s.id = t.segment_id"
                                    f" WHERE t.reject_reason IS NOT NULL AND {CURRENT_PAIR} GROUP BY 1").fetchall())

    def progress_by_day(self, days: int) -> list[sqlite3.Row]:
        """Review actions per day (the last ``days`` days with any), oldest first."""
        return self.db.execute(
            "SELECT day, actions, reviewers FROM (SELECT substr(created_at, 1, 10) AS day, COUNT(*) AS actions,"
            " COUNT(DISTINCT reviewer) AS reviewers FROM review_log GROUP BY day ORDER BY day DESC LIMIT ?)"
            " ORDER BY day", (days,)).fetchall()

    def fingerprint(self) -> tuple:
        """Changes whenever a pair, an edit or a review action is added (cheap: three index lookups)."""
        return tuple(self.db.execute("SELECT (SELECT MAX(id) FROM translations), (SELECT MAX(id) FROM review_log),"
                                     " (SELECT MAX(id) FROM edits)").fetchone())
