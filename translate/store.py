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
# why a reviewer rejected a pair (review page keys 1-7, exports' reject_reason)
REJECT_REASONS = ("misaligned", "omission", "addition", "untranslated", "mistranslation", "poor-english", "other")


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
    (3, "review reasons, re-scored edits, batches, search index", None),   # SQL: _review_migration()
]


# -- text search ------------------------------------------------------------------------------
# Search compares normalised text on both sides: Arabic spelling variants that writers mix freely (alef
# forms, alef maqsura / ya, ta marbuta / ha, hamza carriers), diacritics and tatweel removed, ASCII case
# folded (not digits: twenty more nested replace() calls overflow SQLite's parser stack). The same
# folding runs in SQL (the triggers that keep the search index current, so any writer keeps it right)
# and in Python (the query).
SEARCH_FOLDS = {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"}
SEARCH_REMOVED = [chr(c) for c in range(0x064B, 0x0653)] + ["\u0670", "\u0640"]   # harakat, dagger alef, tatweel
_SEARCH_TABLE = str.maketrans({**SEARCH_FOLDS, **{c: None for c in SEARCH_REMOVED},
                               **{chr(c): chr(c + 32) for c in range(ord("A"), ord("Z") + 1)}})


def normalise_for_search(text: str) -> str:
    return text.translate(_SEARCH_TABLE)


def _normalise_sql(expr: str) -> str:
    for old, new in [*SEARCH_FOLDS.items(), *((c, "") for c in SEARCH_REMOVED)]:
        expr = f"replace({expr}, '{old}', '{new}')"
    return f"lower({expr})"      # SQLite's lower() folds ASCII only, as the Python side does


def _review_migration() -> str:
    """Migration 3. Written out by code because the search folding is a long chain of replace() calls;
    its text must never change once released (stores record that version 3 was applied)."""
    current_text = ("COALESCE((SELECT e.text FROM edits e WHERE e.translation_id = {id} AND e.undone_at IS NULL"
                    " ORDER BY e.id DESC LIMIT 1), (SELECT text FROM translations WHERE id = {id}))")
    pair_source = ("(SELECT CASE WHEN t.source_end IS NULL THEN s.text"
                   " ELSE substr(d.text, s.start + 1, t.source_end - s.start) END"
                   " FROM translations t JOIN segments s ON s.id = t.segment_id"
                   " JOIN documents d ON d.id = s.document_id WHERE t.id = {id})")
    return f"""
-- reject reasons (one of REJECT_REASONS) on the pair and on the log entry that set them
ALTER TABLE translations ADD COLUMN reject_reason TEXT;
ALTER TABLE translations ADD COLUMN reject_comment TEXT;
ALTER TABLE review_log ADD COLUMN reason TEXT;
ALTER TABLE review_log ADD COLUMN comment TEXT;
-- one bulk action is one batch: undone together
ALTER TABLE review_log ADD COLUMN batch INTEGER;
CREATE INDEX review_log_batch ON review_log(batch) WHERE batch IS NOT NULL;
CREATE INDEX review_log_time ON review_log(created_at);
CREATE INDEX translations_reason ON translations(reject_reason, id) WHERE reject_reason IS NOT NULL;
-- an edit is scored again: scores holds the score of the pair's current text, and each edit keeps the
-- score the pair had before it (shown in the history, restored by an undo)
ALTER TABLE edits ADD COLUMN old_score REAL;
ALTER TABLE edits ADD COLUMN old_label TEXT;
ALTER TABLE edits ADD COLUMN old_signals TEXT;
-- text search: trigram index over the normalised source and current English of every pair
CREATE VIRTUAL TABLE pair_search USING fts5(source, target, tokenize='trigram');
INSERT INTO pair_search (rowid, source, target)
    SELECT t.id, {_normalise_sql(pair_source.format(id="t.id"))}, {_normalise_sql(current_text.format(id="t.id"))}
    FROM translations t;
CREATE TRIGGER pair_search_add AFTER INSERT ON translations BEGIN
    INSERT INTO pair_search (rowid, source, target)
    VALUES (NEW.id, {_normalise_sql(pair_source.format(id="NEW.id"))}, {_normalise_sql("NEW.text")});
END;
CREATE TRIGGER pair_search_edit AFTER INSERT ON edits BEGIN
    UPDATE pair_search SET target = {_normalise_sql("NEW.text")} WHERE rowid = NEW.translation_id;
END;
CREATE TRIGGER pair_search_undo AFTER UPDATE OF undone_at ON edits BEGIN
    UPDATE pair_search SET target = {_normalise_sql(current_text.format(id="NEW.translation_id"))}
    WHERE rowid = NEW.translation_id;
END;
CREATE TRIGGER pair_search_remove AFTER DELETE ON translations BEGIN
    DELETE FROM pair_search WHERE rowid = OLD.id;
END;
"""


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
                for statement in _split_sql(sql if sql is not None else _review_migration()):
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
       t.reject_reason, t.reject_comment,
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
