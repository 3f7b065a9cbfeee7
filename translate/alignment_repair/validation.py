"""What an editor request and an alignment must be: the ops and their fields (``parse_op``), and the
invariant every change keeps (``check_alignment``), checked before anything is written."""
from __future__ import annotations

import json
from dataclasses import dataclass

from ..store import StoredAlignment

ROW_OPS = ("up", "down", "merge", "split", "gap", "close", "swap", "confirm", "confirm_to")
SENTENCE_OPS = ("split_sentence", "join_sentences")
OPS = (*ROW_OPS, *SENTENCE_OPS, "realign")
NEEDS_SIDE = ("up", "down", "split", "gap", "close", "swap", *SENTENCE_OPS)
NEEDS_AT = ("split", *SENTENCE_OPS)
SIDES = ("ar", "en")
NOT_UNDOABLE = ("undo", "create")


class OpError(Exception):
    """An operation that cannot apply to the current alignment; the message says why (HTTP 400)."""


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
