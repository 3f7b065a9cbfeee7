"""The corpus store: one SQLite file (WAL mode) of documents, segments, translations, scores and reviews.

The schema changes only through the numbered migrations in ``MIGRATIONS``; each applied migration is
recorded in ``schema_migrations``. Machine output is never overwritten: review edits are new rows in
``edits`` and every status change is a row in ``review_log``.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

DEFAULT_DB = Path("aligned") / "corpus.sqlite"
STATUSES = ("pending", "approved", "rejected", "edited")


class StoreError(Exception):
    """A store that cannot be opened or used; the message names the file."""


MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "initial schema", """
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,          -- identity of a document is its content
    path TEXT NOT NULL,                   -- where it was first read from
    text TEXT NOT NULL,
    lang TEXT NOT NULL DEFAULT 'ar',
    added_at TEXT NOT NULL
);
CREATE TABLE segments (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id),
    position INTEGER NOT NULL,            -- order in the document, from 0
    start INTEGER NOT NULL,               -- offsets into documents.text (Python string indices)
    end INTEGER NOT NULL,
    sentence INTEGER NOT NULL,
    part INTEGER NOT NULL DEFAULT 0,
    text TEXT NOT NULL,
    text_hash TEXT NOT NULL,              -- to find identical source text across documents
    UNIQUE (document_id, start, end)      -- a segment is its span: a changed segmentation adds new spans
);
CREATE INDEX segments_text_hash ON segments(text_hash);
CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    weights_sha256 TEXT NOT NULL,
    UNIQUE (name, weights_sha256)
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,                   -- 'translate' or 'align'
    model_id INTEGER REFERENCES models(id),
    options TEXT NOT NULL,                -- JSON
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL DEFAULT 'running'
);
CREATE TABLE translations (
    id INTEGER PRIMARY KEY,
    segment_id INTEGER NOT NULL REFERENCES segments(id),   -- first source segment of the pair
    segment_count INTEGER NOT NULL DEFAULT 1,             -- consecutive segments covered (alignments 2-1)
    source_end INTEGER,                                   -- end offset of the last segment covered
    model_id INTEGER REFERENCES models(id),               -- the MT model (the bridge model for alignments)
    run_id INTEGER REFERENCES runs(id),
    origin TEXT NOT NULL DEFAULT 'mt',                    -- 'mt' or 'human' (aligned existing translation)
    text TEXT NOT NULL,                                   -- as produced; never overwritten
    bridge TEXT,                                          -- for aligned pairs: the MT of the source
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','approved','rejected','edited')),
    created_at TEXT NOT NULL
);
-- IFNULL: an alignment given external MT has no model, and NULLs never collide in a unique index
CREATE UNIQUE INDEX translations_unique ON translations(segment_id, segment_count, IFNULL(model_id, 0), text)
    WHERE origin = 'human';
CREATE UNIQUE INDEX translations_mt_unique ON translations(segment_id, model_id) WHERE origin = 'mt';
CREATE INDEX translations_status ON translations(status, id);
CREATE TABLE scores (
    translation_id INTEGER PRIMARY KEY REFERENCES translations(id),
    score REAL NOT NULL,
    label TEXT NOT NULL,
    signals TEXT NOT NULL                 -- JSON object of every signal
);
CREATE INDEX scores_score ON scores(score);
CREATE TABLE edits (
    id INTEGER PRIMARY KEY,
    translation_id INTEGER NOT NULL REFERENCES translations(id),
    text TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX edits_translation ON edits(translation_id, id);
CREATE TABLE review_log (
    id INTEGER PRIMARY KEY,
    translation_id INTEGER NOT NULL REFERENCES translations(id),
    action TEXT NOT NULL,                 -- approve, reject, edit, undo, bulk-approve
    old_status TEXT NOT NULL,
    new_status TEXT NOT NULL,
    edit_id INTEGER REFERENCES edits(id),
    reviewer TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX review_log_translation ON review_log(translation_id, id);
"""),
    # review: an undo withdraws an edit (the row stays as history; exports skip it) and records which
    # log entry it reverted; document filters go segments -> translations; the document list is read
    # from an index (a scan of documents would read every document's text)
    (2, "review undo and indexes", """
ALTER TABLE edits ADD COLUMN undone_at TEXT;     -- set when a review undo withdrew this edit
ALTER TABLE review_log ADD COLUMN undoes INTEGER REFERENCES review_log(id);  -- for action 'undo'
CREATE INDEX review_log_undoes ON review_log(undoes) WHERE undoes IS NOT NULL;
CREATE INDEX translations_segment ON translations(segment_id);
CREATE INDEX documents_path ON documents(path);
"""),
]


# SQL shared by every query of pairs (aliases: t translations, s its first segment, d the document).
# A pair's current text is its newest edit still in force (undone edits stay as history), else the
# machine text.
CURRENT_EDIT_TEXT = ("(SELECT e.text FROM edits e WHERE e.translation_id = t.id AND e.undone_at IS NULL"
                     " ORDER BY e.id DESC LIMIT 1)")
# A pair's source is the document text from its first segment's start to its last segment's end, so
# pairs covering several segments (alignments) keep the exact original text between them.
PAIR_SOURCE = ("CASE WHEN t.source_end IS NULL THEN s.text"
               " ELSE substr(d.text, s.start + 1, t.source_end - s.start) END")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass
class NewSegment:
    position: int
    start: int
    end: int
    sentence: int
    part: int
    text: str


class Store:
    """A connection to one corpus file. Writes go through ``transaction()``."""

    def __init__(self, path: Path | str, create: bool = True):
        self.path = Path(path)
        if not self.path.exists():
            if not create:
                raise StoreError(f"{self.path}: no such store")
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif self.path.is_dir():
            raise StoreError(f"{self.path}: is a directory, not a store file")
        try:
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                      check_same_thread=False)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA busy_timeout=30000")
            self.migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a usable translate store ({exc})") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- schema -------------------------------------------------------------------------------
    def schema_version(self) -> int:
        row = self.db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='schema_migrations'").fetchone()
        if row is None:
            return 0
        return self.db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0]

    def migrate(self) -> None:
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "schema_migrations" not in tables:
            raise StoreError(f"{self.path}: an SQLite file that is not a translate store")
        current = self.schema_version()
        known = MIGRATIONS[-1][0]
        if current > known:
            raise StoreError(f"{self.path}: store schema version {current} is newer than this program ({known})")
        for version, name, sql in MIGRATIONS:
            if version <= current:
                continue
            # executescript would commit on its own; run each statement inside one transaction instead
            with self.transaction() as db:
                if version == 1:
                    db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                               " name TEXT NOT NULL, applied_at TEXT NOT NULL)")
                for statement in _split_sql(sql):
                    db.execute(statement)
                db.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, name, now()))

    # -- documents and segments ---------------------------------------------------------------
    def add_document(self, path: str, text: str, sha256: str, lang: str = "ar") -> tuple[int, bool]:
        """Return (document id, created). A document already stored (same content) is reused."""
        row = self.db.execute("SELECT id FROM documents WHERE sha256=?", (sha256,)).fetchone()
        if row:
            return row[0], False
        with self.transaction() as db:
            cur = db.execute("INSERT INTO documents (sha256, path, text, lang, added_at) VALUES (?,?,?,?,?)",
                             (sha256, path, text, lang, now()))
            return cur.lastrowid, True

    # -- models and runs ----------------------------------------------------------------------
    def model_id(self, name: str, weights_sha256: str) -> int:
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO models (name, weights_sha256) VALUES (?,?)", (name, weights_sha256))
            return db.execute("SELECT id FROM models WHERE name=? AND weights_sha256=?",
                              (name, weights_sha256)).fetchone()[0]

    def start_run(self, kind: str, model_id: int | None, options: dict) -> int:
        with self.transaction() as db:
            return db.execute("INSERT INTO runs (kind, model_id, options, started_at) VALUES (?,?,?,?)",
                              (kind, model_id, json.dumps(options, ensure_ascii=False), now())).lastrowid

    def finish_run(self, run_id: int, status: str = "done") -> None:
        with self.transaction() as db:
            db.execute("UPDATE runs SET finished_at=?, status=? WHERE id=?", (now(), status, run_id))

    def latest_run(self, kind: str) -> int | None:
        return self.db.execute("SELECT MAX(id) FROM runs WHERE kind=?", (kind,)).fetchone()[0]

    def run_translations(self, run_id: int) -> list[str] | None:
        """The texts a run stored, in document and segment order; None if there is no such run."""
        if self.db.execute("SELECT 1 FROM runs WHERE id=?", (run_id,)).fetchone() is None:
            return None
        return [r[0] for r in self.db.execute(
            "SELECT t.text FROM translations t JOIN segments s ON s.id = t.segment_id WHERE t.run_id=?"
            " ORDER BY s.document_id, s.start, t.id", (run_id,))]

    # -- translations -------------------------------------------------------------------------
    def translated_segments(self, segment_ids: list[int], model_id: int) -> set[int]:
        """The segment ids among these that already have a translation by this model."""
        found: set[int] = set()
        for chunk in _chunks(segment_ids, 500):
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in self.db.execute(
                f"SELECT segment_id FROM translations WHERE origin='mt' AND model_id=? AND segment_id IN ({marks})",
                (model_id, *chunk)))
        return found

    def add_segments(self, document_id: int, segments: list[NewSegment]) -> list[int]:
        """Insert the segments of one document not stored yet; return the ids of all of them, in order.
        One executemany and one SELECT, not a statement per segment: the run calls this per chunk."""
        if not segments:
            return []
        with self.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO segments (document_id, position, start, end, sentence, part, text,"
                " text_hash) VALUES (?,?,?,?,?,?,?,?)",
                [(document_id, s.position, s.start, s.end, s.sentence, s.part, s.text, text_hash(s.text))
                 for s in segments])
            starts = [s.start for s in segments]
            ids = {(r[1], r[2]): r[0] for r in db.execute(
                "SELECT id, start, end FROM segments WHERE document_id=? AND start BETWEEN ? AND ?",
                (document_id, min(starts), max(starts)))}
        return [ids[(s.start, s.end)] for s in segments]

    def cached_translations(self, sources: Iterable[str], model_id: int) -> dict[str, sqlite3.Row]:
        """Stored machine translations by this model of any of these source texts (in any document or
        run), with their scores: {source: row}."""
        wanted = set(sources)
        by_hash = {text_hash(s): s for s in wanted}
        found: dict[str, sqlite3.Row] = {}
        for chunk in _chunks(list(by_hash), 500):
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute(
                    "SELECT s.text AS source, t.text, sc.score, sc.label, sc.signals FROM segments s"
                    " JOIN translations t ON t.segment_id = s.id LEFT JOIN scores sc ON sc.translation_id = t.id"
                    f" WHERE s.text_hash IN ({marks}) AND t.model_id=? AND t.origin='mt'", (*chunk, model_id)):
                if row["source"] in wanted:          # the hash only narrows the search
                    found.setdefault(row["source"], row)
        return found

    def add_translation(self, db: sqlite3.Connection, segment_id: int, text: str, model_id: int | None,
                        run_id: int, score: float, label: str, signals: dict, origin: str = "mt",
                        segment_count: int = 1, source_end: int | None = None,
                        bridge: str | None = None) -> int | None:
        """Insert one pair and its scores inside the caller's transaction; None if it already exists.

        A pair covering several consecutive segments (an alignment bead) names its first segment, how
        many segments it covers and ``source_end``, the end offset of the last one.
        """
        if segment_count > 1 and source_end is None:
            raise ValueError("a pair covering several segments needs source_end")
        cur = db.execute(
            "INSERT OR IGNORE INTO translations (segment_id, segment_count, source_end, model_id, run_id, origin,"
            " text, bridge, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (segment_id, segment_count, source_end if segment_count > 1 else None, model_id, run_id, origin,
             text, bridge, now()))
        if cur.rowcount == 0:
            return None
        db.execute("INSERT INTO scores (translation_id, score, label, signals) VALUES (?,?,?,?)",
                   (cur.lastrowid, score, label, json.dumps(signals, ensure_ascii=False)))
        return cur.lastrowid

    # -- review -------------------------------------------------------------------------------
    # Every review change is one short transaction: the new status on the translation, a review_log
    # row (old/new status, reviewer, time) and for edits a new edits row (machine text stays in
    # translations.text). An undo is a log row of its own (action 'undo', `undoes` = the entry it
    # reverts); undoing an edit sets edits.undone_at, so the edit stays as history but is no longer
    # the pair's text.

    # like PAIR_SELECT, without the columns the review page does not show
    REVIEW_SELECT = f"""
SELECT t.id, t.status, t.origin, t.segment_count, t.text AS mt_text, {CURRENT_EDIT_TEXT} AS edited_text,
       s.sentence, s.part, s.position, d.id AS document_id, d.path AS document,
       sc.score, sc.label, sc.signals, {PAIR_SOURCE} AS source
FROM translations t
JOIN segments s ON s.id = t.segment_id
JOIN documents d ON d.id = s.document_id
LEFT JOIN scores sc ON sc.translation_id = t.id
"""

    def review_page(self, *, status: str | None = None, min_score: float | None = None,
                    max_score: float | None = None, document_id: int | None = None, search: str | None = None,
                    after: int | None = None, before: int | None = None, limit: int = 50,
                    window: int | None = None) -> list[sqlite3.Row]:
        """One page of pairs for review, in id order: keyset paging after/before an id (never OFFSET).

        ``window`` bounds the ids looked at to that many past after (or before ``before``): a text search
        cannot use an index, and a rare word would otherwise scan the whole table for one page.
        """
        where, args = _pair_filters(status, min_score, max_score)
        if document_id is not None:
            where.append("t.segment_id IN (SELECT id FROM segments WHERE document_id = ?)")
            args.append(document_id)
        if search:
            pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append("(s.text LIKE ? ESCAPE '\\'"
                         " OR COALESCE(" + CURRENT_EDIT_TEXT + ", t.text) LIKE ? ESCAPE '\\'"
                         " OR (t.source_end IS NOT NULL AND substr(d.text, s.start + 1, t.source_end - s.start)"
                         " LIKE ? ESCAPE '\\'))")
            args += [pattern, pattern, pattern]
        if before is not None:
            where.append("t.id < ?")
            args.append(before)
            if window:
                where.append("t.id >= ?")
                args.append(before - window)
            order = "DESC"
        else:
            where.append("t.id > ?")
            args.append(after or 0)
            if window:
                where.append("t.id <= ?")
                args.append((after or 0) + window)
            order = "ASC"
        rows = self.db.execute(self.REVIEW_SELECT + " WHERE " + " AND ".join(where) + f" ORDER BY t.id {order} LIMIT ?",
                               (*args, limit)).fetchall()
        return rows[::-1] if order == "DESC" else rows

    def review_last_id(self) -> int:
        return self.db.execute("SELECT COALESCE(MAX(id), 0) FROM translations").fetchone()[0]

    def review_pair(self, translation_id: int) -> sqlite3.Row | None:
        return self.db.execute(self.REVIEW_SELECT + " WHERE t.id = ?", (translation_id,)).fetchone()

    def review_documents(self, limit: int = 500) -> list[sqlite3.Row]:
        """Documents for the filter list (the first ``limit`` by path)."""
        return self.db.execute("SELECT id, path FROM documents ORDER BY path, id LIMIT ?", (limit,)).fetchall()

    def review_history(self, translation_id: int) -> dict:
        """The machine text, every edit (undone ones marked) and every log entry of one pair."""
        row = self.db.execute("SELECT text, status FROM translations WHERE id = ?", (translation_id,)).fetchone()
        if row is None:
            return {}
        edits = self.db.execute("SELECT id, text, reviewer, created_at, undone_at FROM edits"
                                " WHERE translation_id = ? ORDER BY id", (translation_id,)).fetchall()
        log = self.db.execute("SELECT id, action, old_status, new_status, edit_id, reviewer, created_at, undoes"
                              " FROM review_log WHERE translation_id = ? ORDER BY id", (translation_id,)).fetchall()
        return {"machine_text": row["text"], "status": row["status"],
                "edits": [dict(e) for e in edits], "log": [dict(entry) for entry in log]}

    def set_review_status(self, translation_id: int, new_status: str, reviewer: str,
                          action: str | None = None) -> int | None:
        """Approve or reject one pair; return the review_log id (None when the status is already that).

        Raises KeyError for an unknown pair, ValueError for a status review cannot set.
        """
        if new_status not in ("approved", "rejected", "pending"):
            raise ValueError(f"cannot set status {new_status!r} directly")
        action = action or {"approved": "approve", "rejected": "reject", "pending": "reset"}[new_status]
        with self.transaction() as db:
            row = db.execute("SELECT status FROM translations WHERE id = ?", (translation_id,)).fetchone()
            if row is None:
                raise KeyError(translation_id)
            if row["status"] == new_status:
                return None
            db.execute("UPDATE translations SET status = ? WHERE id = ?", (new_status, translation_id))
            return self._log_review(db, translation_id, action, row["status"], new_status, None, reviewer)

    def edit_translation(self, translation_id: int, text: str, reviewer: str) -> int | None:
        """Store a reviewer's English for one pair (status 'edited'); return the review_log id.

        None when the text is the pair's current text. The machine text is kept in translations.text.
        """
        text = text.strip()
        if not text:
            raise ValueError("empty translation: reject the pair instead")
        with self.transaction() as db:
            row = db.execute("SELECT t.status, COALESCE(" + CURRENT_EDIT_TEXT + ", t.text) AS target"
                             " FROM translations t WHERE t.id = ?", (translation_id,)).fetchone()
            if row is None:
                raise KeyError(translation_id)
            if row["target"] == text:
                return None
            edit_id = db.execute("INSERT INTO edits (translation_id, text, reviewer, created_at) VALUES (?,?,?,?)",
                                 (translation_id, text, reviewer, now())).lastrowid
            db.execute("UPDATE translations SET status = 'edited' WHERE id = ?", (translation_id,))
            return self._log_review(db, translation_id, "edit", row["status"], "edited", edit_id, reviewer)

    def bulk_approve(self, translation_ids: list[int], min_score: float, reviewer: str) -> list[tuple[int, int]]:
        """Approve the pending pairs among these that score at least ``min_score``.

        Pairs a reviewer already decided on (approved, rejected, edited) are left alone.
        Returns (translation id, review_log id) for each pair approved.
        """
        done = []
        with self.transaction() as db:
            for chunk in _chunks(sorted(set(translation_ids)), 500):
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"SELECT t.id FROM translations t JOIN scores sc ON sc.translation_id = t.id"
                    f" WHERE t.id IN ({marks}) AND t.status = 'pending' AND sc.score >= ?",
                    (*chunk, min_score)).fetchall()
                for row in rows:
                    db.execute("UPDATE translations SET status = 'approved' WHERE id = ?", (row["id"],))
                    done.append((row["id"], self._log_review(db, row["id"], "bulk-approve", "pending", "approved",
                                                             None, reviewer)))
        return done

    def undo_review(self, log_ids: list[int], reviewer: str) -> tuple[list[int], list[str]]:
        """Revert these review_log entries (newest first) in one transaction.

        An entry can be undone while it is the pair's latest change still in force (every later entry
        of that pair is an undo or undone). Returns (translation ids restored, reasons for entries
        that could not be undone).
        """
        restored, skipped = [], []
        with self.transaction() as db:
            for log_id in sorted(set(log_ids), reverse=True):
                entry = db.execute("SELECT * FROM review_log WHERE id = ?", (log_id,)).fetchone()
                if entry is None or entry["action"] == "undo":
                    skipped.append(f"review entry {log_id}: nothing to undo")
                    continue
                later = db.execute("SELECT id, action, undoes FROM review_log WHERE translation_id = ? AND id >= ?",
                                   (entry["translation_id"], log_id)).fetchall()
                undone = {r["undoes"] for r in later if r["action"] == "undo"}
                if log_id in undone:
                    skipped.append(f"pair {entry['translation_id']}: that change was already undone")
                    continue
                if any(r["action"] != "undo" and r["id"] not in undone and r["id"] != log_id for r in later):
                    skipped.append(f"pair {entry['translation_id']}: changed again since; undo the newer change first")
                    continue
                db.execute("UPDATE translations SET status = ? WHERE id = ?",
                           (entry["old_status"], entry["translation_id"]))
                if entry["edit_id"] is not None:
                    db.execute("UPDATE edits SET undone_at = ? WHERE id = ?", (now(), entry["edit_id"]))
                self._log_review(db, entry["translation_id"], "undo", entry["new_status"], entry["old_status"],
                                 entry["edit_id"], reviewer, undoes=log_id)
                restored.append(entry["translation_id"])
        return restored, skipped

    @staticmethod
    def _log_review(db: sqlite3.Connection, translation_id: int, action: str, old_status: str, new_status: str,
                    edit_id: int | None, reviewer: str, undoes: int | None = None) -> int:
        return db.execute(
            "INSERT INTO review_log (translation_id, action, old_status, new_status, edit_id, reviewer, created_at,"
            " undoes) VALUES (?,?,?,?,?,?,?,?)",
            (translation_id, action, old_status, new_status, edit_id, reviewer, now(), undoes)).lastrowid

    # -- reading pairs ------------------------------------------------------------------------
    def iter_pairs(self, min_score: float | None = None, status: str | None = None,
                   batch: int = 1000) -> Iterator[sqlite3.Row]:
        """Stream every pair with its source, newest reviewed text, scores and provenance, in id order."""
        where, args = _pair_filters(status, min_score)
        last_id = 0
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


# every pair with its source, current text, scores and provenance (exports)
PAIR_SELECT = f"""
SELECT t.id, t.origin, t.status, t.created_at, t.text AS mt_text, t.bridge, t.segment_count,
       COALESCE({CURRENT_EDIT_TEXT}, t.text) AS target,
       s.start, COALESCE(t.source_end, s.end) AS end, s.sentence, s.part, s.position,
       d.id AS document_id, d.path AS document, d.sha256 AS document_sha256,
       m.name AS model, m.weights_sha256 AS model_sha256,
       sc.score, sc.label, sc.signals, {PAIR_SOURCE} AS source
FROM translations t
JOIN segments s ON s.id = t.segment_id
JOIN documents d ON d.id = s.document_id
LEFT JOIN models m ON m.id = t.model_id
LEFT JOIN scores sc ON sc.translation_id = t.id
"""


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


def _split_sql(sql: str) -> list[str]:
    """Split a migration into statements (comments removed; no ';' or '--' inside string literals)."""
    statements, current = [], ""
    for line in sql.splitlines():
        current += line.split("--", 1)[0] + "\n"
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
