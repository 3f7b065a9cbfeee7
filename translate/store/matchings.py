"""Saved document matchings of folder alignments: a rerun of the same alignment reuses its matching."""
from __future__ import annotations

from collections.abc import Sequence

from .connection import now


class MatchingBook:
    def saved_matching(self, fingerprint: str) -> list[tuple[str, str, float]] | None:
        """The pairs (Arabic path, English path, confidence) of the matching saved under ``fingerprint``,
        most confident first; None if there is none."""
        row = self.db.execute("SELECT id FROM document_matchings WHERE fingerprint = ?", (fingerprint,)).fetchone()
        if row is None:
            return None
        return [(ar, en, confidence) for ar, en, confidence in self.db.execute(
            "SELECT ar_path, en_path, confidence FROM document_matches WHERE matching_id = ? ORDER BY position",
            (row[0],))]

    def save_matching(self, fingerprint: str, ar_folder: str, en_folder: str, ar_documents: int,
                      en_documents: int, pairs: Sequence[tuple[str, str, float]]) -> None:
        """Save a matching (in one transaction: a matching is saved whole or not at all)."""
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM document_matchings WHERE fingerprint = ?", (fingerprint,)).fetchone():
                return              # another run of the same alignment saved it first
            matching_id = db.execute(
                "INSERT INTO document_matchings (fingerprint, ar_folder, en_folder, ar_documents, en_documents,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (fingerprint, ar_folder, en_folder, ar_documents, en_documents, now())).lastrowid
            db.executemany("INSERT INTO document_matches VALUES (?, ?, ?, ?, ?)",
                           ((matching_id, k, ar, en, confidence) for k, (ar, en, confidence) in enumerate(pairs)))
