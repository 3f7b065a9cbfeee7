"""The search: dynamic programming over beads (1-1, 1-2, 2-1, 2-2, 1-0, 0-1) in a band around the diagonal."""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass


class AlignError(Exception):
    """Inputs that cannot be aligned; the message names the file and the problem."""


@dataclass
class Bead:
    ar: list[int]               # indices of Arabic sentences
    en: list[int]               # indices of English sentences
    score: float                # estimated probability that the link is right (0 for 1-0 / 0-1)

    def as_json(self) -> dict:
        return {"ar": self.ar, "en": self.en, "score": round(self.score, 4)}


MOVES = ((1, 1), (1, 2), (2, 1), (2, 2), (1, 0), (0, 1))


def band_width(n: int, m: int) -> int:
    """Cells searched either side of the diagonal: room for the drift that skips and merges cause."""
    return 12 + abs(n - m) + int(2 * math.sqrt(max(n, m)))


def dynamic_align(n: int, m: int, gain: Callable[[int, int, int, int], float],
                  skip_gain: float = 0.0, moves: Sequence[tuple[int, int]] = MOVES) -> list[tuple[int, int, int, int]]:
    """Best path of beads over n x m sentences; ``gain(i, di, j, dj)`` scores the bead of Arabic
    i..i+di-1 with English j..j+dj-1 (di, dj >= 1). Returns (i, di, j, dj) beads in order."""
    width = band_width(n, m)
    best: dict[tuple[int, int], float] = {(0, 0): 0.0}
    back: dict[tuple[int, int], tuple[int, int]] = {}
    for i in range(n + 1):
        centre = round(i * m / n) if n else 0
        for j in range(max(0, centre - width), min(m, centre + width) + 1):
            if i == 0 and j == 0:
                continue
            top, arrow = -math.inf, None
            for di, dj in moves:
                previous = best.get((i - di, j - dj))
                if previous is None:
                    continue
                value = previous + (gain(i - di, di, j - dj, dj) if di and dj else skip_gain)
                if value > top:
                    top, arrow = value, (di, dj)
            if arrow is not None:
                best[i, j] = top
                back[i, j] = arrow
    if (n, m) not in best:
        raise AlignError("no alignment path inside the search band")
    path = []
    i, j = n, m
    while (i, j) != (0, 0):
        di, dj = back[i, j]
        i, j = i - di, j - dj
        path.append((i, di, j, dj))
    return path[::-1]
