"""Removing the characters that carry no meaning for segmentation, with a map back to the original offsets."""
from __future__ import annotations

import re
from bisect import bisect_right

# Removed before matching: tatweel, soft hyphen, ZWSP/ZWNJ/ZWJ/LRM/RLM, ALM,
# LRE..RLO, LRI..PDI, word joiner and BOM.
_IGNORABLE = re.compile(r"[\u0640\u00ad\u200b-\u200f\u061c\u202a-\u202e\u2060\u2066-\u2069\ufeff]+")


def strip_ignorable(text: str):
    """The text without ignorable characters, and a clean→original offset map.

    A clean offset maps to the original offset of the same kept character, so
    ignorable characters just before a cut stay with the text before it,
    unless a space comes before them: then they lead the text after the cut.
    """
    if not _IGNORABLE.search(text):
        return text, _identity
    clean_starts: list[int] = []  # where each kept chunk starts in the clean text
    original_starts: list[int] = []  # ... and in the original
    pieces: list[str] = []
    clean_pos = 0
    original_pos = 0
    for m in _IGNORABLE.finditer(text):
        if m.start() > original_pos:
            clean_starts.append(clean_pos)
            original_starts.append(original_pos)
            pieces.append(text[original_pos : m.start()])
            clean_pos += m.start() - original_pos
        original_pos = m.end()
    if original_pos < len(text):
        clean_starts.append(clean_pos)
        original_starts.append(original_pos)
        pieces.append(text[original_pos:])
    clean_len = clean_pos + (len(text) - original_pos)

    clean = "".join(pieces)

    def to_original(clean_offset: int) -> int:
        if clean_offset >= clean_len:
            return len(text)
        k = bisect_right(clean_starts, clean_offset) - 1
        if k > 0 and clean_offset == clean_starts[k] and clean[clean_offset - 1].isspace():
            # Ignorable characters after a space lead the text that follows.
            return original_starts[k - 1] + (clean_offset - clean_starts[k - 1])
        return original_starts[k] + (clean_offset - clean_starts[k])

    return clean, to_original


def _identity(offset: int) -> int:
    return offset
