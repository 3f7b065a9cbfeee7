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
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .align import Bead, Problem, dynamic_align
from .store import AlignedSentence, LinkRow, NewSegment, Store, StoredAlignment, now

ROW_OPS = ("up", "down", "merge", "split", "gap", "close", "swap", "confirm", "confirm_to")
SENTENCE_OPS = ("split_sentence", "join_sentences")
OPS = (*ROW_OPS, *SENTENCE_OPS, "realign")
NEEDS_SIDE = ("up", "down", "split", "gap", "close", "swap", *SENTENCE_OPS)
NEEDS_AT = ("split", *SENTENCE_OPS)
SIDES = ("ar", "en")
NOT_UNDOABLE = ("undo", "create")


class OpError(Exception):
    """An operation that cannot apply to the current alignment; the message says why (HTTP 400)."""


class Stale(Exception):
    """The client's view is older than the stored alignment (HTTP 409); holds the current one."""

    def __init__(self, alignment: StoredAlignment):
        super().__init__(f"the alignment changed since you loaded it (now version {alignment.version}): "
                         "look at the current rows and try again")
        self.alignment = alignment


@dataclass
class Op:
    op: str
    row: int | None = None
    side: str | None = None
    at: int | None = None
    offset: int | None = None

    def as_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def parse_op(body: dict) -> Op:
    """The op of a request body ({"op", "row", "side", "at", "offset"}); OpError names what is wrong."""
    name = body.get("op")
    if name not in OPS:
        raise OpError(f"unknown op {str(name)[:40]!r}: use one of {', '.join(OPS)}")

    def whole(key: str) -> int | None:
        value = body.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise OpError(f"{key} must be a whole number from 0, not {json.dumps(value)[:40]}")
        return value

    op = Op(name, whole("row"), body.get("side"), whole("at"), whole("offset"))
    if name in ROW_OPS and op.row is None:
        raise OpError(f"op {name} needs the row number as 'row'")
    if name in NEEDS_SIDE and op.side not in SIDES:
        raise OpError(f"op {name} needs 'side': 'ar' or 'en'")
    if name in NEEDS_AT and op.at is None:
        raise OpError(f"op {name} needs a sentence position as 'at'")
    if name == "split_sentence" and op.offset is None:
        raise OpError("op split_sentence needs the character position inside the sentence as 'offset'")
    return op


# -- the invariant ------------------------------------------------------------------------------
def check_alignment(alignment: StoredAlignment) -> None:
    """Every sentence of both sides in exactly one row, each row's sentences consecutive, no empty row."""
    for side in SIDES:
        seen = [i for row in alignment.rows for i in row.side(side)]
        if sorted(seen) != list(range(len(alignment.sentences(side)))):
            raise OpError(f"the change would leave {side} sentences unlinked or twice linked; nothing was changed")
        for row in alignment.rows:
            cell = row.side(side)
            if cell != list(range(cell[0], cell[0] + len(cell))) if cell else False:
                raise OpError("the sentences of a row must be consecutive; nothing was changed")
    if any(not row.ar and not row.en for row in alignment.rows):
        raise OpError("the change would leave an empty row; nothing was changed")


# -- operations on rows (in memory) -------------------------------------------------------------
def _row(rows: list[LinkRow], r: int, what: str = "") -> LinkRow:
    if r >= len(rows):
        raise OpError(f"no row {r}: the alignment has rows 0 to {len(rows) - 1}{what}")
    return rows[r]


def _cells(rows: list[LinkRow], side: str) -> list[list[int]]:
    return [list(row.side(side)) for row in rows]


def _set_cells(rows: list[LinkRow], side: str, cells: list[list[int]]) -> None:
    while cells and not cells[-1] and len(cells) > len(rows):
        cells.pop()
    while len(rows) < len(cells):
        rows.append(LinkRow([], []))
    for row, cell in zip(rows, cells + [[]] * (len(rows) - len(cells))):
        if side == "ar":
            row.ar = cell
        else:
            row.en = cell


def apply_row_op(rows: list[LinkRow], op: Op) -> list[LinkRow]:
    """The rows an op on rows touches (they get confirmed); changes ``rows`` in place."""
    r, side = op.row, op.side
    row = _row(rows, r)
    name = op.op
    if name == "up":
        if r == 0:
            raise OpError("row 0 has no row above it to move a sentence up into")
        if not row.side(side):
            raise OpError(f"row {r} has no {side} sentence to move up")
        rows[r - 1].side(side).append(row.side(side).pop(0))
        return [rows[r - 1], row]
    if name == "down":
        _row(rows, r + 1, ": the last row has no row below it to move a sentence down into")
        if not row.side(side):
            raise OpError(f"row {r} has no {side} sentence to move down")
        rows[r + 1].side(side).insert(0, row.side(side).pop())
        return [row, rows[r + 1]]
    if name == "merge":
        below = _row(rows, r + 1, ": the last row has no row below it to merge with")
        row.ar, row.en = row.ar + below.ar, row.en + below.en
        del rows[r + 1]
        return [row]
    if name == "split":
        cell = row.side(side)
        other = row.side("en" if side == "ar" else "ar")
        if op.at >= len(cell) or (op.at == 0 and not other):
            raise OpError(f"row {r} has {len(cell)} {side} sentences: split it at 1 to {len(cell) - 1}"
                          + ("" if not other else " (or 0, leaving the other side alone)"))
        new = LinkRow(cell[op.at:], []) if side == "ar" else LinkRow([], cell[op.at:])
        del cell[op.at:]
        rows.insert(r + 1, new)
        return [row, new]
    if name == "gap":
        cells = _cells(rows, side)
        if not any(cells[r:]):
            raise OpError(f"no {side} sentences from row {r} down to shift")
        cells.insert(r, [])
        _set_cells(rows, side, cells)
        return [rows[r]]
    if name == "close":
        if row.side(side):
            raise OpError(f"row {r} has {side} sentences: only an empty cell can be closed")
        cells = _cells(rows, side)
        del cells[r]
        _set_cells(rows, side, cells)
        return [rows[r]] if r < len(rows) else []
    if name == "swap":
        if r == 0:
            raise OpError("row 0 has no row above it to swap with")
        above = rows[r - 1]
        if above.side(side) == row.side(side):
            raise OpError(f"rows {r - 1} and {r} have nothing to swap on the {side} side")
        if side == "ar":
            above.ar, row.ar = row.ar, above.ar
        else:
            above.en, row.en = row.en, above.en
        return [above, row]
    if name == "confirm":
        return [row]
    if name == "confirm_to":
        return rows[:r + 1]
    raise OpError(f"op {name} is not an op on rows")


def _confirm(alignment: StoredAlignment, before: list[LinkRow], touched: list[LinkRow], reviewer: str) -> bool:
    """Drop rows left empty, confirm the touched rows; rows whose content changed lose their aligner
    score (and their confirmation, when the op did not touch them). Returns whether anything changed."""
    old = {(tuple(r.ar), tuple(r.en)): r for r in before}
    alignment.rows = [r for r in alignment.rows if r.ar or r.en]
    stamp = now()
    changed = len(alignment.rows) != len(before)
    touched_ids = {id(r) for r in touched}
    for row in alignment.rows:
        was = old.get((tuple(row.ar), tuple(row.en)))
        if was is None:
            changed = True
            row.score = None
            row.status, row.reviewer, row.updated_at = "auto", reviewer, stamp
        if id(row) in touched_ids and row.status != "confirmed":
            changed = True
            row.status, row.reviewer, row.updated_at = "confirmed", reviewer, stamp
    return changed


# -- sentence splits and joins ------------------------------------------------------------------
def _shift(rows: list[LinkRow], side: str, after: int, by: int) -> None:
    for row in rows:
        cell = row.side(side)
        cell[:] = [i + by if i > after else i for i in cell]


def split_sentence(store: Store, db, alignment: StoredAlignment, document_id: int, document_text: str,
                   op: Op) -> LinkRow:
    sentences = alignment.sentences(op.side)
    if op.at >= len(sentences):
        raise OpError(f"no {op.side} sentence {op.at}: there are {len(sentences)}")
    sentence = sentences[op.at]
    text = document_text[sentence.start:sentence.end]
    left, right = text[:op.offset].rstrip(), text[op.offset:].lstrip()
    if op.offset >= len(text) or not left or not right:
        raise OpError(f"offset {op.offset} does not cut {op.side} sentence {op.at} into two non-empty parts "
                      f"(it has {len(text)} characters)")
    spans = [(sentence.start, sentence.start + len(left)), (sentence.end - len(right), sentence.end)]
    ids = store.insert_spans(db, document_id, [NewSegment(op.at + k, a, b, op.at, k, document_text[a:b])
                                               for k, (a, b) in enumerate(spans)])
    sentences[op.at:op.at + 1] = [AlignedSentence(i, a, b, document_text[a:b]) for i, (a, b) in zip(ids, spans)]
    _shift(alignment.rows, op.side, op.at, 1)
    owner = next(row for row in alignment.rows if op.at in row.side(op.side))
    cell = owner.side(op.side)
    cell.insert(cell.index(op.at) + 1, op.at + 1)
    return owner


def join_sentences(store: Store, db, alignment: StoredAlignment, document_id: int, document_text: str,
                   op: Op) -> LinkRow:
    sentences = alignment.sentences(op.side)
    if op.at + 1 >= len(sentences):
        raise OpError(f"{op.side} sentence {op.at} has no next sentence to join (there are {len(sentences)})")
    owner = next(row for row in alignment.rows if op.at in row.side(op.side))
    if op.at + 1 not in owner.side(op.side):
        raise OpError(f"{op.side} sentences {op.at} and {op.at + 1} are in different rows: merge the rows first")
    first, second = sentences[op.at], sentences[op.at + 1]
    start, end = first.start, second.end
    [segment_id] = store.insert_spans(db, document_id, [NewSegment(op.at, start, end, op.at, 0,
                                                                   document_text[start:end])])
    bridge = f"{first.bridge} {second.bridge}" if first.bridge is not None and second.bridge is not None else None
    sentences[op.at:op.at + 2] = [AlignedSentence(segment_id, start, end, document_text[start:end], bridge)]
    owner.side(op.side).remove(op.at + 1)
    _shift(alignment.rows, op.side, op.at + 1, -1)
    return owner


# -- re-aligning ----------------------------------------------------------------------------------
CONTEXT = 20     # sentences before a block that its evidence also sees (backgrounds near its first rows)


def align_block(arabic: Sequence[str], english: Sequence[str], mt: Sequence[str | None] | None,
                ar_range: range | None = None, en_range: range | None = None) -> list[Bead]:
    """The aligner on the sentences ``ar_range`` x ``en_range`` (default: all) of a document pair. Its
    evidence (backgrounds, reliabilities) is estimated on the block and the ``CONTEXT`` sentences before
    it, so the first rows of a block have neighbours as in a whole document. Beads carry document
    indices; a block with one side empty is rows of single sentences."""
    ar_range = ar_range if ar_range is not None else range(len(arabic))
    en_range = en_range if en_range is not None else range(len(english))
    if not ar_range or not en_range:
        return [Bead([i], [], 0.0) for i in ar_range] + [Bead([], [j], 0.0) for j in en_range]
    a0, e0 = max(0, ar_range.start - CONTEXT), max(0, en_range.start - CONTEXT)
    problem = Problem(list(mt[a0:ar_range.stop]) if mt is not None else None, list(english[e0:en_range.stop]),
                      list(arabic[a0:ar_range.stop]))
    i0, j0 = ar_range.start - a0, en_range.start - e0

    def gain(i: int, di: int, j: int, dj: int) -> float:
        return problem.gain(i0 + i, di, j0 + j, dj)

    beads = []
    for i, di, j, dj in dynamic_align(len(ar_range), len(en_range), gain):
        score = problem.link_probability(gain(i, di, j, dj)) if di and dj else 0.0
        beads.append(Bead(list(range(ar_range.start + i, ar_range.start + i + di)),
                          list(range(en_range.start + j, en_range.start + j + dj)), score))
    return beads


def _block_rows(alignment: StoredAlignment, ar: list[int], en: list[int]) -> list[LinkRow]:
    """Aligner rows over these consecutive sentences, with the evidence of the whole document pair (and
    its bridge MT where every Arabic sentence has one)."""
    bridges = [s.bridge for s in alignment.ar]
    mt = bridges if bridges and all(b is not None for b in bridges) else None
    ar_range = range(ar[0], ar[-1] + 1) if ar else range(0)
    en_range = range(en[0], en[-1] + 1) if en else range(0)
    beads = align_block([s.text for s in alignment.ar], [s.text for s in alignment.en], mt, ar_range, en_range)
    return [LinkRow(b.ar, b.en, "auto", round(b.score, 4) if b.ar and b.en else None) for b in beads]


def _consecutive(indices: list[int]) -> bool:
    return indices == list(range(indices[0], indices[0] + len(indices))) if indices else True


def realign_below(alignment: StoredAlignment) -> None:
    """Re-run the aligner on every row after the last confirmed one (the confirmed rows are anchors)."""
    last = max((k for k, r in enumerate(alignment.rows) if r.status == "confirmed"), default=-1)
    rest = alignment.rows[last + 1:]
    if not rest:
        raise OpError("no rows below the last confirmed row to re-align")
    ar = sorted(i for r in rest for i in r.ar)
    en = sorted(j for r in rest for j in r.en)
    if ar and ar[-1] != len(alignment.ar) - 1 or en and en[-1] != len(alignment.en) - 1 \
            or not _consecutive(ar) or not _consecutive(en):
        raise OpError("the rows below the last confirmed row are out of order (a swap?): fix them by hand first")
    alignment.rows[last + 1:] = _block_rows(alignment, ar, en)


def realign_between_confirmed(alignment: StoredAlignment) -> None:
    """Re-run the aligner on each run of unconfirmed rows between confirmed ones (a new automatic
    alignment of a document pair with confirmed rows). A run whose sentences are out of order stays."""
    out: list[LinkRow] = []
    block: list[LinkRow] = []
    for row in [*alignment.rows, None]:
        if row is not None and row.status != "confirmed":
            block.append(row)
            continue
        if block:
            ar = sorted(i for r in block for i in r.ar)
            en = sorted(j for r in block for j in r.en)
            out.extend(_block_rows(alignment, ar, en) if _consecutive(ar) and _consecutive(en) else block)
            block = []
        if row is not None:
            out.append(row)
    alignment.rows = out


# -- changes in the store ---------------------------------------------------------------------------
@dataclass
class AlignSummary:
    stored: int = 0            # pairs added
    existing: int = 0          # pairs that were there already (kept or revived)
    kept_confirmed: int = 0    # confirmed rows the new alignment left as they were
    document_pair_id: int = 0


def _make_pair(status_source: str, not_a_translation: bool = False):
    """(source, English, row) -> (score, label, signals) of a pair made by a link: quality of the pair,
    averaged with the aligner's link probability for automatic rows, but never above the quality of a
    pair that quality labels bad (a confident link does not rescue an untranslated or wrong-language
    pair). ``not_a_translation`` (documents that failed the document check, stored with --force)
    labels every pair bad."""
    from .score import label_for, score_pair

    def make(source: str, english: str, row: LinkRow) -> tuple[float, str, dict]:
        quality = score_pair(source, english)
        signals = {**quality.signals, "alignment": row.kind(), "link_status": row.status}
        score = quality.score
        if row.score is not None:
            score = 0.5 * quality.score + 0.5 * row.score
            if quality.label == "bad":
                score = min(score, quality.score)
            signals["alignment_score"] = round(row.score, 4)
        score = round(score, 4)
        signals["made_by"] = status_source
        label = label_for(score)
        if not_a_translation:
            signals["not_a_translation"] = True
            label = "bad"
        return score, label, signals
    return make


def _document_text(db, document_id: int) -> str:
    return db.execute("SELECT text FROM documents WHERE id = ?", (document_id,)).fetchone()[0]


def _content(alignment: StoredAlignment) -> tuple:
    return ([(s.segment_id, s.bridge) for s in alignment.ar], [(s.segment_id, s.bridge) for s in alignment.en],
            [(r.ar, r.en, r.status, r.score, r.translation_id) for r in alignment.rows], alignment.model_id,
            alignment.bridge)


def store_auto_alignment(store: Store, ar_document_id: int, ar_sentences: list[AlignedSentence],
                         en_document_id: int, en_sentences: list[AlignedSentence], beads: list[Bead],
                         model_id: int | None, bridge: str | None, run_id: int,
                         reviewer: str = "aligner", not_a_translation: bool = False) -> AlignSummary:
    """Store an automatic alignment of a document pair as its links and pairs.

    A document pair has one alignment. A new one takes the beads as they are; one with confirmed rows
    keeps them and its sentence lists (which the editor may have split or joined), takes the new bridge
    MT of the sentences it still shares, and re-aligns the unconfirmed rows between the confirmed ones.
    Pairs stored before links existed are reused where a link makes the same pair (their reviews stay)."""
    summary = AlignSummary()
    make_pair = _make_pair("align", not_a_translation)
    with store.transaction() as db:
        pair_id = store.document_pair_id(ar_document_id, en_document_id)
        created = pair_id is None
        if created:
            pair_id = store.create_document_pair(db, ar_document_id, en_document_id, model_id, bridge)
        alignment = store.load_alignment(pair_id, db)
        summary.document_pair_id = pair_id
        before = alignment.snapshot()
        content_before = _content(alignment)
        previous = {r.translation_id for r in alignment.rows if r.translation_id is not None}
        confirmed = [r for r in alignment.rows if r.status == "confirmed"]
        alignment.model_id, alignment.bridge = model_id, bridge
        if not confirmed:
            alignment.ar, alignment.en = ar_sentences, en_sentences
            alignment.rows = [LinkRow(list(b.ar), list(b.en), "auto", round(b.score, 4) if b.ar and b.en else None)
                              for b in beads]
        else:
            new_bridge = {s.segment_id: s.bridge for s in ar_sentences}
            alignment.ar = [replace(s, bridge=new_bridge.get(s.segment_id)) for s in alignment.ar]
            realign_between_confirmed(alignment)
            summary.kept_confirmed = len(confirmed)
        if created:
            linked = {r[0] for r in db.execute("SELECT translation_id FROM links WHERE translation_id IS NOT NULL")}
            legacy = store.legacy_aligned_pairs(db, ar_document_id, _document_text(db, en_document_id), linked)
            previous |= {r["id"] for r in legacy}
            summary.kept_confirmed = _anchor_reviewed_pairs(alignment, legacy, reviewer)
        check_alignment(alignment)
        summary.stored, summary.existing = store.sync_link_pairs(
            db, alignment, _document_text(db, ar_document_id), previous, make_pair, run_id=run_id)
        if _content(alignment) == content_before:
            return summary
        store.write_alignment(db, alignment)
        store.log_link_change(db, pair_id, "create" if created else "align",
                              {"bridge": bridge, "run": run_id}, reviewer, before)
    return summary


def _anchor_reviewed_pairs(alignment: StoredAlignment, legacy: list, reviewer: str) -> int:
    """Pairs a reviewer decided on before links existed whose link the new alignment does not make
    become confirmed rows (their decision stays visible); the rows between are aligned again. Returns
    how many. Pairs that overlap an earlier one (two alignments of old) are left as history."""
    made = {(tuple(r.ar), tuple(r.en)) for r in alignment.rows}
    where = {s.segment_id: k for k, s in enumerate(alignment.ar)}
    english = [s.text for s in alignment.en]
    anchors = []
    for pair in legacy:
        k = where.get(pair["segment_id"])
        if pair["status"] == "pending" or k is None or k + pair["segment_count"] > len(alignment.ar):
            continue
        ar = tuple(range(k, k + pair["segment_count"]))
        for j in range(len(english)):
            size = next((n for n in range(1, 5) if " ".join(english[j:j + n]) == pair["text"]), None)
            if size is not None:
                anchors.append((ar, tuple(range(j, j + size))))
                break
    if all(anchor in made for anchor in anchors):
        return 0
    kept, ar_end, en_end = [], 0, 0
    for ar, en in sorted(anchors):
        if ar[0] >= ar_end and en[0] >= en_end:
            kept.append((ar, en))
            ar_end, en_end = ar[-1] + 1, en[-1] + 1
    rows, ar_end, en_end, stamp = [], 0, 0, now()
    for ar, en in kept + [((len(alignment.ar),), (len(alignment.en),))]:
        gap_ar, gap_en = list(range(ar_end, ar[0])), list(range(en_end, en[0]))
        if gap_ar or gap_en:
            rows.append(LinkRow(gap_ar, gap_en))            # aligned again below
        if ar[0] < len(alignment.ar) or en[0] < len(alignment.en):
            rows.append(LinkRow(list(ar), list(en), "confirmed", None, None, reviewer, stamp))
        ar_end, en_end = ar[-1] + 1, en[-1] + 1
    alignment.rows = rows
    realign_between_confirmed(alignment)
    return len(kept)


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
            touched = [change(store, db, alignment, document_id, _document_text(db, document_id), op)]
            before_rows = []        # sentence indices moved: every row's content counts as new
        else:
            realign_below(alignment)
            touched = []
        if op.op in SENTENCE_OPS:
            _confirm_sentence_change(touched, reviewer)
        elif not _confirm(alignment, before_rows, touched, reviewer) and op.op != "realign":
            return alignment
        check_alignment(alignment)
        store.sync_link_pairs(db, alignment, _document_text(db, alignment.ar_document_id), previous,
                              _make_pair("editor"))
        store.write_alignment(db, alignment, stored)
        store.log_link_change(db, pair_id, op.op, op.as_json(), reviewer, before)
    store.remember_alignment(alignment)
    return alignment


def _confirm_sentence_change(touched: list[LinkRow], reviewer: str) -> None:
    """After a sentence split or join only the row holding it changed (the others' indices shifted)."""
    for row in touched:
        row.status, row.reviewer, row.updated_at, row.score = "confirmed", reviewer, now(), None


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
        store.sync_link_pairs(db, alignment, _document_text(db, alignment.ar_document_id), previous,
                              _make_pair("editor"))
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


# -- what the editor and scripts read -------------------------------------------------------------------
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


def locate_sentences(text: str, sentences: Sequence[str]) -> list[NewSegment]:
    """The spans of sentences (in order) in the text they were split from; a sentence that is not a
    piece of it (a splitter that changed characters) raises ValueError."""
    out, offset = [], 0
    for k, sentence in enumerate(sentences):
        start = text.find(sentence, offset)
        if start < 0:
            raise ValueError(f"sentence {k + 1} is not found in the document text")
        end = start + len(sentence)
        out.append(NewSegment(k, start, end, k, 0, sentence))
        offset = end
    return out


def store_imported_alignment(store: Store, ar_sha256: str, en_sha256: str, rows: list[dict],
                             reviewer: str = "import") -> tuple[int, int]:
    """Make a document pair's alignment the rows of a links export ({"ar": spans, "en": spans,
    "status"}), for documents this store holds (by sha256). One undoable change; pairs follow the links.
    Returns (document pair id, pairs added). ValueError names what does not fit."""
    documents = {}
    for side, sha in (("ar", ar_sha256), ("en", en_sha256)):
        found = store.db.execute("SELECT id, text FROM documents WHERE sha256 = ?", (sha,)).fetchone()
        if found is None:
            raise ValueError(f"the {'Arabic' if side == 'ar' else 'English'} document {sha[:12]}… is not in this "
                             "store: align or import the documents first")
        documents[side] = (found["id"], found["text"])
    spans = {side: sorted({span for row in rows for span in row[side]}) for side in SIDES}
    for side in SIDES:
        text = documents[side][1]
        for (a, b), (c, _) in zip(spans[side], spans[side][1:] + [(len(text), 0)]):
            if b > len(text) or b > c:
                raise ValueError(f"{side} offsets [{a}, {b}] overlap another sentence or pass the document's end")
        # every sentence of the document in a row: outside the spans there may only be white space
        outside, last = [], 0
        for a, b in spans[side] + [(len(text), len(text))]:
            outside.append((last, text[last:a]))
            last = b
        left_out = next((start for start, gap in outside if gap.strip()), None)
        if left_out is not None:
            raise ValueError(f"the links leave text of the {side} document out (at offset {left_out}): every "
                             "sentence must be in a row")
    with store.transaction() as db:
        pair_id = store.document_pair_id(documents["ar"][0], documents["en"][0])
        created = pair_id is None
        if created:
            pair_id = store.create_document_pair(db, documents["ar"][0], documents["en"][0], None, None)
        alignment = store.load_alignment(pair_id, db)
        before = alignment.snapshot()
        previous = {r.translation_id for r in alignment.rows if r.translation_id is not None}
        bridges = {s.segment_id: s.bridge for s in alignment.ar}
        index = {}
        for side in SIDES:
            document_id, text = documents[side]
            ids = store.insert_spans(db, document_id, [NewSegment(k, a, b, k, 0, text[a:b])
                                                       for k, (a, b) in enumerate(spans[side])])
            alignment.sentences(side)[:] = [
                AlignedSentence(i, a, b, text[a:b], bridges.get(i) if side == "ar" else None)
                for i, (a, b) in zip(ids, spans[side])]
            index[side] = {span: k for k, span in enumerate(spans[side])}
        stamp = now()
        alignment.rows = [LinkRow([index["ar"][s] for s in row["ar"]], [index["en"][s] for s in row["en"]],
                                  row["status"], None, None, reviewer, stamp) for row in rows]
        check_alignment(alignment)
        added, _ = store.sync_link_pairs(db, alignment, documents["ar"][1], previous, _make_pair("import"))
        store.write_alignment(db, alignment)
        store.log_link_change(db, pair_id, "create" if created else "import", {"rows": len(rows)}, reviewer, before)
    return pair_id, added
