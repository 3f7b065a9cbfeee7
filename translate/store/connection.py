"""Opening a store file: the SQLite connection (WAL, busy timeout, read-only and immutable opening),
write transactions, schema migration, and the one-line errors a user can cause.

Several processes may use one store at once (runs, exports, the review page): every write is a short
``BEGIN IMMEDIATE`` transaction, waits up to ``BUSY_TIMEOUT_S`` for another writer, and every insert
that two runs could race on is an upsert (``ON CONFLICT``), so concurrent runs both finish. Migrations
take the write lock and re-read the applied versions inside it.
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from . import schema

DEFAULT_DB = Path("aligned") / "corpus.sqlite"
# How long a write waits for another process's write transaction before failing "locked". Every write
# transaction of this program is short (one chunk of a run, one review action), so a wait this long means
# something else holds the store: a stuck or foreign program. TRANSLATE_BUSY_TIMEOUT (seconds) overrides it.
BUSY_TIMEOUT_S = 30.0


# One lock per store file for the write transactions of this process's threads (the review server's
# request threads): they queue on it and start the moment the previous one commits, instead of polling
# SQLite's busy handler, whose growing sleeps (up to 100 ms) made the slowest review actions wait for
# nothing. Other processes still meet SQLite's own lock. Waited for at most the busy timeout, then
# SQLite decides as before (so a thread that writes while holding another transaction cannot hang).
_WRITE_LOCKS: dict[str, threading.Lock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def _write_lock(path: Path) -> threading.Lock:
    key = str(path.resolve())
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(key, threading.Lock())


class StoreError(Exception):
    """A store that cannot be opened or used; the message names the file."""


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



def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


class Connection:
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
        if {m[0] for m in schema.MIGRATIONS} - applied:
            # behind this program: upgrade it if this user can write it, then read the upgraded store
            try:
                type(self)(self.path, create=False).close()
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

    def __enter__(self):
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
        lock = _write_lock(self.path)
        locked = lock.acquire(timeout=busy_timeout())
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
        finally:
            if locked:
                lock.release()

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
        unknown = applied - {m[0] for m in schema.MIGRATIONS}
        if unknown:
            raise StoreError(f"{self.path}: store schema version {max(unknown)} is newer than this program "
                             f"({max(m[0] for m in schema.MIGRATIONS)})")

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
        for version, name, sql in sorted(schema.MIGRATIONS):
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
                for statement in schema.split_sql(sql if sql is not None else schema.review_migration()):
                    db.execute(statement)
                db.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, name, now()))

