"""Review decisions written into a pair's history from elsewhere: a decision carried over to the same
sentence of a new version of a document, and the status, reviewer, reject reason and edit that a
translation memory of ours carries (an export imported again). Each is an ordinary ``review_log`` entry
(action 'carry' or 'import') with its edit in ``edits``, so the review page shows it and an undo reverts it.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from .connection import now

DECIDED = ("approved", "rejected", "edited")


@dataclass
class Decision:
    status: str                        # approved, rejected or edited
    reviewer: str
    reason: str | None = None          # reject reason and comment
    comment: str | None = None
    edit_text: str | None = None       # the reviewer's English, for an edited pair
    edit_score: tuple[float, str, dict] | None = None   # (score, label, signals) of edit_text
    created_at: str | None = None      # when it was decided (now when unknown)


class ReviewHistory:
    """Writing decisions made elsewhere (a part of ``Store``)."""

    def restore_decision(self, db: sqlite3.Connection, pair_id: int, decision: Decision, action: str,
                         from_pair: int | None = None) -> int:
        """Give a pending pair this decision inside the caller's transaction; returns the log entry's id.
        An edit becomes the pair's current text and its score the pair's score (the machine text's score
        is kept on the edit, as a review edit keeps it)."""
        if decision.status not in DECIDED:
            raise ValueError(f"not a decision: {decision.status!r}")
        when = decision.created_at or now()
        edit_id = None
        if decision.edit_text is not None:
            old = db.execute("SELECT score, label, signals FROM scores WHERE translation_id = ?", (pair_id,)).fetchone()
            edit_id = db.execute(
                "INSERT INTO edits (translation_id, text, reviewer, created_at, old_score, old_label, old_signals)"
                " VALUES (?,?,?,?,?,?,?)",
                (pair_id, decision.edit_text, decision.reviewer, when, *(old or (None, None, None)))).lastrowid
            if decision.edit_score is not None:
                score, label, signals = decision.edit_score
                db.execute("INSERT INTO scores (translation_id, score, label, signals) VALUES (?,?,?,?)"
                           " ON CONFLICT (translation_id) DO UPDATE SET score = excluded.score,"
                           " label = excluded.label, signals = excluded.signals",
                           (pair_id, score, label, json.dumps({**signals, "edited": True}, ensure_ascii=False)))
        rejected = decision.status == "rejected"
        db.execute("UPDATE translations SET status = ?, reject_reason = ?, reject_comment = ? WHERE id = ?",
                   (decision.status, decision.reason if rejected else None, decision.comment if rejected else None,
                    pair_id))
        return db.execute(
            "INSERT INTO review_log (translation_id, action, old_status, new_status, edit_id, reviewer, created_at,"
            " reason, comment, from_pair) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (pair_id, action, "pending", decision.status, edit_id, decision.reviewer, when,
             decision.reason if rejected else None, decision.comment if rejected else None, from_pair)).lastrowid

    def decision_of(self, db: sqlite3.Connection, pair_id: int) -> Decision | None:
        """The decision in force on a pair (None when it is pending): status, reason, its current edit and
        that edit's score, and who made the latest change still in force."""
        row = db.execute("SELECT status, reject_reason, reject_comment FROM translations WHERE id = ?",
                         (pair_id,)).fetchone()
        if row is None or row["status"] not in DECIDED:
            return None
        entries = db.execute("SELECT id, action, undoes, reviewer, created_at FROM review_log"
                             " WHERE translation_id = ? ORDER BY id", (pair_id,)).fetchall()
        undone = {e["undoes"] for e in entries if e["action"] == "undo"}
        latest = next((e for e in reversed(entries) if e["action"] != "undo" and e["id"] not in undone), None)
        edit = db.execute("SELECT text FROM edits WHERE translation_id = ? AND undone_at IS NULL ORDER BY id DESC"
                          " LIMIT 1", (pair_id,)).fetchone()
        score = None
        if edit is not None:
            sc = db.execute("SELECT score, label, signals FROM scores WHERE translation_id = ?", (pair_id,)).fetchone()
            if sc is not None:
                score = (sc["score"], sc["label"], json.loads(sc["signals"]))
        return Decision(row["status"], latest["reviewer"] if latest else "unknown", row["reject_reason"],
                        row["reject_comment"], edit["text"] if edit else None, score,
                        latest["created_at"] if latest else None)
