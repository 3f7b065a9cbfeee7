"""Team review: who may do what, claims on pending pairs, the blind overlap sample and the lead's queue.

A store with reviewer accounts (`translate review users add`) is reviewed by a team; without any, the
page keeps its single-user mode. In team mode:

- every request carries a reviewer's token (``Accounts``, used by the app's guard), and every decision
  records that reviewer, never a name typed on the page;
- "next pending" hands a reviewer the pairs they claimed, or claims a batch of pending pairs nobody
  holds (``TeamWork.next_pending``). A claim lasts ``lease_s`` seconds and the reviewer's activity
  renews it. Acting on a pair claims it first, in the same write transaction that checks nobody else
  holds it, so two reviewers are never sent or decide the same pending pair;
- a share of the pairs (``overlap``) is the overlap sample: the first two reviewers' decisions are blind
  votes (``review_votes``) that leave the pair pending, so the second sees nothing of the first. Two
  votes that agree become the pair's decision (the first voter's); two that differ go to the lead's
  queue (``adjudications``), as does any decision a lead flags;
- a reviewer may change only pending pairs and their own decisions (409 otherwise, naming who decided
  and showing both versions); lead actions (adjudicate, flag, send back, release claims, bulk approve)
  answer 403 to a reviewer.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ..store import Store
from .decisions import ReviewDecisions
from .queries import Filter, Order, ReviewQueries

SENT_BACK_LEASE_S = 7 * 24 * 3600      # a pair a lead sent back waits for its reviewer this long
VERB_STATUS = {"approve": "approved", "reject": "rejected", "edit": "edited"}


@dataclass(frozen=True)
class TeamSettings:
    overlap: float = 0.05          # share of pairs reviewed blind by two reviewers
    batch: int = 20                # pairs claimed at a time
    lease_s: float = 15 * 60       # a claim lasts this long after the reviewer's last activity


@dataclass(frozen=True)
class Reviewer:
    id: int
    name: str
    role: str

    @property
    def is_lead(self) -> bool:
        return self.role == "lead"


class Conflict(Exception):
    """409: the pair is someone else's now; ``details`` shows both versions."""

    def __init__(self, message: str, details: dict | None = None):
        super().__init__(message)
        self.details = details or {}


class LeadOnly(Exception):
    """403: an action only a lead may take."""


def in_overlap_sample(pair_id: int, share: float) -> bool:
    """Whether a pair is in the overlap sample: a multiplicative hash of its id spreads the sample evenly
    over the store and keeps it the same from one server start to the next."""
    return (pair_id * 2654435761 % 2 ** 32) / 2 ** 32 < share


class Accounts:
    """The reviewer accounts, for the app's guard (one read-only connection, used from the event loop)."""

    def __init__(self, db: Path):
        self.store = Store(db, create=False, readonly=True)

    def team_mode(self) -> bool:
        return self.store.has_reviewers()

    def authenticate(self, token: str) -> Reviewer | None:
        row = self.store.reviewer_by_token(token)
        return Reviewer(row["id"], row["name"], row["role"]) if row is not None else None


class TeamWork:
    """The team rules over one store connection (one per request thread)."""

    def __init__(self, store: Store, settings: TeamSettings, decisions: ReviewDecisions):
        self.store = store
        self.settings = settings
        self.decisions = decisions

    # -- routing -------------------------------------------------------------------------------------
    def next_pending(self, me: Reviewer, order: Order, flt: Filter) -> int | None:
        """The reviewer's next claimed pending pair; when they hold none, claim the next batch of pending
        pairs (in this order and filter) that nobody holds, they did not vote on and no lead is settling."""
        at = time.time()
        with self.store.transaction() as db:
            self.store.drop_expired_claims(db, at)
            self.store.drop_decided_claims(db, me.id)
            self.store.renew_claims(db, me.id, at + self.settings.lease_s, at)
            mine = self.store.open_claims(db, me.id, at)
            if mine:
                return mine[0]
            ids = ReviewQueries(self.store).pending_ids(order, flt, self.settings.batch, [
                "NOT EXISTS (SELECT 1 FROM review_claims c WHERE c.translation_id = t.id)",
                "NOT EXISTS (SELECT 1 FROM review_votes v WHERE v.translation_id = t.id AND v.reviewer_id = ?)",
                "NOT EXISTS (SELECT 1 FROM adjudications a WHERE a.translation_id = t.id AND a.resolved_at IS NULL)",
            ], [me.id])
            self.store.take_claims(db, me.id, ids, at + self.settings.lease_s)
        return ids[0] if ids else None

    # -- a reviewer's action on one pair -------------------------------------------------------------
    def admit(self, me: Reviewer, pair_id: int, verb: str, text: str | None = None) -> str:
        """Check that ``me`` may act on the pair and claim it for them; return 'vote' (a blind vote of the
        overlap sample) or 'decide' (an ordinary decision). Raises KeyError, Conflict."""
        at = time.time()
        with self.store.transaction() as db:
            row = db.execute("SELECT status FROM translations WHERE id = ?", (pair_id,)).fetchone()
            if row is None:
                raise KeyError(pair_id)
            self.store.renew_claims(db, me.id, at + self.settings.lease_s, at)
            if me.is_lead:
                return "decide"        # a lead's decision is final, whoever holds the pair
            voted = db.execute("SELECT 1 FROM review_votes WHERE translation_id = ? AND reviewer_id = ?",
                               (pair_id, me.id)).fetchone() is not None
            if voted and verb == "reason":
                return "vote"                # the reason of a reject vote, also once the votes are in
            queued = self.store.pending_adjudication(db, pair_id) is not None
            if row["status"] != "pending":
                by = self.store.decided_by(db, pair_id)
                if by != me.name:
                    raise Conflict(*self._both_versions(db, pair_id, row["status"], by, verb, text))
                if queued:
                    raise Conflict(f"pair {pair_id} waits for a lead's decision")
                return "decide"
            holder = self.store.claim_holder(db, pair_id, at)
            if holder is not None and holder["id"] != me.id:
                raise Conflict(f"pair {pair_id} is claimed by {holder['name']}: press n for your own pairs")
            if queued:
                raise Conflict(f"pair {pair_id} waits for a lead's decision")
            if voted:
                return "vote"
            if verb in VERB_STATUS and in_overlap_sample(pair_id, self.settings.overlap) and db.execute(
                    "SELECT 1 FROM review_log WHERE translation_id = ? LIMIT 1", (pair_id,)).fetchone() is None:
                return "vote"
            self.store.take_claims(db, me.id, [pair_id], at + self.settings.lease_s)
            return "decide"

    @staticmethod
    def _both_versions(db, pair_id: int, status: str, by: str | None, verb: str, text: str | None) -> tuple:
        current = db.execute("SELECT COALESCE((SELECT e.text FROM edits e WHERE e.translation_id = t.id AND"
                             " e.undone_at IS NULL ORDER BY e.id DESC LIMIT 1), t.text) FROM translations t"
                             " WHERE t.id = ?", (pair_id,)).fetchone()[0]
        yours = f"{verb}" + (f': "{text}"' if text else "")
        message = (f"pair {pair_id} was decided meanwhile by {by or 'someone else'} ({status}: \"{current}\"); "
                   f"yours ({yours}) was not saved")
        return message, {"theirs": {"reviewer": by, "status": status, "text": current},
                         "yours": {"action": verb, "text": text}}

    # -- blind votes ---------------------------------------------------------------------------------
    def vote(self, me: Reviewer, pair_id: int, verb: str, body: dict) -> dict:
        """Record the reviewer's blind vote; with two votes, apply them (agreeing) or send the pair to the
        lead's queue (differing). Returns the vote as the page shows it: {status, text, reason, outcome}."""
        outcome = "waiting"
        with self.store.transaction() as db:
            mine = db.execute("SELECT * FROM review_votes WHERE translation_id = ? AND reviewer_id = ?",
                              (pair_id, me.id)).fetchone()
            if verb == "reason":
                if mine is None or mine["status"] != "rejected":
                    raise ValueError(f"pair {pair_id}: reject it first")
                reason, comment = body.get("reason") or None, (body.get("comment") or "").strip()[:500] or None
                db.execute("UPDATE review_votes SET reason = ?, comment = ? WHERE translation_id = ? AND"
                           " reviewer_id = ?", (reason, comment, pair_id, me.id))
                return {"status": "rejected", "text": None, "reason": reason, "outcome": "reason"}
            text = None
            if verb == "edit":
                text = str(body.get("text", "")).strip()
                if not text:
                    raise ValueError("empty translation: reject the pair instead")
            self.store.put_vote(db, pair_id, me.id, VERB_STATUS[verb], text=text)
            votes = self.store.votes_on(db, pair_id)
            others = [v for v in votes if v["reviewer_id"] != me.id]
            if not others:
                self.store.drop_claim(db, pair_id)       # free for the second reviewer
            else:
                first = others[0]
                if first["status"] == VERB_STATUS[verb] and (verb != "edit" or first["text"] == text):
                    outcome = "agreed"                   # keep the claim until the decision is applied
                else:
                    outcome = "disputed"
                    self.store.open_adjudication(db, pair_id, "disagreement", me.name)
                    self.store.drop_claim(db, pair_id)
        if outcome == "agreed":
            self.apply_vote(first)
            with self.store.transaction() as db:
                self.store.drop_claim(db, pair_id)
        return {"status": VERB_STATUS[verb], "text": text, "reason": None, "outcome": outcome}

    def apply_vote(self, vote) -> None:
        """Make an agreed vote the pair's decision, recorded as its voter's."""
        pair_id, name = vote["translation_id"], vote["name"]
        if vote["status"] == "edited":
            self.decisions.edit(pair_id, vote["text"], name)
        else:
            self.decisions.set_status(pair_id, vote["status"], name)
            if vote["status"] == "rejected" and vote["reason"]:
                self.decisions.set_reason(pair_id, vote["reason"], vote["comment"], name)

    # -- lead actions --------------------------------------------------------------------------------
    @staticmethod
    def lead_only(me: Reviewer, what: str) -> None:
        if not me.is_lead:
            raise LeadOnly(f"only a lead can {what}")

    def adjudicate(self, me: Reviewer, pair_id: int, status: str, text: str | None = None,
                   reason: str | None = None, comment: str | None = None) -> int:
        """The lead's final decision on a pair in the queue, recorded beside the votes it settles."""
        self.lead_only(me, "adjudicate")
        with self.store.transaction() as db:
            if self.store.pending_adjudication(db, pair_id) is None:
                raise ValueError(f"pair {pair_id} is not waiting for a lead's decision")
        if status == "edited":
            log_id = self.decisions.edit(pair_id, text or "", me.name)
        elif status in ("approved", "rejected"):
            log_id = self.decisions.set_status(pair_id, status, me.name)
            if status == "rejected" and reason:
                log_id = self.decisions.set_reason(pair_id, reason, comment, me.name) or log_id
        else:
            raise ValueError(f"unknown decision {status!r}: use approved, rejected or edited")
        if log_id is None:                      # the pair already had that decision: the lead confirms it
            log_id = self.decisions.confirm(pair_id, me.name, "adjudicate", comment)
        with self.store.transaction() as db:
            self.store.resolve_adjudication(db, pair_id, me.name, log_id)
            self.store.drop_claim(db, pair_id)
        return log_id

    def flag(self, me: Reviewer, pair_id: int, comment: str | None) -> None:
        """Put a decided pair in the lead's queue."""
        self.lead_only(me, "flag a decision")
        with self.store.transaction() as db:
            row = db.execute("SELECT status FROM translations WHERE id = ?", (pair_id,)).fetchone()
            if row is None:
                raise KeyError(pair_id)
            if row["status"] == "pending":
                raise ValueError(f"pair {pair_id} has no decision to flag")
            self.store.open_adjudication(db, pair_id, "flag", me.name, comment)

    def send_back(self, me: Reviewer, pair_id: int, comment: str) -> str:
        """Return a decided pair to the reviewer who decided it, pending, with the lead's comment; it is
        claimed for them (a long lease). Returns the reviewer's name."""
        self.lead_only(me, "send a pair back")
        comment = (comment or "").strip()[:500]
        if not comment:
            raise ValueError("say why the pair is sent back (a comment)")
        with self.store.transaction() as db:
            if db.execute("SELECT 1 FROM translations WHERE id = ?", (pair_id,)).fetchone() is None:
                raise KeyError(pair_id)
            by = self.store.decided_by(db, pair_id)
            owner = self.store.reviewer_named(by) if by else None
        if owner is None:
            raise ValueError(f"pair {pair_id} has no decision by a current reviewer to send back")
        log_id = self.decisions.set_status(pair_id, "pending", me.name, action="send-back", comment=comment)
        if log_id is None:
            raise ValueError(f"pair {pair_id} is pending already")
        with self.store.transaction() as db:
            self.store.take_claims(db, owner["id"], [pair_id], time.time() + SENT_BACK_LEASE_S, note=comment)
            self.store.resolve_adjudication(db, pair_id, me.name, log_id)
        return owner["name"]

    def release(self, me: Reviewer, name: str) -> int:
        """Release every claim of a reviewer; returns how many."""
        self.lead_only(me, "release claims")
        row = self.store.reviewer_named(name)
        if row is None:
            raise KeyError(name)
        return self.store.release_claims(row["id"])

    def settle(self, me: Reviewer, pair_id: int, log_id: int | None) -> None:
        """A lead's decision taken from the list settles the pair's open queue item, if any."""
        if me.is_lead and log_id is not None:
            with self.store.transaction() as db:
                if self.store.pending_adjudication(db, pair_id) is not None:
                    self.store.resolve_adjudication(db, pair_id, me.name, log_id)

    def check_undo(self, me: Reviewer, log_ids: list[int], batch: int | None) -> None:
        """A reviewer undoes only their own entries (a lead anyone's)."""
        if me.is_lead:
            return
        if batch is not None:
            rows = self.store.db.execute("SELECT DISTINCT reviewer FROM review_log WHERE batch = ?", (batch,))
        else:
            marks = ",".join("?" * len(log_ids))
            rows = self.store.db.execute(f"SELECT DISTINCT reviewer FROM review_log WHERE id IN ({marks})", log_ids)
        others = sorted({r[0] for r in rows} - {me.name})
        if others:
            raise Conflict(f"those changes are {', '.join(others)}'s: a reviewer undoes only their own")
