"""Writing the corpus: documents, their segments (current and superseded segmentations) and pairs
with their scores. Machine output is never overwritten: a changed segmentation adds new spans and
marks the ones it replaces superseded; review edits live in ``edits`` (see translate.review).
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from .connection import _chunks, now, text_hash
from .schema import CURRENT_PAIR


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



class CorpusWrites:
    """Documents, segments and translations (a part of ``Store``)."""

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


    # -- translations -------------------------------------------------------------------------
    def translated_segments(self, segment_ids: list[int], model_id: int) -> set[int]:
        """The segment ids among these that already have a translation by this model."""
        found: set[int] = set()
        for chunk in _chunks(segment_ids, 500):
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in self.db.execute(
                f"SELECT segment_id FROM translations WHERE origin IN ('mt', 'copied') AND model_id=?"
                f" AND segment_id IN ({marks})",
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
                                       " AND origin IN ('mt', 'copied') AND status <> 'pending'", chunk).fetchone()[0]
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
        if origin == "copied" and db.execute(
                # one copy per segment and model, as the unique index translations_mt_unique keeps one
                # machine translation (checked here, in the writer's transaction, not by a new index)
                "SELECT 1 FROM translations WHERE segment_id=? AND model_id IS ? AND origin='copied'",
                (segment_id, model_id)).fetchone():
            return None
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

