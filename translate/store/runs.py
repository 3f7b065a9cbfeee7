"""Run bookkeeping: models, runs and their liveness locks, and the claims that split work between
runs working on the same documents at once.

A run that stops before its end (a signal, an error, a kill) leaves its row in ``runs`` as
'interrupted', either itself or, when it was killed, through the next run (see ``start_run``).
"""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from .connection import _chunks, now
from .schema import RUN_ORIGINS

try:
    import fcntl
except ImportError:             # not on Windows: killed runs are then never marked interrupted
    fcntl = None


class RunBook:
    """Models, runs, run locks and claims (a part of ``Store``)."""

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

    def latest_productive_run(self, kind: str = "translate") -> int | None:
        """The newest run of this kind that stored translations (a re-run that found everything done
        stored none: its input was translated by the runs before it)."""
        return self.db.execute("SELECT MAX(r.id) FROM runs r WHERE r.kind = ? AND EXISTS"
                               " (SELECT 1 FROM translations t WHERE t.run_id = r.id)", (kind,)).fetchone()[0]

    def run_output(self, run_id: int) -> list[sqlite3.Row] | None:
        """What a translate run's input reads as in its model's translations: (document_id, start, text)
        of every segment of the documents the run stored pairs for, in document and text order; None if
        there is no such run.

        A run re-segmenting a document (another --max-words) stores only the spans that changed; the spans
        both segmentations share keep the pair an earlier run stored. So while the run's spans are its
        document's current segmentation, the document reads as its current spans, each with this model's
        pair (from any run); a run whose spans a later run replaced reads as its own pairs alone."""
        run = self.db.execute("SELECT model_id FROM runs WHERE id = ?", (run_id,)).fetchone()
        if run is None:
            return None
        rows = []
        documents = [r[0] for r in self.db.execute(
            "SELECT DISTINCT s.document_id FROM translations t JOIN segments s ON s.id = t.segment_id"
            " WHERE t.run_id = ? ORDER BY s.document_id", (run_id,))]
        for document_id in documents:
            replaced = self.db.execute(
                "SELECT 1 FROM translations t JOIN segments s ON s.id = t.segment_id WHERE t.run_id = ?"
                " AND s.document_id = ? AND s.superseded_at IS NOT NULL LIMIT 1", (run_id, document_id)).fetchone()
            if replaced:
                rows += self.db.execute(
                    "SELECT s.document_id, s.start, t.text FROM translations t JOIN segments s ON s.id = t.segment_id"
                    " WHERE t.run_id = ? AND s.document_id = ? ORDER BY s.start, t.id", (run_id, document_id)).fetchall()
            else:
                rows += self.db.execute(
                    "SELECT s.document_id, s.start, t.text FROM segments s JOIN translations t ON t.segment_id = s.id"
                    f" WHERE s.document_id = ? AND s.superseded_at IS NULL AND t.origin IN {RUN_ORIGINS} AND t.model_id IS ?"
                    " ORDER BY s.start, t.id", (document_id, run["model_id"])).fetchall()
        return rows

