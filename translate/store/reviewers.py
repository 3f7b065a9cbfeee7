"""Team review in the store: reviewer accounts and their tokens, claims on pending pairs (with leases),
the blind votes of the overlap sample, and the adjudication queue (migration 10).

A token is shown once, when the reviewer is added; the store keeps only its SHA-256 (a token is 32
random bytes, so a fast hash is enough: there is nothing to guess). A token given to the server is
hashed and compared with every active reviewer's hash in constant time.

A claim says who reviews a pending pair now. It lasts until ``expires_at`` (unix time), which the
reviewer's activity pushes on; an expired claim is as good as none and is deleted when claims are next
taken. At most one claim per pair (the primary key), taken inside the write transaction that checked
that nobody else holds it, so two reviewers can never hold the same pair.
"""
from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from collections.abc import Iterable, Iterator

from .connection import StoreError, now

ROLES = ("reviewer", "lead")
MAX_NAME = 100


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValueError("empty reviewer name")
    if len(name) > MAX_NAME:
        raise ValueError(f"reviewer name longer than {MAX_NAME} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ValueError("reviewer name has control characters")
    return name


class ReviewerBook:
    """Reviewers, claims, blind votes and the adjudication queue (a part of ``Store``)."""

    db: sqlite3.Connection

    # -- accounts -----------------------------------------------------------------------------------
    def add_reviewer(self, name: str, role: str = "reviewer") -> str:
        """Add a reviewer; return the new token (the only time it exists outside the reviewer's hands)."""
        name = check_name(name)
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
        token = secrets.token_urlsafe(32)
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM reviewers WHERE name = ? AND removed_at IS NULL", (name,)).fetchone():
                raise StoreError(f"{self.path}: reviewer {name!r} exists already (remove them first for a new token)")
            db.execute("INSERT INTO reviewers (name, role, token_hash, created_at) VALUES (?,?,?,?)",
                       (name, role, token_hash(token), now()))
        return token

    def remove_reviewer(self, name: str) -> bool:
        """Stop a reviewer's token working and drop their claims (their decisions stay). False: no such reviewer."""
        with self.transaction() as db:
            row = db.execute("SELECT id FROM reviewers WHERE name = ? AND removed_at IS NULL", (name,)).fetchone()
            if row is None:
                return False
            db.execute("UPDATE reviewers SET removed_at = ? WHERE id = ?", (now(), row["id"]))
            db.execute("DELETE FROM review_claims WHERE reviewer_id = ?", (row["id"],))
        return True

    def reviewers(self) -> list[sqlite3.Row]:
        """Active reviewers with their live claims and their decisions so far, by name."""
        return self.db.execute(
            "SELECT r.id, r.name, r.role, r.created_at,"
            " (SELECT COUNT(*) FROM review_claims c WHERE c.reviewer_id = r.id AND c.expires_at > ?) AS claims,"
            " (SELECT COUNT(*) FROM review_log l WHERE l.reviewer = r.name AND l.action <> 'undo') AS decisions"
            " FROM reviewers r WHERE r.removed_at IS NULL ORDER BY r.name", (time.time(),)).fetchall()

    def has_reviewers(self) -> bool:
        """Whether the store is in team mode (any reviewer account, active or removed: removing the last
        one must not reopen the store to everyone)."""
        return self.db.execute("SELECT EXISTS (SELECT 1 FROM reviewers)").fetchone()[0] == 1

    def reviewer_by_token(self, token: str) -> sqlite3.Row | None:
        """The active reviewer this token belongs to, or None. Every active hash is compared (in constant
        time), so the answer takes as long for a wrong token as for a right one."""
        if not token:
            return None
        given = token_hash(token).encode()
        found = None
        for row in self.db.execute("SELECT id, name, role, token_hash FROM reviewers WHERE removed_at IS NULL"):
            if secrets.compare_digest(given, row["token_hash"].encode()):
                found = row
        return found

    def reviewer_named(self, name: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT id, name, role FROM reviewers WHERE name = ? AND removed_at IS NULL",
                               (name,)).fetchone()

    # -- claims (called inside a write transaction: ``db`` is the transaction's connection) ---------
    @staticmethod
    def drop_expired_claims(db: sqlite3.Connection, at: float) -> None:
        db.execute("DELETE FROM review_claims WHERE expires_at <= ?", (at,))

    @staticmethod
    def claim_holder(db: sqlite3.Connection, pair_id: int, at: float) -> sqlite3.Row | None:
        """Who holds a live claim on this pair (id, name, note), or None."""
        return db.execute("SELECT r.id, r.name, c.note FROM review_claims c JOIN reviewers r ON r.id = c.reviewer_id"
                          " WHERE c.translation_id = ? AND c.expires_at > ?", (pair_id, at)).fetchone()

    @staticmethod
    def take_claims(db: sqlite3.Connection, reviewer_id: int, pair_ids: Iterable[int], expires_at: float,
                    note: str | None = None) -> None:
        """Claim these pairs for the reviewer (replacing any expired claim; a live one of someone else must
        have been ruled out by the caller in this transaction)."""
        created = now()
        db.executemany("INSERT INTO review_claims (translation_id, reviewer_id, claimed_at, expires_at, note)"
                       " VALUES (?,?,?,?,?) ON CONFLICT (translation_id) DO UPDATE SET"
                       " reviewer_id = excluded.reviewer_id, claimed_at = excluded.claimed_at,"
                       " expires_at = excluded.expires_at, note = COALESCE(excluded.note, note)",
                       [(pid, reviewer_id, created, expires_at, note) for pid in pair_ids])

    @staticmethod
    def renew_claims(db: sqlite3.Connection, reviewer_id: int, expires_at: float, at: float) -> None:
        """Activity renews the lease of every live claim of the reviewer."""
        db.execute("UPDATE review_claims SET expires_at = max(expires_at, ?) WHERE reviewer_id = ? AND expires_at > ?",
                   (expires_at, reviewer_id, at))

    @staticmethod
    def drop_decided_claims(db: sqlite3.Connection, reviewer_id: int) -> None:
        """A decided pair leaves its reviewer's claims (done when they ask for the next one, which saves
        each decision a transaction of its own)."""
        db.execute("DELETE FROM review_claims WHERE reviewer_id = ? AND translation_id IN"
                   " (SELECT c.translation_id FROM review_claims c JOIN translations t ON t.id = c.translation_id"
                   " WHERE c.reviewer_id = ? AND t.status <> 'pending')", (reviewer_id, reviewer_id))

    @staticmethod
    def drop_claim(db: sqlite3.Connection, pair_id: int) -> None:
        db.execute("DELETE FROM review_claims WHERE translation_id = ?", (pair_id,))

    @staticmethod
    def open_claims(db: sqlite3.Connection, reviewer_id: int, at: float) -> list[int]:
        """The reviewer's live claims on pairs still pending, oldest claim first."""
        return [r[0] for r in db.execute(
            "SELECT c.translation_id FROM review_claims c JOIN translations t ON t.id = c.translation_id"
            " WHERE c.reviewer_id = ? AND c.expires_at > ? AND t.status = 'pending'"
            " AND NOT EXISTS (SELECT 1 FROM review_votes v WHERE v.translation_id = c.translation_id"
            " AND v.reviewer_id = c.reviewer_id) ORDER BY c.claimed_at, c.translation_id", (reviewer_id, at))]

    def release_claims(self, reviewer_id: int) -> int:
        with self.transaction() as db:
            return db.execute("DELETE FROM review_claims WHERE reviewer_id = ?", (reviewer_id,)).rowcount

    def claim_marks(self, pair_ids: list[int], at: float) -> dict[int, tuple[str, str | None]]:
        """{pair id: (holder's name, note)} for the live claims among these pairs."""
        if not pair_ids:
            return {}
        marks = ",".join("?" * len(pair_ids))
        return {r[0]: (r[1], r[2]) for r in self.db.execute(
            f"SELECT c.translation_id, r.name, c.note FROM review_claims c JOIN reviewers r ON r.id = c.reviewer_id"
            f" WHERE c.translation_id IN ({marks}) AND c.expires_at > ?", (*pair_ids, at))}

    # -- blind votes of the overlap sample -------------------------------------------------------
    @staticmethod
    def put_vote(db: sqlite3.Connection, pair_id: int, reviewer_id: int, status: str, text: str | None = None,
                 reason: str | None = None, comment: str | None = None) -> None:
        db.execute("INSERT INTO review_votes (translation_id, reviewer_id, status, reason, comment, text, created_at)"
                   " VALUES (?,?,?,?,?,?,?) ON CONFLICT (translation_id, reviewer_id) DO UPDATE SET"
                   " status = excluded.status, reason = excluded.reason, comment = excluded.comment,"
                   " text = excluded.text, created_at = excluded.created_at",
                   (pair_id, reviewer_id, status, reason, comment, text, now()))

    @staticmethod
    def votes_on(db: sqlite3.Connection, pair_id: int) -> list[sqlite3.Row]:
        return db.execute("SELECT v.*, r.name FROM review_votes v JOIN reviewers r ON r.id = v.reviewer_id"
                          " WHERE v.translation_id = ? ORDER BY v.created_at, v.rowid", (pair_id,)).fetchall()

    def my_votes(self, reviewer_id: int, pair_ids: list[int]) -> dict[int, sqlite3.Row]:
        if not pair_ids:
            return {}
        marks = ",".join("?" * len(pair_ids))
        return {r["translation_id"]: r for r in self.db.execute(
            f"SELECT * FROM review_votes WHERE reviewer_id = ? AND translation_id IN ({marks})",
            (reviewer_id, *pair_ids))}

    def paired_votes(self) -> list[sqlite3.Row]:
        """Every vote on pairs that have two or more (the agreement figures), by pair."""
        return self.db.execute(
            "SELECT v.translation_id, r.name, v.status, v.reason FROM review_votes v"
            " JOIN reviewers r ON r.id = v.reviewer_id WHERE v.translation_id IN"
            " (SELECT translation_id FROM review_votes GROUP BY translation_id HAVING COUNT(*) >= 2)"
            " ORDER BY v.translation_id, v.created_at").fetchall()

    @staticmethod
    def decided_by(db: sqlite3.Connection, pair_id: int) -> str | None:
        """The reviewer of the pair's decision in force: its newest log entry that is not an undo and
        was not undone (None when there is none)."""
        row = db.execute("SELECT e.reviewer FROM review_log e WHERE e.translation_id = ? AND e.action <> 'undo'"
                         " AND NOT EXISTS (SELECT 1 FROM review_log u WHERE u.undoes = e.id)"
                         " ORDER BY e.id DESC LIMIT 1", (pair_id,)).fetchone()
        return row[0] if row else None

    # -- adjudication ------------------------------------------------------------------------------
    @staticmethod
    def open_adjudication(db: sqlite3.Connection, pair_id: int, kind: str, by: str,
                          comment: str | None = None) -> None:
        if db.execute("SELECT 1 FROM adjudications WHERE translation_id = ? AND resolved_at IS NULL",
                      (pair_id,)).fetchone() is None:
            db.execute("INSERT INTO adjudications (translation_id, kind, comment, opened_by, opened_at)"
                       " VALUES (?,?,?,?,?)", (pair_id, kind, comment, by, now()))

    @staticmethod
    def pending_adjudication(db: sqlite3.Connection, pair_id: int) -> sqlite3.Row | None:
        return db.execute("SELECT * FROM adjudications WHERE translation_id = ? AND resolved_at IS NULL",
                          (pair_id,)).fetchone()

    @staticmethod
    def resolve_adjudication(db: sqlite3.Connection, pair_id: int, lead: str, log_id: int | None) -> None:
        db.execute("UPDATE adjudications SET resolved_by = ?, resolved_at = ?, log_id = ?"
                   " WHERE translation_id = ? AND resolved_at IS NULL", (lead, now(), log_id, pair_id))

    def adjudication_queue(self, limit: int = 200) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM adjudications WHERE resolved_at IS NULL ORDER BY id LIMIT ?",
                               (limit,)).fetchall()

    def adjudicated(self) -> list[sqlite3.Row]:
        """Settled items: the lead's final status beside the pair's votes (agreement with the lead)."""
        return self.db.execute(
            "SELECT a.translation_id, a.kind, a.resolved_by, l.new_status, l.reason FROM adjudications a"
            " JOIN review_log l ON l.id = a.log_id WHERE a.resolved_at IS NOT NULL").fetchall()

    # -- exports: who decided each pair ------------------------------------------------------------
    def with_review_marks(self, rows: Iterable, batch: int = 500) -> Iterator[dict]:
        """The rows as dicts with ``adjudicated_by``: the lead who settled the pair last, if any. (The
        reviewer of the decision in force is read by PAIR_SELECT.) A store where no lead settled anything
        (every store outside team review) is not asked again for each batch."""
        settled = self.db.execute("SELECT 1 FROM adjudications WHERE resolved_at IS NOT NULL LIMIT 1").fetchone()
        chunk: list[dict] = []
        keys = None
        for row in rows:
            if isinstance(row, dict):
                chunk.append(dict(row))
            else:       # the rows of one query share their columns: dict(row) would look each one up by name
                keys = keys or row.keys()
                chunk.append(dict(zip(keys, row)))
            if len(chunk) >= batch:
                yield from self._marked(chunk, settled is not None)
                chunk = []
        yield from self._marked(chunk, settled is not None)

    def _marked(self, chunk: list[dict], settled: bool) -> list[dict]:
        adjudicator = {}
        if chunk and settled:
            ids = [r["id"] for r in chunk]
            marks = ",".join("?" * len(ids))
            adjudicator = dict(self.db.execute(
                f"SELECT a.translation_id, a.resolved_by FROM adjudications a WHERE a.id IN"
                f" (SELECT MAX(id) FROM adjudications WHERE translation_id IN ({marks}) AND resolved_at IS NOT NULL"
                f" GROUP BY translation_id)", ids))
        for r in chunk:
            r["adjudicated_by"] = adjudicator.get(r["id"])
        return chunk
