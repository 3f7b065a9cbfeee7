"""Alignment repair: the editor's operations on the stand-off links of one document pair, undo, re-align
below the confirmed rows, and storing an automatic alignment without touching confirmed rows.

An alignment is two sentence lists (Arabic, English) and rows; a row holds a run of consecutive
sentences of each side (either may be empty: 1-0, 0-1). The invariant every change keeps: each
sentence of both sides is in exactly one row, and no row is empty on both sides (``check_alignment``,
checked before anything is written). An operation confirms the rows it touches; a row whose content
an operation changed without touching it (the rows below an opened gap) goes back to 'auto'.

Each change is one transaction: the alignment is read, changed in memory, checked, its pairs brought in
step (``Store.sync_link_pairs``) and written whole with the log entry that keeps the alignment as it
was (undo). A client names the ``version`` it saw; a change to a newer alignment is refused (``Stale``).
No web code here: translate.review.alignment serves these over HTTP.

The parts live in translate/alignment_repair/: validation.py (the ops' fields and the invariant),
operations.py (the ops on rows and sentences, in memory), realign.py (the aligner on part of an
alignment) and storing.py (automatic and imported alignments, and the pairs links make). This module
applies and undoes an editor's change in one transaction; the names others import are importable here.
"""
from __future__ import annotations

from .alignment_repair.operations import (apply_row_op, confirm_rows, confirm_sentence_change, join_sentences,
                                          split_sentence)
from .alignment_repair.realign import align_block, realign_below
from .alignment_repair.storing import (AlignSummary, document_text, locate_sentences, pair_maker,
                                       store_auto_alignment, store_imported_alignment)
from .alignment_repair.validation import (NOT_UNDOABLE, OPS, ROW_OPS, SENTENCE_OPS, Op, OpError, check_alignment,
                                          parse_op)
from .store import Store, StoredAlignment

__all__ = ["AlignSummary", "OPS", "Op", "OpError", "Stale", "align_block", "alignment_json", "apply_op",
           "apply_row_op", "check_alignment", "locate_sentences", "parse_op", "store_auto_alignment",
           "store_imported_alignment", "undo"]


class Stale(Exception):
    """The client's view is older than the stored alignment (HTTP 409); holds the current one."""

    def __init__(self, alignment: StoredAlignment):
        super().__init__(f"the alignment changed since you loaded it (now version {alignment.version}): "
                         "look at the current rows and try again")
        self.alignment = alignment


def apply_op(store: Store, pair_id: int, op: Op, reviewer: str, version: int | None = None) -> StoredAlignment:
    """Apply one editor op to document pair ``pair_id``; KeyError for an unknown pair, OpError for an op
    that cannot apply, Stale when ``version`` is not the stored one. Nothing changes unless it applies."""
    with store.transaction() as db:
        alignment = _current(store, db, pair_id, version)
        stored = alignment.copy()
        before_rows = stored.rows
        before = alignment.snapshot()
        previous = {r.translation_id for r in alignment.rows if r.translation_id is not None}
        if op.op in ROW_OPS:
            touched = apply_row_op(alignment.rows, op)
        elif op.op in SENTENCE_OPS:
            document_id = alignment.ar_document_id if op.side == "ar" else alignment.en_document_id
            change = split_sentence if op.op == "split_sentence" else join_sentences
            touched = [change(store, db, alignment, document_id, document_text(db, document_id), op)]
            before_rows = []        # sentence indices moved: every row's content counts as new
        else:
            realign_below(alignment)
            touched = []
        if op.op in SENTENCE_OPS:
            confirm_sentence_change(touched, reviewer)
        elif not confirm_rows(alignment, before_rows, touched, reviewer) and op.op != "realign":
            return alignment
        check_alignment(alignment)
        store.sync_link_pairs(db, alignment, document_text(db, alignment.ar_document_id), previous,
                              pair_maker("editor"))
        store.write_alignment(db, alignment, stored)
        store.log_link_change(db, pair_id, op.op, op.as_json(), reviewer, before)
    store.remember_alignment(alignment)
    return alignment


def undo(store: Store, pair_id: int, reviewer: str, version: int | None = None) -> StoredAlignment:
    """Put back the alignment as it was before its newest change still in force (links, sentence lists,
    and so the pairs: those the restored links make come back with their reviews)."""
    with store.transaction() as db:
        alignment = _current(store, db, pair_id, version)
        stored = alignment.copy()
        entry = store.last_undoable_change(db, pair_id)
        if entry is None or entry["op"] in NOT_UNDOABLE:
            raise OpError("nothing to undo in this alignment")
        before = alignment.snapshot()
        previous = {r.translation_id for r in alignment.rows if r.translation_id is not None}
        store.restore_snapshot(db, alignment, entry["before"])
        check_alignment(alignment)
        store.sync_link_pairs(db, alignment, document_text(db, alignment.ar_document_id), previous,
                              pair_maker("editor"))
        store.write_alignment(db, alignment, stored)
        store.mark_undone(db, entry["id"])
        store.log_link_change(db, pair_id, "undo", {"undoes": entry["id"], "op": entry["op"]}, reviewer, before,
                              undoes=entry["id"])
    store.remember_alignment(alignment)
    return alignment


def _current(store: Store, db, pair_id: int, version: int | None) -> StoredAlignment:
    alignment = store.load_alignment(pair_id, db)
    if alignment is None:
        raise KeyError(pair_id)
    if version is not None and version != alignment.version:
        raise Stale(alignment)
    return alignment


def alignment_json(store: Store, alignment: StoredAlignment) -> dict:
    """The GET /api/alignments/ID shape: sentence texts of both sides and the rows, with each row's
    kind, status, score (its pair's score; none for 1-0 / 0-1) and the aligner's link score."""
    scores = store.pair_scores([r.translation_id for r in alignment.rows if r.translation_id is not None])
    paths = dict(store.db.execute("SELECT id, path FROM documents WHERE id IN (?, ?)",
                                  (alignment.ar_document_id, alignment.en_document_id)).fetchall())
    rows = []
    for row in alignment.rows:
        pair = scores.get(row.translation_id) if row.translation_id is not None else None
        rows.append({"ar": row.ar, "en": row.en, "status": row.status,
                     "score": round(pair["score"], 4) if pair is not None and pair["score"] is not None else None,
                     "kind": row.kind(), "link_score": row.score, "pair": row.translation_id,
                     "pair_status": pair["status"] if pair is not None else None,
                     "reviewer": row.reviewer})
    return {"id": alignment.id, "version": alignment.version,
            "ar_file": paths.get(alignment.ar_document_id), "en_file": paths.get(alignment.en_document_id),
            "bridge": alignment.bridge,
            "ar": [s.text for s in alignment.ar], "en": [s.text for s in alignment.en], "rows": rows}
