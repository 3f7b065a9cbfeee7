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
    UNIQUE (document_id, position)
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
    model_id INTEGER REFERENCES models(id),               -- the MT model (the bridge model for alignments)
    run_id INTEGER REFERENCES runs(id),
    origin TEXT NOT NULL DEFAULT 'mt',                    -- 'mt' or 'human' (aligned existing translation)
    text TEXT NOT NULL,                                   -- as produced; never overwritten
    bridge TEXT,                                          -- for aligned pairs: the MT of the source
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','approved','rejected','edited')),
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX translations_unique ON translations(segment_id, segment_count, model_id, origin, text)
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
]


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

    def add_segments(self, document_id: int, segments: Iterable[NewSegment]) -> list[int]:
        """Insert segments that are not stored yet; return the ids of all of them, in order."""
        ids = []
        with self.transaction() as db:
            for s in segments:
                db.execute(
                    "INSERT OR IGNORE INTO segments (document_id, position, start, end, sentence, part, text,"
                    " text_hash) VALUES (?,?,?,?,?,?,?,?)",
                    (document_id, s.position, s.start, s.end, s.sentence, s.part, s.text, text_hash(s.text)))
                ids.append(db.execute("SELECT id FROM segments WHERE document_id=? AND position=?",
                                      (document_id, s.position)).fetchone()[0])
        return ids

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

    def cached_translation(self, source: str, model_id: int) -> sqlite3.Row | None:
        """A stored machine translation of the same source text by the same model, with its scores."""
        return self.db.execute(
            "SELECT t.text, sc.score, sc.label, sc.signals FROM segments s JOIN translations t ON t.segment_id = s.id"
            " LEFT JOIN scores sc ON sc.translation_id = t.id"
            " WHERE s.text_hash=? AND s.text=? AND t.model_id=? AND t.origin='mt' LIMIT 1",
            (text_hash(source), source, model_id)).fetchone()

    def add_translation(self, db: sqlite3.Connection, segment_id: int, text: str, model_id: int | None,
                        run_id: int, score: float, label: str, signals: dict, origin: str = "mt",
                        segment_count: int = 1, bridge: str | None = None) -> int | None:
        """Insert one pair and its scores inside the caller's transaction; None if it already exists."""
        cur = db.execute(
            "INSERT OR IGNORE INTO translations (segment_id, segment_count, model_id, run_id, origin, text, bridge,"
            " created_at) VALUES (?,?,?,?,?,?,?,?)",
            (segment_id, segment_count, model_id, run_id, origin, text, bridge, now()))
        if cur.rowcount == 0:
            return None
        db.execute("INSERT INTO scores (translation_id, score, label, signals) VALUES (?,?,?,?)",
                   (cur.lastrowid, score, label, json.dumps(signals, ensure_ascii=False)))
        return cur.lastrowid

    # -- reading pairs ------------------------------------------------------------------------
    def iter_pairs(self, min_score: float | None = None, status: str | None = None,
                   batch: int = 1000) -> Iterator[sqlite3.Row]:
        """Stream every pair with its source, newest reviewed text, scores and provenance, in id order."""
        where, args = [], []
        if min_score is not None:
            where.append("sc.score >= ?")
            args.append(min_score)
        if status is not None:
            where.append("t.status = ?")
            args.append(status)
        last_id = 0
        while True:
            rows = self.db.execute(
                PAIR_SELECT + " WHERE t.id > ?" + "".join(" AND " + w for w in where) + " ORDER BY t.id LIMIT ?",
                (last_id, *args, batch)).fetchall()
            if not rows:
                return
            yield from rows
            last_id = rows[-1]["id"]

    def counts(self) -> dict:
        one = lambda sql: self.db.execute(sql).fetchone()[0]  # noqa: E731
        return {"documents": one("SELECT COUNT(*) FROM documents"),
                "segments": one("SELECT COUNT(*) FROM segments"),
                "translations": one("SELECT COUNT(*) FROM translations")}


# The source of a pair is the document text from its first segment's start to its last segment's end,
# so pairs covering several segments (alignments) keep the exact original text between them.
PAIR_SELECT = """
SELECT t.id, t.origin, t.status, t.created_at, t.text AS mt_text, t.bridge, t.segment_count,
       COALESCE((SELECT e.text FROM edits e WHERE e.translation_id = t.id ORDER BY e.id DESC LIMIT 1), t.text)
           AS target,
       s.start, s.sentence, s.part, s.position,
       COALESCE((SELECT s2.end FROM segments s2 WHERE s2.document_id = s.document_id
                 AND s2.position = s.position + t.segment_count - 1), s.end) AS end,
       d.id AS document_id, d.path AS document, d.sha256 AS document_sha256,
       m.name AS model, m.weights_sha256 AS model_sha256,
       sc.score, sc.label, sc.signals,
       substr(d.text, s.start + 1,
              COALESCE((SELECT s2.end FROM segments s2 WHERE s2.document_id = s.document_id
                        AND s2.position = s.position + t.segment_count - 1), s.end) - s.start) AS source
FROM translations t
JOIN segments s ON s.id = t.segment_id
JOIN documents d ON d.id = s.document_id
LEFT JOIN models m ON m.id = t.model_id
LEFT JOIN scores sc ON sc.translation_id = t.id
"""


def _split_sql(sql: str) -> list[str]:
    statements, current = [], []
    for line in sql.splitlines():
        current.append(line.split("--", 1)[0] if "--" in line else line)
        if line.rstrip().endswith(";") and sqlite3.complete_statement("\n".join(current)):
            statements.append("\n".join(current))
            current = []
    if "".join(current).strip():
        statements.append("\n".join(current))
    return [s for s in statements if s.strip()]


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
