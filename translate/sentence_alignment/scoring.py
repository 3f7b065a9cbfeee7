"""The gain of a bead: the features of its sentences' evidence (see translate.align for the list), weighted
by ``WEIGHTS``; the background similarities and the per-document reliability of the bridge and the lexicon."""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .evidence import (EMPTY, View, arabic_view, bridge_similarity, content_similarity, english_view,
                       lexical_similarity, similarity, translation_tables)
from .names import NameIndex, name_candidates_en

BACKGROUND_WINDOW = 4       # neighbours either side that estimate the background similarity
FEATURES = ("bridge", "lexical", "best_share", "numbers", "numbers_seen", "names", "names_seen", "punctuation",
            "length", "one_two", "two_two")

# fitted by `python bench/align_eval.py --fit` (see that script): the gain of a bead is
# intercept * (sentences in the bead) / 2 + sum(weight * feature); a chosen bead's score (the
# probability that its links are right) is sigmoid(link_scale * gain + link_offset)
WEIGHTS: dict[str, dict[str, float]] = {
    "bridge": {"intercept": 4.0, "bridge": 6.098, "lexical": 5.115, "best_share": 3.051, "numbers": 1.349,
              "numbers_seen": -1.593, "names": 0.423, "names_seen": -0.468, "punctuation": 0.889, "length": -3.672,
              "one_two": -2.104, "two_two": -4.366, "link_scale": 0.4897, "link_offset": 0.7344},
    "none": {"intercept": 4.5, "bridge": 0.0, "lexical": 5.526, "best_share": 3.139, "numbers": 1.209,
              "numbers_seen": -1.658, "names": 0.351, "names_seen": -0.53, "punctuation": 1.164, "length": -3.8,
              "one_two": -1.991, "two_two": -4.102, "link_scale": 0.4669, "link_offset": 0.5425},
}


class Problem:
    """Both sides of one document pair, prepared for the search: views of every sentence and of every
    two consecutive sentences, and the background similarities."""

    def __init__(self, mt: Sequence[str] | None, english: Sequence[str], arabic: Sequence[str] | None = None):
        if mt is None and arabic is None:
            raise ValueError("align needs the Arabic sentences, their MT, or both")
        self.n = len(mt) if mt is not None else len(arabic)
        self.m = len(english)
        self.has_bridge = mt is not None
        weights = WEIGHTS["bridge" if self.has_bridge else "none"]
        self.intercept, self.vector = weights["intercept"], [weights[f] for f in FEATURES]
        self.link_scale, self.link_offset = weights.get("link_scale", 1.0), weights.get("link_offset", 0.0)
        tables = translation_tables() if arabic is not None else ({}, {})
        index = NameIndex(english) if arabic is not None else None
        ar_views = []
        for k in range(self.n):
            text = arabic[k] if arabic is not None else None
            names = index.english_names(text, tables[0]) if index is not None else EMPTY
            ar_views.append(arabic_view(text, mt[k] if mt is not None else None, tables, names))
        matched = frozenset().union(*(v.names for v in ar_views)) if ar_views else EMPTY
        en_views = [english_view(text, tables, self.has_bridge, frozenset(name_candidates_en(text)) & matched)
                    for text in english]
        self.ar = {1: ar_views, 2: [a | b for a, b in zip(ar_views, ar_views[1:])]}
        self.en = {1: en_views, 2: [a | b for a, b in zip(en_views, en_views[1:])]}
        self.back: dict[str, dict[str, dict[int, list[float]]]] = {}
        self.scale: dict[str, float] = {}
        self.gap: dict[str, float] = {}
        for name, measure in (("bridge", bridge_similarity), ("lexical", lexical_similarity)):
            if name == "bridge" and not self.has_bridge:
                continue
            a = background(ar_views, en_views, measure)
            e = background(en_views, ar_views, lambda x, y: measure(y, x))
            self.back[name] = {"ar": {1: a.means, 2: [(x + y) / 2 for x, y in zip(a.means, a.means[1:])]},
                               "en": {1: e.means, 2: [(x + y) / 2 for x, y in zip(e.means, e.means[1:])]}}
            self.scale[name], self.gap[name] = _reliability(name, a, e)
        # each sentence's best partner near its place on the other side, by all the evidence of content:
        # bridge, lexicon, names and numbers (a name can be the only word that tells two sentences apart)
        self.ar_best = _best_partner(ar_views, en_views, content_similarity)
        self.en_best = _best_partner(en_views, ar_views, lambda e, a: content_similarity(a, e))

    def features(self, i: int, di: int, j: int, dj: int) -> list[float]:
        """The FEATURES of the bead of Arabic i..i+di-1 with English j..j+dj-1 (di, dj in 1, 2), in order.
        (Written out flat: the search asks for it at every cell of the band, for every bead shape.)"""
        a, e = self.ar[di][i], self.en[dj][j]
        discriminants = []
        for name, measure in (("bridge", bridge_similarity), ("lexical", lexical_similarity)):
            back = self.back.get(name)
            if back is None:
                discriminants.append(0.0)
                continue
            background = 0.5 * (back["ar"][di][i] + back["en"][dj][j])
            # a linear discriminant: positive above the midpoint between wrong and right matches
            discriminants.append((measure(a, e) - background - 0.5 * self.gap[name]) * self.scale[name])
        # share of the bead's sentences whose best partner is inside the bead
        inside = (sum(1 for k in range(i, i + di) if j <= self.ar_best[k] < j + dj)
                  + sum(1 for k in range(j, j + dj) if i <= self.en_best[k] < i + di))
        return [
            discriminants[0],                                                       # bridge
            discriminants[1],                                                       # lexical
            inside / (di + dj),                                                     # best_share
            similarity(a.numbers, e.numbers),                                       # numbers
            1.0 if a.numbers or e.numbers else 0.0,                                 # numbers_seen
            similarity(a.names, e.names),                                           # names
            1.0 if a.names or e.names else 0.0,                                     # names_seen
            similarity(a.punctuation, e.punctuation) if a.punctuation or e.punctuation else 0.5,
            abs(math.log((a.length + 1) / (e.length + 1))),                         # length
            1.0 if di + dj == 3 else 0.0,                                           # one_two
            1.0 if di + dj == 4 else 0.0,                                           # two_two
        ]

    def link_probability(self, gain: float) -> float:
        """The estimated probability that a chosen bead's links are all right (calibrated on PUD)."""
        return _sigmoid(self.link_scale * gain + self.link_offset)

    def gain(self, i: int, di: int, j: int, dj: int) -> float:
        # the intercept is a bonus per sentence linked (skipping a sentence forfeits it), so a merge
        # bead is not outweighed by a 1-1 bead plus a skipped sentence only for being one bead
        total = self.intercept * (di + dj) / 2
        for weight, value in zip(self.vector, self.features(i, di, j, dj)):
            total += weight * value
        return total


def background(these: list[View], others: list[View], measure: Callable[[View, View], float]) -> Background:
    """For each sentence, how similar it is to the *wrong* sentences near its place on the other side: the
    mean similarity to its neighbourhood without the best match. A link must beat this, which adapts the
    threshold to the quality of the evidence (a poor MT is only a little closer to the right sentence).
    Also how far the best match stands above that mean (the gap) and how much the wrong ones spread."""
    n, m = len(these), len(others)
    means, squares, gaps = [], 0.0, 0.0
    count = 0
    for i, mine in enumerate(these):
        centre = round(i * m / n) if n else 0
        values = sorted(measure(mine, others[j])
                        for j in range(max(0, centre - BACKGROUND_WINDOW), min(m, centre + BACKGROUND_WINDOW + 1)))
        best, values = (values[-1], values[:-1]) if values else (0.0, [])
        mean = sum(values) / len(values) if values else 0.0
        means.append(mean)
        squares += sum((v - mean) ** 2 for v in values)
        count += len(values)
        gaps += best - mean
    return Background(means, squares, count, gaps, n)


@dataclass
class Background:
    means: list[float]          # per sentence
    squares: float              # sum of squared deviations of the wrong similarities from their mean
    count: int
    gaps: float                 # sum over sentences of (best similarity - mean of the others)
    sentences: int


# typical spread of wrong similarities and gap of the right one (the demo model's bridge, the lexicon
# without stopwords), as measured on UD PUD by `bench/align_eval.py --fit` with a lexicon that has not
# seen PUD: priors for small documents, and the reference that makes a scale of 1
PRIOR = {"bridge": (0.04, 0.12), "lexical": (0.06, 0.49)}
PRIOR_WEIGHT = 20                # as many sentences as the prior is worth: for the gap (one per sentence)


def _reliability(name: str, *backgrounds: Background) -> tuple[float, float]:
    """How much one unit of similarity above the background is worth in this document, relative to the
    prior: gap / spread^2 (the weight of a linear discriminant between two equally spread classes). A
    strong bridge (right sentences far above the rest) counts more, a useless one (no gap) nothing.
    Returns (that weight, the gap): the discriminant's zero lies half the gap above the background."""
    spread0, gap0 = PRIOR[name]
    # the prior counts as PRIOR_WEIGHT sentences on both sides of the ratio: counted as 20 wrong pairs
    # only, a tiny document's own spread would rule while its gap is still the prior's, and a useless
    # bridge whose output resembles nothing (little spread) would get a large weight
    prior_pairs = PRIOR_WEIGHT * 2 * BACKGROUND_WINDOW
    squares = sum(b.squares for b in backgrounds) + prior_pairs * spread0 ** 2
    variance = squares / (sum(b.count for b in backgrounds) + prior_pairs)
    gap = (sum(b.gaps for b in backgrounds) + PRIOR_WEIGHT * gap0) / (sum(b.sentences for b in backgrounds)
                                                                      + PRIOR_WEIGHT)
    # the best of several wrong candidates also stands above their mean: that much is no evidence
    gap = max(0.0, gap - math.sqrt(variance))
    return (gap / variance) / ((gap0 - spread0) / spread0 ** 2), gap


def _best_partner(these: list[View], others: list[View], measure: Callable[[View, View], float]) -> list[int]:
    """Index of each sentence's most similar sentence near its place on the other side; -1 where it is
    similar to none of them at all (else the first of the window would win a tie of zeros)."""
    n, m = len(these), len(others)
    out = []
    for i, mine in enumerate(these):
        centre = round(i * m / n) if n else 0
        window = range(max(0, centre - 2 * BACKGROUND_WINDOW), min(m, centre + 2 * BACKGROUND_WINDOW + 1))
        best, top = -1, 0.0
        for j in window:
            value = measure(mine, others[j])
            if value > top:
                best, top = j, value
        out.append(best)
    return out


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, x))))
