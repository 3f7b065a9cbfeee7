"""The sentences of both sides: by line (presegmented), by our segmenter (Arabic) or pySBD (English);
and a given line-aligned MT of the Arabic sentences."""
from __future__ import annotations

from pathlib import Path

from ..pipeline import iter_segments, read_lines
from ..store import NewSegment
from .search import AlignError


def arabic_sentences(text: str, presegmented: bool) -> list[NewSegment]:
    """Arabic sentences with offsets into ``text``: one per non-blank line, or by the segmenter."""
    if not presegmented:
        return list(iter_segments(text, max_words=0))
    return [NewSegment(n, start, end, n, 0, text[start:end])
            for n, (start, end) in enumerate(_line_spans(text))]


def english_sentences(text: str, presegmented: bool) -> list[str]:
    if presegmented:
        return [text[start:end] for start, end in _line_spans(text)]
    import pysbd

    splitter = pysbd.Segmenter(language="en", clean=False)
    sentences = []
    for line in text.splitlines():          # a line break always ends a sentence (paragraphs, headings)
        if line.strip():
            sentences.extend(s.strip() for s in splitter.segment(line) if s.strip())
    return sentences


def _line_spans(text: str) -> list[tuple[int, int]]:
    spans, offset = [], 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            start = offset + line.index(stripped[0])
            spans.append((start, start + len(stripped)))
        offset += len(line) + 1
    return spans


def read_translations(path: Path, expected: int) -> list[str]:
    """A line-aligned MT of the Arabic sentences: exactly one line per sentence."""
    lines = read_lines(path)
    if len(lines) != expected:
        raise AlignError(f"{path}: {len(lines)} lines, but the Arabic side has {expected} sentences "
                         "(one translation line per Arabic sentence is needed)")
    return lines
