"""Arabic sentence segmentation (first version; the segmenter issue replaces the rules)."""
from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_MAX_WORDS = 60


@dataclass(frozen=True)
class Segment:
    """A span of the original text: ``text == original[start:end]``.

    ``sentence`` numbers sentences in the document from 0; ``part`` numbers the
    pieces of a sentence that was split because it was too long (0 when whole).
    """

    start: int
    end: int
    text: str
    sentence: int
    part: int = 0


_BOUNDARY = re.compile(r"[.!?؟…]+|\n")


def segment(text: str, max_words: int = DEFAULT_MAX_WORDS) -> list[Segment]:
    out: list[Segment] = []
    pos = 0
    for m in _BOUNDARY.finditer(text):
        _add(text, pos, m.end(), out)
        pos = m.end()
    _add(text, pos, len(text), out)
    return out


def _add(text: str, start: int, end: int, out: list[Segment]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        out.append(Segment(start, end, text[start:end], len(out)))
