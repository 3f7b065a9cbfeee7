"""The corpus store: one SQLite file (WAL mode) of documents, segments, translations, scores and reviews.

The schema changes only through the numbered migrations in ``MIGRATIONS``; each applied migration is
recorded in ``schema_migrations``. Machine output is never overwritten: review edits are new rows in
``edits`` and every status change is a row in ``review_log``. ``scores`` holds the score of a pair's
current text: an edit is scored again, and keeps the score the pair had before it (an undo puts it back).
The review page's reads and writes are in ``translate.review`` (queries, decisions).

Several processes may use one store at once (runs, exports, the review page): every write is a short
``BEGIN IMMEDIATE`` transaction, waits up to ``BUSY_TIMEOUT_S`` for another writer, and every insert
that two runs could race on is an upsert (``ON CONFLICT``), so concurrent runs both finish. Migrations
take the write lock and re-read the applied versions inside it.

``Store(path, readonly=True)`` reads a store that cannot be written (a read-only file, a folder that
cannot be written, another user's store); see ``Store.__init__``.

A run that stops before its end (a signal, an error, a kill) leaves its row in ``runs`` as
'interrupted', either itself or, when it was killed, through the next run (see ``start_run``).
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

try:
    import fcntl
except ImportError:             # not on Windows: killed runs are then never marked interrupted
    fcntl = None

DEFAULT_DB = Path("aligned") / "corpus.sqlite"
STATUSES = ("pending", "approved", "rejected", "edited")
# why a reviewer rejected a pair (review page keys 1-7, exports' reject_reason)
REJECT_REASONS = ("misaligned", "omission", "addition", "untranslated", "mistranslation", "poor-english", "other")
# How long a write waits for another process's write transaction before failing "locked". Every write
# transaction of this program is short (one chunk of a run, one review action), so a wait this long means
# something else holds the store: a stuck or foreign program. TRANSLATE_BUSY_TIMEOUT (seconds) overrides it.
BUSY_TIMEOUT_S = 30.0


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
    # (versions need not be contiguous in a store: ``migrate`` applies every listed version a store has
    # not recorded, in number order, so a store that got 4 first gets 3 after it)
    #
    # A document run again with other segmentation settings (--max-words) gets a second, overlapping
    # set of spans. The later run's spans are the document's current segmentation; the spans they
    # replace are marked superseded (kept, with their pairs and reviews). Stores made before this
    # migration: a span is superseded when a later-inserted span with a machine translation overlaps it
    # (a run inserts its spans in order; a span both segmentations share keeps its first id and does not
    # overlap the spans of either).
    #
    # Runs working on the same documents at the same time split the work: a run claims the segments of
    # a chunk before it translates them, and leaves alone those another running run claimed (see
    # claim_segments). Claims live as long as their run.
    (4, "superseded segmentations, run claims", """
CREATE TABLE claims (
    segment_id INTEGER NOT NULL REFERENCES segments(id),
    model_id INTEGER NOT NULL REFERENCES models(id),
    run_id INTEGER NOT NULL REFERENCES runs(id),
    PRIMARY KEY (segment_id, model_id)
);
CREATE INDEX claims_run ON claims(run_id);
ALTER TABLE segments ADD COLUMN superseded_at TEXT;   -- set when a later run segmented this text differently
UPDATE segments SET superseded_at = strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')
WHERE EXISTS (SELECT 1 FROM segments later
              WHERE later.document_id = segments.document_id AND later.id > segments.id
                AND later.start < segments.end AND later.end > segments.start
                AND EXISTS (SELECT 1 FROM translations t WHERE t.segment_id = later.id AND t.origin = 'mt'));
"""),
    # review counts subtract the (few) pairs of superseded spans from counts over all pairs, which read
    # the status index alone: this finds those spans without reading every segment
    (5, "index of superseded spans", """
CREATE INDEX segments_superseded ON segments(id) WHERE superseded_at IS NOT NULL;
"""),
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
# The current segmentation (alias s: segments): the spans of the latest run's segmentation of each
# document. Spans a later run with other segmentation settings replaced are superseded (kept as
# history, with their pairs and reviews).
CURRENT_SEGMENT = "s.superseded_at IS NULL"
# Pairs shown by default (exports, review), aliases t (translations) and s (its first segment): machine
# translations of the current segmentation, and every aligned human translation (an alignment brings
# its own segmentation of the text, which runs do not replace).
CURRENT_PAIR = f"(t.origin <> 'mt' OR {CURRENT_SEGMENT})"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def busy_timeout() -> float:
    """Seconds a write waits for another process's transaction (BUSY_TIMEOUT_S, or TRANSLATE_BUSY_TIMEOUT)."""
    try:
        return max(0.0, float(os.environ.get("TRANSLATE_BUSY_TIMEOUT", BUSY_TIMEOUT_S)))
    except ValueError:
        return BUSY_TIMEOUT_S


def describe_error(path: Path | str, exc: sqlite3.Error) -> str:
    """One line for an SQLite error a user can cause: the store, what happened and what to do.
    (The error name is there from Python 3.11; the message text is SQLite's own in every version.)"""
    name = getattr(exc, "sqlite_errorname", "") or ""
    message = str(exc)
    if "READONLY" in name or "readonly database" in message:
        return (f"{path}: the store cannot be written (read-only file or folder); fix the permissions, "
                f"or use a command that only reads it (export, eval)")
    if name == "SQLITE_FULL" or "disk is full" in message:
        return (f"{path}: the disk is full; nothing of the unfinished write was kept; free space and run the "
                f"same command again")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in message:
        # the kind is named when it is not a plain wait that timed out (e.g. SQLITE_BUSY_SNAPSHOT)
        kind = f", {name}" if name not in ("", "SQLITE_BUSY") else ""
        return (f"{path}: the store is locked by another process (waited {busy_timeout():g} s{kind}); run the "
                f"command again when it is done (TRANSLATE_BUSY_TIMEOUT sets the wait in seconds)")
    if name == "SQLITE_NOTADB" or "not a database" in message:
        return f"{path}: not a usable translate store (not an SQLite database)"
    if name == "SQLITE_CORRUPT" or "malformed" in message:
        return f"{path}: the store file is damaged ({message}); restore it from a backup"
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in message:
        return f"{path}: cannot open the store (missing folder or no permission)"
    if name.startswith("SQLITE_IOERR") or "disk I/O error" in message:
        return f"{path}: disk I/O error ({message}); check the disk and free space, then run the same command again"
    return f"{path}: store error ({message})"


@dataclass
class NewSegment:
    position: int
    start: int
    end: int
    sentence: int
    part: int
    text: str


@dataclass
class SegmentsAdded:
    ids: list[int]                  # the segments' ids, in the order given
    superseded: int                 # spans of an earlier segmentation these replaced
    superseded_reviewed: int        # reviewed machine-translated pairs among those (kept, not exported)


class Store:
    """A connection to one corpus file. Writes go through ``transaction()``.

    ``Store(path)`` opens (and with ``create``, makes) a store for reading and writing, and brings its
    schema up to date. It fails at once with a StoreError when the store cannot be written.

    ``Store(path, create=False, readonly=True)`` opens an existing store for reading only, also when it
    cannot be written: a read-only file, a folder that cannot be written, another user's store. The
    connection is opened with SQLite's ``mode=ro``; a WAL store also needs its ``-shm`` file, which
    SQLite creates beside the store, so when the folder cannot be written and no ``-wal`` file with
    unmerged changes is left, the file alone is the whole store and it is opened ``immutable=1``
    (changes another user makes meanwhile are then not seen by this connection). A store whose schema
    is behind this program is upgraded first when it can be written, else refused. Every write on a
    read-only Store fails with sqlite3.OperationalError (readonly). Exports, eval and browsing in the
    review page use this.
    """

    def __init__(self, path: Path | str, create: bool = True, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        self._run_locks: dict[int, int] = {}        # run id -> fd of its lock file (see start_run)
        if not self.path.exists():
            if not create or readonly:
                raise StoreError(f"{self.path}: no such store")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"{self.path.parent}: cannot create the store's folder ({exc.strerror})") from None
        elif self.path.is_dir():
            raise StoreError(f"{self.path}: is a directory, not a store file")
        self.db: sqlite3.Connection | None = None
        try:
            if readonly:
                self._open_readonly()
            else:
                self._open_writable()
        except sqlite3.Error as exc:
            self.close()
            raise StoreError(describe_error(self.path, exc)) from None
        except StoreError:
            self.close()
            raise

    def _connect(self, target: str, uri: bool = False) -> sqlite3.Connection:
        timeout = busy_timeout()
        db = sqlite3.connect(target, uri=uri, timeout=timeout, isolation_level=None, check_same_thread=False)
        db.row_factory = sqlite3.Row
        db.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        return db

    def _open_writable(self) -> None:
        self.db = self._connect(str(self.path))
        self._enter_wal()
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.execute("PRAGMA synchronous=NORMAL")
        # fail now, before a run loads its model, when the file or its folder cannot be written:
        # taking the write lock is the check SQLite itself makes
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("ROLLBACK")
        self.migrate()

    def _enter_wal(self) -> None:
        """Switch to WAL. On a new file two processes doing this at once can each hold the shared lock the
        other needs to go exclusive; SQLite then answers SQLITE_BUSY at once, without waiting (a deadlock
        its busy handler cannot resolve), so the switch is retried here for up to the busy timeout."""
        deadline = time.monotonic() + busy_timeout()
        pause = 0.01
        while True:
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                busy = getattr(exc, "sqlite_errorname", "").startswith("SQLITE_BUSY") or "locked" in str(exc)
                if not busy or time.monotonic() > deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 0.5)

    def _open_readonly(self) -> None:
        uri = self.path.resolve().as_uri()
        self.db = self._connect(uri + "?mode=ro", uri=True)
        try:
            self._check_store_tables()
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorname", "") not in ("", "SQLITE_READONLY_DIRECTORY", "SQLITE_CANTOPEN",
                                                              "SQLITE_READONLY_CANTINIT", "SQLITE_READONLY"):
                raise
            self.db.close()
            wal = self.path.with_name(self.path.name + "-wal")
            if wal.exists() and wal.stat().st_size > 0:
                raise StoreError(f"{self.path}: cannot be read from this folder: {wal.name} holds changes not yet "
                                 f"merged into the store and the folder cannot be written; open it once with "
                                 f"write access (any writing command), then retry") from None
            self.db = self._connect(uri + "?immutable=1", uri=True)
            self._check_store_tables()
        applied = self._applied_versions()
        self._refuse_newer(applied)
        if {m[0] for m in MIGRATIONS} - applied:
            # behind this program: upgrade it if this user can write it, then read the upgraded store
            try:
                Store(self.path, create=False).close()
            except StoreError as exc:
                raise StoreError(f"{self.path}: store schema is older than this program and cannot be upgraded "
                                 f"here ({exc}); open it once with write access") from None
            self.db.close()
            self._open_readonly()

    def close(self) -> None:
        for run_id in list(self._run_locks):
            self._release_run_lock(run_id, remove=False)
        if self.db is not None:
            self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, committed at the end of the block and rolled back on any exception
        (an error, a signal); BEGIN IMMEDIATE takes the write lock at once, so a transaction never fails
        half-way for a lock another writer took after it read."""
        if self.db.in_transaction:
            raise RuntimeError("transaction() inside another transaction")
        try:
            self.db.execute("BEGIN IMMEDIATE")
            yield self.db
            self.db.execute("COMMIT")
        except BaseException:
            # SQLite may have rolled back already (a full disk); a failed ROLLBACK must not hide the error
            if self.db.in_transaction:
                try:
                    self.db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            raise

    # -- schema -------------------------------------------------------------------------------
    def _check_store_tables(self) -> None:
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "schema_migrations" not in tables:
            raise StoreError(f"{self.path}: an SQLite file that is not a translate store")

    def _applied_versions(self) -> set[int]:
        row = self.db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='schema_migrations'").fetchone()
        if row is None:
            return set()
        return {r[0] for r in self.db.execute("SELECT version FROM schema_migrations")}

    def _refuse_newer(self, applied: set[int]) -> None:
        unknown = applied - {m[0] for m in MIGRATIONS}
        if unknown:
            raise StoreError(f"{self.path}: store schema version {max(unknown)} is newer than this program "
                             f"({max(m[0] for m in MIGRATIONS)})")

    def schema_version(self) -> int:
        return max(self._applied_versions(), default=0)

    def migrate(self) -> None:
        """Apply every migration the store has not recorded, in number order (numbers may have gaps: a
        store can hold 4 and still need 3). Each runs in its own BEGIN IMMEDIATE transaction that
        re-reads the applied versions first, so when several processes open a new or old store at once,
        one applies each migration and the others find it done."""
        self._check_store_tables()
        applied = self._applied_versions()
        self._refuse_newer(applied)
        for version, name, sql in sorted(MIGRATIONS):
            if version in applied:
                continue
            # executescript would commit on its own; run each statement inside one transaction instead
            with self.transaction() as db:
                self._check_store_tables()
                applied = self._applied_versions()
                if version in applied:
                    continue            # another process applied it while this one waited for the lock
                db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                           " name TEXT NOT NULL, applied_at TEXT NOT NULL)")
                for statement in _split_sql(sql if sql is not None else _review_migration()):
                    db.execute(statement)
                db.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, name, now()))

    # -- documents and segments ---------------------------------------------------------------
    def add_document(self, path: str, text: str, sha256: str, lang: str = "ar") -> tuple[int, bool]:
        """Return (document id, created). A document already stored (same content) is reused, also when
        another process stores it at the same moment."""
        row = self.db.execute("SELECT id FROM documents WHERE sha256=?", (sha256,)).fetchone()
        if row:
            return row[0], False
        with self.transaction() as db:
            cur = db.execute("INSERT INTO documents (sha256, path, text, lang, added_at) VALUES (?,?,?,?,?)"
                             " ON CONFLICT (sha256) DO NOTHING", (sha256, path, text, lang, now()))
            created = cur.rowcount == 1
            return db.execute("SELECT id FROM documents WHERE sha256=?", (sha256,)).fetchone()[0], created

    # -- models and runs ----------------------------------------------------------------------
    def model_id(self, name: str, weights_sha256: str) -> int:
        row = self.db.execute("SELECT id FROM models WHERE name=? AND weights_sha256=?",
                              (name, weights_sha256)).fetchone()
        if row:
            return row[0]
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO models (name, weights_sha256) VALUES (?,?)", (name, weights_sha256))
            return db.execute("SELECT id FROM models WHERE name=? AND weights_sha256=?",
                              (name, weights_sha256)).fetchone()[0]

    def start_run(self, kind: str, model_id: int | None, options: dict) -> int:
        """Record a new run (status 'running') and mark interrupted the runs left 'running' by processes
        that died (killed, crashed, machine off).

        Liveness is a lock the kernel holds for the run's process: each run creates ``<store>-run<id>.lock``
        beside the store and holds an exclusive flock on it until it finishes or its process ends (the
        kernel drops it on any death, SIGKILL included). A 'running' run whose lock file can be locked (or
        is gone) has no live process; one whose lock is held is still working, in this or another
        process, and is left alone. This needs no clocks or heartbeats (a slow chunk is not mistaken for
        a dead run) and no pids (reused pids and pid namespaces cannot fool it). The check and the new
        row are one transaction, and a run takes its lock before that transaction commits, so no other
        process can see it 'running' without its lock.
        """
        with self.transaction() as db:
            for row in db.execute("SELECT id FROM runs WHERE status='running'").fetchall():
                if row[0] not in self._run_locks and self.run_is_dead(row[0]):
                    db.execute("UPDATE runs SET status='interrupted', finished_at=? WHERE id=?", (now(), row[0]))
                    db.execute("DELETE FROM claims WHERE run_id=?", (row[0],))
            run_id = db.execute("INSERT INTO runs (kind, model_id, options, started_at) VALUES (?,?,?,?)",
                                (kind, model_id, json.dumps(options, ensure_ascii=False), now())).lastrowid
            self._take_run_lock(run_id)
        return run_id

    def finish_run(self, run_id: int, status: str = "done") -> None:
        with self.transaction() as db:
            db.execute("UPDATE runs SET finished_at=?, status=? WHERE id=?", (now(), status, run_id))
            db.execute("DELETE FROM claims WHERE run_id=?", (run_id,))
        self._release_run_lock(run_id, remove=True)

    def claim_segments(self, segment_ids: list[int], model_id: int, run_id: int) -> set[int]:
        """Claim these segments for translation by this run and model; return those another running run
        claimed first (it is translating them: leave them to it). Claims of runs that are over (finished,
        or marked interrupted) are taken over. One short transaction per chunk."""
        if not segment_ids:
            return set()
        taken: set[int] = set()
        with self.transaction() as db:
            db.executemany("INSERT OR IGNORE INTO claims (segment_id, model_id, run_id) VALUES (?,?,?)",
                           [(sid, model_id, run_id) for sid in segment_ids])
            for chunk in _chunks(segment_ids, 500):
                marks = ",".join("?" * len(chunk))
                db.execute(f"UPDATE claims SET run_id=? WHERE model_id=? AND segment_id IN ({marks}) AND run_id<>?"
                           " AND run_id NOT IN (SELECT id FROM runs WHERE status='running')",
                           (run_id, model_id, *chunk, run_id))
                taken.update(r[0] for r in db.execute(
                    f"SELECT segment_id FROM claims WHERE model_id=? AND segment_id IN ({marks}) AND run_id<>?",
                    (model_id, *chunk, run_id)))
        return taken

    def run_saved(self, run_id: int) -> int:
        """Pairs a run has stored (committed) so far."""
        return self.db.execute("SELECT COUNT(*) FROM translations WHERE run_id=?", (run_id,)).fetchone()[0]

    def _run_lock_path(self, run_id: int) -> Path:
        return self.path.with_name(f"{self.path.name}-run{run_id}.lock")

    def _take_run_lock(self, run_id: int) -> None:
        if fcntl is None:
            return
        try:
            fd = os.open(self._run_lock_path(run_id), os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return                  # the run works without it; a later run may then mark it interrupted early
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)   # a new file: nobody else holds it
        except OSError:             # a file system without flock: others then see the run as alive
            pass
        self._run_locks[run_id] = fd

    def _release_run_lock(self, run_id: int, remove: bool) -> None:
        fd = self._run_locks.pop(run_id, None)
        if fd is None:
            return
        if remove:                  # a finished run; an unfinished one leaves its file for the next check
            try:
                self._run_lock_path(run_id).unlink()
            except OSError:
                pass
        os.close(fd)

    def run_is_dead(self, run_id: int) -> bool:
        if fcntl is None:
            return False            # no way to tell: never mark a run that may be alive
        path = self._run_lock_path(run_id)
        try:
            fd = os.open(path, os.O_RDONLY)      # flock needs no write access
        except FileNotFoundError:
            return True             # killed before this scheme existed, or its lock file was removed
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False            # held: the run's process is alive
        else:
            path.unlink(missing_ok=True)
            return True
        finally:
            os.close(fd)

    def latest_run(self, kind: str | None = None) -> int | None:
        """The newest run of this kind (of any kind when None)."""
        if kind is None:
            return self.db.execute("SELECT MAX(id) FROM runs").fetchone()[0]
        return self.db.execute("SELECT MAX(id) FROM runs WHERE kind=?", (kind,)).fetchone()[0]

    def dead_runs_since(self, after: int) -> list[int]:
        """The runs started after run ``after`` still marked 'running' whose process is gone."""
        rows = self.db.execute("SELECT id FROM runs WHERE id > ? AND status = 'running'", (after,)).fetchall()
        return [r[0] for r in rows if self.run_is_dead(r[0])]

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
        One executemany and one SELECT, not a statement per segment: the run calls this per chunk.
        Spans already stored are left as they are (an alignment adds its spans this way: it does not
        replace the segmentation runs made)."""
        if not segments:
            return []
        with self.transaction() as db:
            return self._insert_segments(db, document_id, segments, current=False)

    def add_current_segments(self, document_id: int, segments: list[NewSegment]) -> SegmentsAdded:
        """Like add_segments, for a run: these consecutive spans are now the document's current
        segmentation over the text they cover. Spans stored earlier that overlap them without being
        one of them (another --max-words) are marked superseded, in the same transaction; spans
        superseded earlier that are among them become current again."""
        if not segments:
            return SegmentsAdded([], 0, 0)
        with self.transaction() as db:
            ids = self._insert_segments(db, document_id, segments, current=True)
            new_spans = {(s.start, s.end) for s in segments}
            replaced = [r[0] for r in db.execute(
                "SELECT id, start, end FROM segments WHERE document_id=? AND superseded_at IS NULL"
                " AND start < ? AND end > ?", (document_id, max(s.end for s in segments),
                                               min(s.start for s in segments)))
                if (r[1], r[2]) not in new_spans]
            reviewed = 0
            for chunk in _chunks(replaced, 500):
                marks = ",".join("?" * len(chunk))
                db.execute(f"UPDATE segments SET superseded_at=? WHERE id IN ({marks})", (now(), *chunk))
                reviewed += db.execute(f"SELECT COUNT(*) FROM translations WHERE segment_id IN ({marks})"
                                       " AND origin='mt' AND status <> 'pending'", chunk).fetchone()[0]
        return SegmentsAdded(ids, len(replaced), reviewed)

    def _insert_segments(self, db: sqlite3.Connection, document_id: int, segments: list[NewSegment],
                         current: bool) -> list[int]:
        # an upsert, not select-then-insert: a concurrent run inserting the same spans cannot collide
        if current:
            # a span made current again takes this segmentation's numbering; rows that need no change
            # are not rewritten (a re-run of a finished document writes nothing)
            conflict = ("DO UPDATE SET superseded_at=NULL, position=excluded.position, sentence=excluded.sentence,"
                        " part=excluded.part WHERE superseded_at IS NOT NULL OR position<>excluded.position"
                        " OR sentence<>excluded.sentence OR part<>excluded.part")
        else:
            conflict = "DO NOTHING"
        db.executemany(
            "INSERT INTO segments (document_id, position, start, end, sentence, part, text, text_hash)"
            f" VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (document_id, start, end) {conflict}",
            [(document_id, s.position, s.start, s.end, s.sentence, s.part, s.text, text_hash(s.text))
             for s in segments])
        starts = [s.start for s in segments]
        ids = {(r[1], r[2]): r[0] for r in db.execute(
            "SELECT id, start, end FROM segments WHERE document_id=? AND start BETWEEN ? AND ?",
            (document_id, min(starts), max(starts)))}
        return [ids[(s.start, s.end)] for s in segments]

    def superseded_reviewed(self) -> int:
        """Reviewed machine-translated pairs whose spans a later segmentation replaced (kept; exports
        leave them out unless asked)."""
        return self.db.execute(
            "SELECT COUNT(*) FROM translations t JOIN segments s ON s.id = t.segment_id"
            f" WHERE NOT {CURRENT_PAIR} AND t.status <> 'pending'").fetchone()[0]

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
                   batch: int = 1000, include_superseded: bool = False) -> Iterator[sqlite3.Row]:
        """Stream every pair with its source, newest reviewed text, scores and provenance, in id order.

        Only pairs of the current segmentation (CURRENT_PAIR), so no source text comes twice from one
        model; ``include_superseded`` adds the machine translations of spans a later run segmented
        differently."""
        where, args = _pair_filters(status, min_score)
        if not include_superseded:
            where.append(CURRENT_PAIR)
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
