"""Versions of a document: a file run again from the same path with changed content (an edited article)
is a new document that replaces the one stored for that path before.

The earlier version is marked superseded, and so are its spans, so its pairs leave exports and review as
the pairs of a replaced segmentation do (kept, with their reviews; ``--include-superseded`` exports
them). A sentence the edit left unchanged gets the same machine translation (identical source text is
never translated twice) and the review decision its pair had in the earlier version (``carry_reviews``),
so an edit never costs the review already done.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from .connection import _chunks, now
from .history import Decision
from .schema import RUN_ORIGINS


@dataclass
class DocumentVersion:
    id: int
    created: bool
    replaced: list[int] = field(default_factory=list)   # versions this one superseded now
    replaced_reviewed: int = 0     # reviewed machine-translated pairs of those (kept, not exported)
    earlier: list[int] = field(default_factory=list)    # every other version stored for the path, newest first


class DocumentVersions:
    """Document versions and the reviews carried across them (a part of ``Store``)."""

    def add_document_version(self, path: str, text: str, sha256: str) -> DocumentVersion:
        """Store an Arabic document read from ``path`` for a run and make it the path's current version:
        any other current document stored for the same path is superseded (with its spans). Running an
        earlier version's content again makes that version current again."""
        document_id, created = self.add_document(path, text, sha256)
        version = DocumentVersion(document_id, created)
        other_versions = "SELECT id FROM documents WHERE path = ? AND id <> ? AND lang = 'ar' ORDER BY id DESC"
        # a file seen for the first time (the common case) takes no write lock
        if self.db.execute(other_versions, (path, document_id)).fetchone() is None:
            return version
        with self.transaction() as db:
            others = [r[0] for r in db.execute(other_versions, (path, document_id))]
            version.earlier = others
            if not others:
                return version
            stamp = now()
            current = [r[0] for r in db.execute(
                f"SELECT id FROM documents WHERE id IN ({','.join('?' * len(others))}) AND superseded_at IS NULL",
                others)]
            for chunk in _chunks(current, 500):
                marks = ",".join("?" * len(chunk))
                version.replaced_reviewed += db.execute(
                    "SELECT COUNT(*) FROM translations t JOIN segments s ON s.id = t.segment_id"
                    f" WHERE s.document_id IN ({marks}) AND s.superseded_at IS NULL AND t.origin IN {RUN_ORIGINS}"
                    " AND t.status <> 'pending'", chunk).fetchone()[0]
                db.execute(f"UPDATE documents SET superseded_at = ? WHERE id IN ({marks})", (stamp, *chunk))
                db.execute(f"UPDATE segments SET superseded_at = ? WHERE document_id IN ({marks})"
                           " AND superseded_at IS NULL", (stamp, *chunk))
            version.replaced = current
            # this one is current again (its spans become current as the run stores them)
            db.execute("UPDATE documents SET superseded_at = NULL,"
                       " supersedes = COALESCE(supersedes, CASE WHEN ? THEN ? END) WHERE id = ?",
                       (created, others[0], document_id))
        return version

    def carry_reviews(self, db: sqlite3.Connection, pairs: list[tuple[int, int]], earlier: list[int]) -> int:
        """Inside the caller's transaction: give each new pending pair ``(pair id, segment id)`` the decision
        of the same sentence with the same machine translation in an earlier version (the newest such
        decision). Returns how many pairs got one."""
        if not earlier or not pairs:
            return 0
        marks = ",".join("?" * len(earlier))
        carried = 0
        for pair_id, segment_id in pairs:
            pair = db.execute("SELECT t.text, t.model_id, t.status, s.text AS source, s.text_hash"
                              " FROM translations t JOIN segments s ON s.id = t.segment_id WHERE t.id = ?",
                              (pair_id,)).fetchone()
            if pair is None or pair["status"] != "pending":
                continue
            before = db.execute(
                "SELECT t.id FROM segments s JOIN translations t ON t.segment_id = s.id"
                f" WHERE s.document_id IN ({marks}) AND s.text_hash = ? AND s.text = ? AND t.origin = 'mt'"
                " AND t.model_id IS ? AND t.text = ? AND t.status <> 'pending' ORDER BY t.id DESC LIMIT 1",
                (*earlier, pair["text_hash"], pair["source"], pair["model_id"], pair["text"])).fetchone()
            if before is None:
                continue
            decision: Decision | None = self.decision_of(db, before[0])
            if decision is None:
                continue
            self.restore_decision(db, pair_id, decision, "carry", from_pair=before[0])
            carried += 1
        return carried
