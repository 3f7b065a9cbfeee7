"""The editor's operations on an alignment in memory: moves, merges, splits and swaps of rows, sentence
splits and joins (these write the new sentence spans), and which rows they confirm."""
from __future__ import annotations

from ..store import AlignedSentence, LinkRow, NewSegment, Store, StoredAlignment, now
from .validation import Op, OpError


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


def confirm_rows(alignment: StoredAlignment, before: list[LinkRow], touched: list[LinkRow], reviewer: str) -> bool:
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


def confirm_sentence_change(touched: list[LinkRow], reviewer: str) -> None:
    """After a sentence split or join only the row holding it changed (the others' indices shifted)."""
    for row in touched:
        row.status, row.reviewer, row.updated_at, row.score = "confirmed", reviewer, now(), None


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
