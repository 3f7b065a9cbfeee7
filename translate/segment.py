"""Arabic sentence segmentation for news text.

``segment(text)`` cuts a document into sentences and, when a sentence is longer
than ``max_words`` words, into clause-sized parts a translation model can handle.

How it works:

1. Characters that carry no meaning for segmentation (tatweel, zero-width and
   bidi control characters) are removed into a *clean* copy of the text, with a
   map back to the original offsets, so no rule is broken by them and offsets
   stay exact.
2. One scan over the clean text visits only the interesting characters:
   sentence punctuation, quotes, brackets, line breaks (and URLs, which are
   skipped whole). It keeps track of open quotations and brackets and decides,
   for each run of terminal punctuation, whether it ends a sentence: not after
   an abbreviation or initial (Latin or spelt in Arabic script), an era or time
   marker or "إلخ" before a continuing word, an inline list number, or before
   the attribution of a quotation. A line break ends a sentence; a lone
   vertical tab or form feed (a manual line or page break) is a space.
3. Sentences longer than ``max_words`` are split after ``؛`` or ``،``: a small
   dynamic programme picks the cut points that keep every part under the limit
   with parts as even as possible, preferring semicolons, then commas before a
   connective, then other commas, and avoiding cuts inside quotes or brackets.
4. Cut positions are mapped back to the original string; every piece between
   two cuts is stripped of surrounding whitespace, so every non-space character
   of the input belongs to exactly one segment.

The steps live in translate/segmentation/: offsets.py (1), boundaries.py with
quotations.py and abbreviations.py (2), clauses.py (3); characters.py holds the
character classes they share. This module puts them together.
"""
from __future__ import annotations

from dataclasses import dataclass

from .segmentation.boundaries import sentence_spans
from .segmentation.characters import count_words
from .segmentation.clauses import clause_cuts
from .segmentation.offsets import strip_ignorable

__all__ = ["DEFAULT_MAX_WORDS", "Segment", "count_words", "segment"]

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


def segment(text: str, max_words: int = DEFAULT_MAX_WORDS) -> list[Segment]:
    """Split ``text`` into sentences, and over-long sentences into parts.

    ``max_words`` of 0 (or less) keeps sentences whole.
    """
    if not isinstance(text, str):
        raise TypeError(f"segment() needs a str, got {type(text).__name__}")
    clean, to_original = strip_ignorable(text)
    spans = sentence_spans(clean)  # contiguous: together they cover all of clean

    out: list[Segment] = []
    sentence_number = 0
    last_span = len(spans) - 1
    for index, (start, end, quote_state) in enumerate(spans):
        cuts = clause_cuts(clean, start, end, quote_state, max_words) if max_words > 0 else []
        # The pieces cover the original text end to end, ignorable characters
        # at either end included, so no character can fall between two pieces.
        bounds = [to_original(c) for c in (start, *cuts, end)]
        if index == 0:
            bounds[0] = 0
        if index == last_span:
            bounds[-1] = len(text)
        part = 0
        for piece_start, piece_end in zip(bounds, bounds[1:]):
            seg = _make_segment(text, piece_start, piece_end, sentence_number, part)
            if seg is not None:
                out.append(seg)
                part += 1
        if part:
            sentence_number += 1
    return out


def _make_segment(text: str, start: int, end: int, sentence: int, part: int) -> Segment | None:
    piece = text[start:end]
    stripped_left = piece.lstrip()
    stripped = stripped_left.rstrip()
    if not stripped:
        return None
    seg_start = start + len(piece) - len(stripped_left)
    return Segment(seg_start, seg_start + len(stripped), stripped, sentence, part)
