"""Re-running the aligner on part of an alignment: below the last confirmed row, or between confirmed rows."""
from __future__ import annotations

from collections.abc import Sequence

from ..sentence_alignment.scoring import Problem
from ..sentence_alignment.search import Bead, dynamic_align
from ..store import LinkRow, StoredAlignment
from .validation import OpError

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


def consecutive(indices: list[int]) -> bool:
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
            or not consecutive(ar) or not consecutive(en):
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
            out.extend(_block_rows(alignment, ar, en) if consecutive(ar) and consecutive(en) else block)
            block = []
        if row is not None:
            out.append(row)
    alignment.rows = out
