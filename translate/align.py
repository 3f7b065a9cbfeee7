"""Sentence alignment of an Arabic document with its existing English translation, bridged by MT.

The Arabic sentences are machine-translated (or a given line-aligned MT is used); the MT is compared
with the English sentences, and dynamic programming picks the best sequence of *beads*: 1-1, 1-2, 2-1,
2-2, and 1-0 / 0-1 for sentences with no counterpart. A bead's gain is

    similarity(MT of its Arabic, its English) - background similarity + LINK_BONUS
    - LENGTH_WEIGHT * |log(expected English length / English length)| - a small penalty for non 1-1 beads

and a skipped sentence gains 0. The similarity is a Dice coefficient over character 3-grams and words
(a cheap chrF-like score); the background is how similar the sentences are to the wrong sentences
around them, so a link must stand out from its neighbourhood, which keeps working with a weak bridge
model. The length term uses the Arabic length times the expected English/Arabic ratio (Gale–Church's
signal), not the MT length. The search is banded around the diagonal, so long documents stay fast.

Aligned pairs go to the store with the human English as the translation and the MT kept as ``bridge``;
1-0 and 0-1 beads are not stored.
"""
from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .pipeline import iter_segments, read_lines
from .store import NewSegment, Store

SIMILARITY_FLOOR = 0.12     # background similarity when a sentence has no neighbours to compare with
BACKGROUND_WINDOW = 4       # neighbours either side that estimate the background similarity
LENGTH_WEIGHT = 0.10
# a small reward for linking, so that with a weak bridge MT (similarity barely above background) the
# length and position still link sentences instead of leaving both unmatched
LINK_BONUS = 0.05
EXPECTED_LENGTH_RATIO = math.exp(0.17)   # English chars per Arabic char (as translate.score)
BEAD_PENALTY = {(1, 1): 0.0, (1, 2): 0.04, (2, 1): 0.04, (2, 2): 0.10}
MOVES = ((1, 1), (1, 2), (2, 1), (2, 2), (1, 0), (0, 1))


class AlignError(Exception):
    """Inputs that cannot be aligned; the message names the file and the problem."""


@dataclass
class Bead:
    ar: list[int]               # indices of Arabic sentences
    en: list[int]               # indices of English sentences
    score: float                # similarity of the bridge MT and the English (0 for 1-0 / 0-1)

    def as_json(self) -> dict:
        return {"ar": self.ar, "en": self.en, "score": round(self.score, 4)}


# -- similarity ---------------------------------------------------------------------------------
_SPACES = re.compile(r"\s+")
_WORDS = re.compile(r"\w+")


def profile(text: str) -> frozenset[str]:
    """The set of character 3-grams and words of a text (lower-cased, spaces collapsed)."""
    text = _SPACES.sub(" ", text.lower()).strip()
    grams = {text[i:i + 3] for i in range(len(text) - 2)}
    grams.update("\x00" + word for word in _WORDS.findall(text))   # words and 3-grams never collide
    return frozenset(grams)


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """F1 (Dice coefficient) of the n-gram sets of two texts, in [0, 1]; set operations keep it fast."""
    total = len(a) + len(b)
    return 2.0 * len(a & b) / total if total else 0.0


# -- dynamic programming ------------------------------------------------------------------------
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


def align(mt: Sequence[str], english: Sequence[str], arabic: Sequence[str] | None = None) -> list[Bead]:
    """Align sentences given the MT of each Arabic sentence (line-aligned) and the English sentences.

    With the Arabic sentences themselves, the length term compares Arabic length (times the expected
    English/Arabic ratio) with English length, which stays reliable when the bridge MT is poor.
    """
    n, m = len(mt), len(english)
    # n-gram sets of single sentences and of each sentence joined with the next (for 2-x beads)
    mt_sets = {1: [profile(t) for t in mt]}
    en_sets = {1: [profile(t) for t in english]}
    mt_sets[2] = [a | b for a, b in zip(mt_sets[1], mt_sets[1][1:])]
    en_sets[2] = [a | b for a, b in zip(en_sets[1], en_sets[1][1:])]
    if arabic is not None:
        source_lengths = [len(t) * EXPECTED_LENGTH_RATIO for t in arabic]
    else:
        source_lengths = [float(len(t)) for t in mt]
    en_lengths = [float(len(t)) for t in english]
    mt_base = _background(mt_sets[1], en_sets[1])
    en_base = _background(en_sets[1], mt_sets[1])
    # per span of 1 or 2 sentences: length (+1 for the joining space) and background, precomputed
    # because the search asks for them millions of times on long documents
    src_span = {1: source_lengths, 2: [a + b + 1 for a, b in zip(source_lengths, source_lengths[1:])]}
    en_span = {1: en_lengths, 2: [a + b + 1 for a, b in zip(en_lengths, en_lengths[1:])]}
    mt_back = {1: mt_base, 2: [(a + b) / 2 for a, b in zip(mt_base, mt_base[1:])]}
    en_back = {1: en_base, 2: [(a + b) / 2 for a, b in zip(en_base, en_base[1:])]}

    def sim(i: int, di: int, j: int, dj: int) -> float:
        return similarity(mt_sets[di][i], en_sets[dj][j])

    def gain(i: int, di: int, j: int, dj: int) -> float:
        background = 0.5 * (mt_back[di][i] + en_back[dj][j])
        length_term = abs(math.log((src_span[di][i] + 1) / (en_span[dj][j] + 1)))
        return (sim(i, di, j, dj) - background + LINK_BONUS - LENGTH_WEIGHT * length_term
                - BEAD_PENALTY[di, dj])

    beads = []
    for i, di, j, dj in dynamic_align(n, m, gain):
        score = sim(i, di, j, dj) if di and dj else 0.0
        beads.append(Bead(list(range(i, i + di)), list(range(j, j + dj)), score))
    return beads


def _background(these: list[frozenset[str]], others: list[frozenset[str]]) -> list[float]:
    """For each sentence, how similar it is to the *wrong* sentences near its place on the other side: the
    mean similarity to its neighbourhood without the best match. A link must beat this, which adapts the
    threshold to the quality of the bridge MT (a poor MT is only a little closer to the right sentence)."""
    n, m = len(these), len(others)
    out = []
    for i, mine in enumerate(these):
        centre = round(i * m / n) if n else 0
        values = sorted(similarity(mine, others[j])
                        for j in range(max(0, centre - BACKGROUND_WINDOW), min(m, centre + BACKGROUND_WINDOW + 1)))
        values = values[:-1]
        out.append(sum(values) / len(values) if values else SIMILARITY_FLOOR)
    return out


# -- sentences ----------------------------------------------------------------------------------
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


# -- storing ------------------------------------------------------------------------------------
@dataclass
class StoreSummary:
    stored: int = 0
    existing: int = 0
    pairs: list[dict] = field(default_factory=list)


def alignment_confidence(similarity_score: float) -> float:
    """0 at the similarity of unrelated text, 1 from a similarity of 0.5 (a close paraphrase) up."""
    return max(0.0, min(1.0, (similarity_score - SIMILARITY_FLOOR) / (0.5 - SIMILARITY_FLOOR)))


def store_alignment(store: Store, ar_path: str, ar_text: str, segments: list[NewSegment], english: list[str],
                    mt: list[str], beads: list[Bead], model_id: int | None, options: dict) -> StoreSummary:
    """Store the linked beads as human-translation pairs (MT as bridge); re-running adds nothing new.

    A pair's score averages the quality estimate of (Arabic, English) with the alignment confidence;
    its signals hold every quality signal plus ``alignment_score`` and ``alignment`` ("2-1" ...).
    """
    from .score import label_for, score_pair

    summary = StoreSummary()
    sha = hashlib.sha256(ar_text.encode("utf-8")).hexdigest()
    document_id, _ = store.add_document(ar_path, ar_text, sha)
    segment_ids = store.add_segments(document_id, segments)
    run_id = store.start_run("align", model_id, options)
    status = "interrupted"
    try:
        with store.transaction() as db:
            for bead in beads:
                if not bead.ar or not bead.en:
                    continue
                first, last = segments[bead.ar[0]], segments[bead.ar[-1]]
                source = ar_text[first.start:last.end]
                target = " ".join(english[j] for j in bead.en)
                bridge = " ".join(mt[i] for i in bead.ar)
                quality = score_pair(source, target)
                score = round(0.5 * quality.score + 0.5 * alignment_confidence(bead.score), 4)
                signals = {**quality.signals, "alignment_score": round(bead.score, 4),
                           "alignment": f"{len(bead.ar)}-{len(bead.en)}"}
                added = store.add_translation(
                    db, segment_ids[bead.ar[0]], target, model_id, run_id, score, label_for(score), signals,
                    origin="human", segment_count=len(bead.ar), source_end=last.end, bridge=bridge)
                if added is None:
                    summary.existing += 1
                    continue
                summary.stored += 1
        status = "done"
    finally:
        store.finish_run(run_id, status)
    return summary
