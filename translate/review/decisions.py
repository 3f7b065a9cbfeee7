"""What a reviewer changes: approve, reject (with a reason), edit (scored again), bulk approve, undo.

Every change is one short transaction: the new status on the pair, a review_log row (old/new status,
reviewer, time, reason) and for edits a new edits row (the original text stays in translations.text).
An undo is a log row of its own (action 'undo', ``undoes`` = the entry it reverts); undoing an edit sets
edits.undone_at, so the edit stays as history but is no longer the pair's text, and puts back the score
the pair had before it. A bulk approve is one batch of log rows that one undo reverts.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

from ..store import CURRENT_EDIT_TEXT, PAIR_SOURCE, REJECT_REASONS, Store, now
from .queries import ORDERS, Filter

MAX_COMMENT = 500

# (source, English) -> (score, label, signals) of an edited pair; the review app passes score.score_pair
Scorer = Callable[[str, str], tuple[float, str, dict]]


class ReviewDecisions:
    def __init__(self, store: Store, scorer: Scorer | None = None):
        self.store = store
        self.db = store.db
        self.scorer = scorer

    def set_status(self, pair_id: int, new_status: str, reviewer: str, action: str | None = None,
                   comment: str | None = None) -> int | None:
        """Approve, reject or reset one pair; return the review_log id (None when it already has that status).

        Raises KeyError for an unknown pair, ValueError for a status review cannot set."""
        if new_status not in ("approved", "rejected", "pending"):
            raise ValueError(f"cannot set status {new_status!r} directly")
        action = action or {"approved": "approve", "rejected": "reject", "pending": "reset"}[new_status]
        with self.store.transaction() as db:
            row = db.execute("SELECT status FROM translations WHERE id = ?", (pair_id,)).fetchone()
            if row is None:
                raise KeyError(pair_id)
            if row["status"] == new_status:
                return None
            db.execute("UPDATE translations SET status = ?, reject_reason = NULL, reject_comment = NULL"
                       " WHERE id = ?", (new_status, pair_id))
            return _log(db, pair_id, action, row["status"], new_status, reviewer, comment=comment)

    def confirm(self, pair_id: int, reviewer: str, action: str, comment: str | None = None) -> int:
        """Log that ``reviewer`` keeps the pair's status as it is (a lead settling a pair with the
        decision it has); return the log id."""
        with self.store.transaction() as db:
            row = db.execute("SELECT status FROM translations WHERE id = ?", (pair_id,)).fetchone()
            if row is None:
                raise KeyError(pair_id)
            return _log(db, pair_id, action, row["status"], row["status"], reviewer, comment=comment)

    def set_reason(self, pair_id: int, reason: str | None, comment: str | None, reviewer: str) -> int | None:
        """Give a rejected pair its reason (one of REJECT_REASONS) and optional comment."""
        if reason is not None and reason not in REJECT_REASONS:
            raise ValueError(f"unknown reason {reason!r}: use one of {', '.join(REJECT_REASONS)}")
        comment = (comment or "").strip()[:MAX_COMMENT] or None
        with self.store.transaction() as db:
            row = db.execute("SELECT status, reject_reason, reject_comment FROM translations WHERE id = ?",
                             (pair_id,)).fetchone()
            if row is None:
                raise KeyError(pair_id)
            if row["status"] != "rejected":
                raise ValueError(f"pair {pair_id} is {row['status']}, not rejected: reject it first")
            if (row["reject_reason"], row["reject_comment"]) == (reason, comment):
                return None
            db.execute("UPDATE translations SET reject_reason = ?, reject_comment = ? WHERE id = ?",
                       (reason, comment, pair_id))
            return _log(db, pair_id, "reason", "rejected", "rejected", reviewer, reason=reason, comment=comment)

    def edit(self, pair_id: int, text: str, reviewer: str) -> int | None:
        """Store a reviewer's English for one pair (status 'edited'), scored again; return the log id.

        None when the text is the pair's current text."""
        text = text.strip()
        if not text:
            raise ValueError("empty translation: reject the pair instead")
        # scored before the write transaction: the first scoring loads the lexicons (seconds), and every
        # other reviewer's action would wait for it behind the write lock
        scored = None
        if self.scorer is not None:
            source = self.db.execute(f"SELECT {PAIR_SOURCE} FROM translations t JOIN segments s ON s.id = t.segment_id"
                                     " JOIN documents d ON d.id = s.document_id WHERE t.id = ?", (pair_id,)).fetchone()
            if source is None:
                raise KeyError(pair_id)
            scored = self.scorer(source[0], text)
        with self.store.transaction() as db:
            row = db.execute(
                f"SELECT t.status, COALESCE({CURRENT_EDIT_TEXT}, t.text) AS target, {PAIR_SOURCE} AS source,"
                " sc.score, sc.label, sc.signals FROM translations t JOIN segments s ON s.id = t.segment_id"
                " JOIN documents d ON d.id = s.document_id LEFT JOIN scores sc ON sc.translation_id = t.id"
                " WHERE t.id = ?", (pair_id,)).fetchone()
            if row is None:
                raise KeyError(pair_id)
            if row["target"] == text:
                return None
            edit_id = db.execute(
                "INSERT INTO edits (translation_id, text, reviewer, created_at, old_score, old_label, old_signals)"
                " VALUES (?,?,?,?,?,?,?)",
                (pair_id, text, reviewer, now(), row["score"], row["label"], row["signals"])).lastrowid
            if scored is not None:
                score, label, signals = scored
                signals = {**signals, "edited": True}
                db.execute("INSERT INTO scores (translation_id, score, label, signals) VALUES (?,?,?,?)"
                           " ON CONFLICT (translation_id) DO UPDATE SET score = excluded.score,"
                           " label = excluded.label, signals = excluded.signals",
                           (pair_id, score, label, json.dumps(signals, ensure_ascii=False)))
            db.execute("UPDATE translations SET status = 'edited', reject_reason = NULL, reject_comment = NULL"
                       " WHERE id = ?", (pair_id,))
            return _log(db, pair_id, "edit", row["status"], "edited", reviewer, edit_id=edit_id)

    def bulk_approve_count(self, flt: Filter, min_score: float) -> int:
        """How many pending pairs in this filter score at least ``min_score`` (what bulk_approve would take)."""
        sql, args = _bulk_candidates(flt, min_score)
        return self.db.execute(f"SELECT COUNT(*) FROM ({sql})", args).fetchone()[0]

    def bulk_approve(self, flt: Filter, min_score: float, reviewer: str) -> tuple[int | None, list[int]]:
        """Approve every pending pair of the filter (all pages) scoring at least ``min_score``, as one batch.

        Pairs a reviewer already decided on are left alone. Returns (batch id, pair ids approved)."""
        sql, args = _bulk_candidates(flt, min_score)
        with self.store.transaction() as db:
            ids = [r[0] for r in db.execute(sql, args)]
            if not ids:
                return None, []
            batch = db.execute("SELECT COALESCE(MAX(batch), 0) + 1 FROM review_log").fetchone()[0]
            created = now()
            db.executemany("UPDATE translations SET status = 'approved' WHERE id = ?", [(i,) for i in ids])
            db.executemany(
                "INSERT INTO review_log (translation_id, action, old_status, new_status, reviewer, created_at, batch)"
                " VALUES (?, 'bulk-approve', 'pending', 'approved', ?, ?, ?)",
                [(i, reviewer, created, batch) for i in ids])
        return batch, ids

    def undo(self, log_ids: list[int], reviewer: str, batch: int | None = None) -> tuple[list[int], list[str]]:
        """Revert these review_log entries (or a whole batch), newest first, in one transaction.

        An entry can be undone while it is the pair's latest change still in force (every later entry of
        that pair is an undo or undone). Returns (pair ids restored, reasons for entries not undone)."""
        restored, skipped = [], []
        with self.store.transaction() as db:
            if batch is not None:
                log_ids = [r[0] for r in db.execute("SELECT id FROM review_log WHERE batch = ?", (batch,))]
                if not log_ids:
                    skipped.append(f"batch {batch}: nothing to undo")
            for log_id in sorted(set(log_ids), reverse=True):
                entry = db.execute("SELECT * FROM review_log WHERE id = ?", (log_id,)).fetchone()
                if entry is None or entry["action"] == "undo":
                    skipped.append(f"review entry {log_id}: nothing to undo")
                    continue
                pair_id = entry["translation_id"]
                later = db.execute("SELECT id, action, undoes FROM review_log WHERE translation_id = ? AND id >= ?",
                                   (pair_id, log_id)).fetchall()
                undone = {r["undoes"] for r in later if r["action"] == "undo"}
                if log_id in undone:
                    skipped.append(f"pair {pair_id}: that change was already undone")
                    continue
                if any(r["action"] != "undo" and r["id"] not in undone and r["id"] != log_id for r in later):
                    skipped.append(f"pair {pair_id}: changed again since; undo the newer change first")
                    continue
                db.execute("UPDATE translations SET status = ? WHERE id = ?", (entry["old_status"], pair_id))
                if entry["edit_id"] is not None:
                    edit = db.execute("SELECT old_score, old_label, old_signals FROM edits WHERE id = ?",
                                      (entry["edit_id"],)).fetchone()
                    db.execute("UPDATE edits SET undone_at = ? WHERE id = ?", (now(), entry["edit_id"]))
                    if edit["old_score"] is not None:
                        db.execute("UPDATE scores SET score = ?, label = ?, signals = ? WHERE translation_id = ?",
                                   (edit["old_score"], edit["old_label"], edit["old_signals"], pair_id))
                _log(db, pair_id, "undo", entry["new_status"], entry["old_status"], reviewer,
                     edit_id=entry["edit_id"], undoes=log_id)
                _restore_reason(db, pair_id)
                restored.append(pair_id)
        return restored, skipped


def _bulk_candidates(flt: Filter, min_score: float) -> tuple[str, list]:
    """The query of the pair ids a bulk approve takes: the filter's pending pairs scoring at least
    ``min_score`` (and at least the filter's own lower bound)."""
    where, args = Filter(**{**flt.__dict__, "status": "pending", "min_score": _max(flt.min_score, min_score)}
                         ).terms(ORDERS["score"])
    return ("SELECT t.id FROM translations t JOIN segments s ON s.id = t.segment_id"
            " JOIN scores sc ON sc.translation_id = t.id WHERE " + " AND ".join(where)), args


def _restore_reason(db: sqlite3.Connection, pair_id: int) -> None:
    """After an undo: a rejected pair takes the reason of its latest reject/reason entry still in force."""
    reason = comment = None
    if db.execute("SELECT status FROM translations WHERE id = ?", (pair_id,)).fetchone()[0] == "rejected":
        entries = db.execute("SELECT id, action, undoes, reason, comment FROM review_log WHERE translation_id = ?"
                             " ORDER BY id", (pair_id,)).fetchall()
        undone = {e["undoes"] for e in entries if e["action"] == "undo"}
        for e in reversed(entries):
            if e["action"] in ("reject", "reason") and e["id"] not in undone:
                reason, comment = e["reason"], e["comment"]
                break
    db.execute("UPDATE translations SET reject_reason = ?, reject_comment = ? WHERE id = ?", (reason, comment, pair_id))


def _log(db: sqlite3.Connection, pair_id: int, action: str, old_status: str, new_status: str, reviewer: str, *,
         edit_id: int | None = None, undoes: int | None = None, reason: str | None = None,
         comment: str | None = None) -> int:
    return db.execute(
        "INSERT INTO review_log (translation_id, action, old_status, new_status, edit_id, reviewer, created_at,"
        " undoes, reason, comment) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (pair_id, action, old_status, new_status, edit_id, reviewer, now(), undoes, reason, comment)).lastrowid


def _max(a: float | None, b: float) -> float:
    return b if a is None else max(a, b)
