"""Sentence alignment of an Arabic document with its existing English translation.

Dynamic programming picks the best sequence of *beads*: 1-1, 1-2, 2-1, 2-2, and 1-0 / 0-1 for
sentences with no counterpart. A bead's gain is a linear score (positive: better linked than left
unmatched) over evidence that does not all depend on machine translation:

* ``bridge``: when there is an MT of the Arabic (the bridge), a Dice coefficient of its character
  3-grams and words with the English (a cheap chrF), minus the *background* similarity of the same
  sentences to the wrong sentences around them, so a link must stand out from its neighbourhood;
* ``lexical``: the share of content words on each side that have a translation on the other side in
  the project's bilingual lexicon (``translate.lexicon``), minus its background likewise;
  both count as a linear discriminant fitted to the document at hand: zero halfway between the
  background and the typical right match (the gap), and scaled by gap / spread^2 of the wrong
  matches, so a strong bridge leads, a weak one (the demo model on news) adds a little, and a useless
  one (random output) nothing;
* ``best_share``: the share of the bead's sentences whose best partner nearby (by bridge, lexicon,
  names and numbers together) is inside the bead;
* ``numbers``: Dice of the numbers of both sides (Arabic-Indic digits normalised);
* ``names``: Dice of names: Latin-script tokens in the Arabic, and Arabic words unknown to the
  lexicon whose consonant skeleton matches a capitalised English word of the document
  (ستانفورد ~ Stanford); an English word matched so counts as a name only, not as a lexicon word;
* ``punctuation`` (question and exclamation marks, quotes, parentheses, colons) and ``length``
  (|log| of the English length against the Arabic length times the expected ratio, Gale–Church's
  signal), plus a penalty per bead type.

The weights (``WEIGHTS``, one set with a bridge and one without) are fitted by
``bench/align_eval.py --fit`` on perturbed pseudo-documents of UD Arabic PUD with the demo model as
the bridge and a lexicon that has not seen PUD (the shipped one has): pairwise logistic regression of
each gold bead against the beads competing with it, then the per-sentence linking bonus
(``intercept``) that gives the best link F1 there. FLORES, the news the aligner is measured on, is not
used to fit them. A skipped sentence gains 0, so a bead is kept only
where its evidence beats leaving its sentences unmatched. The search is banded around the
diagonal, so long documents stay fast.

Aligned pairs go to the store with the human English as the translation and the MT (if any) kept as
``bridge``. Both documents and the alignment itself are stored too, as stand-off links (one per bead,
1-0 and 0-1 included: they are no pairs, but the alignment editor shows them; see translate.alignment_edit).
"""
from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .lexicon import (ARABIC_STOPWORDS, ENGLISH_STOPWORDS, Lexicon, LexiconError, arabic_stem, english_stem,
                      load_lexicon, normalize_arabic)
from .pipeline import iter_segments, read_lines
from .score import numbers as score_numbers
from .store import NewSegment, Store

BACKGROUND_WINDOW = 4       # neighbours either side that estimate the background similarity
EXPECTED_LENGTH_RATIO = math.exp(0.17)   # English chars per Arabic char (as translate.score)
LINK_MIN = 0.05             # lexicon probability from which two words count as translations (as score)
MOVES = ((1, 1), (1, 2), (2, 1), (2, 2), (1, 0), (0, 1))

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


class AlignError(Exception):
    """Inputs that cannot be aligned; the message names the file and the problem."""


@dataclass
class Bead:
    ar: list[int]               # indices of Arabic sentences
    en: list[int]               # indices of English sentences
    score: float                # estimated probability that the link is right (0 for 1-0 / 0-1)

    def as_json(self) -> dict:
        return {"ar": self.ar, "en": self.en, "score": round(self.score, 4)}


# -- evidence of one sentence -------------------------------------------------------------------
_SPACES = re.compile(r"\s+")
_WORDS = re.compile(r"\w+")
LATIN_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_ARABIC_WORD = re.compile("[\u0621-\u064a\u0671-\u06d3]+")
ENGLISH_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")
_PUNCTUATION = str.maketrans({"؟": "?", "“": '"', "”": '"', "«": '"', "»": '"', "„": '"'})
_PUNCTUATION_KINDS = frozenset('?!"(:')


def profile(text: str) -> frozenset[str]:
    """The set of character 3-grams and words of a text (lower-cased, spaces collapsed)."""
    text = _SPACES.sub(" ", text.lower()).strip()
    grams = {text[i:i + 3] for i in range(len(text) - 2)}
    grams.update("\x00" + word for word in _WORDS.findall(text))   # words and 3-grams never collide
    return frozenset(grams)


def similarity(a: frozenset, b: frozenset) -> float:
    """F1 (Dice coefficient) of two sets, in [0, 1]; set operations keep it fast."""
    total = len(a) + len(b)
    return 2.0 * len(a & b) / total if total else 0.0


def numbers(text: str) -> frozenset[str]:
    """The set of numbers in a sentence, normalised as the quality score does (score.numbers)."""
    return frozenset(score_numbers(text))


def punctuation(text: str) -> frozenset[str]:
    return frozenset(c for c in text.translate(_PUNCTUATION) if c in _PUNCTUATION_KINDS)


# consonant skeletons: Arabic and English letters folded into one coarse alphabet (b t k s f l m n r),
# vowels, glides and h-like letters dropped, so a transliterated name and its English spelling meet
_AR_SKELETON = str.maketrans({
    "ب": "b", "ت": "t", "ث": "t", "ج": "k", "ح": None, "خ": "k", "د": "t", "ذ": "t", "ر": "r", "ز": "s",
    "س": "s", "ش": "s", "ص": "s", "ض": "t", "ط": "t", "ظ": "t", "ع": None, "غ": "k", "ف": "f", "ق": "k",
    "ك": "k", "ل": "l", "م": "m", "ن": "n", "ه": None, "و": None, "ي": None, "ا": None, "ء": None,
    "پ": "b", "چ": "s", "ڤ": "f", "گ": "k"})
_EN_DIGRAPHS = (("ph", "f"), ("th", "t"), ("sh", "s"), ("ch", "ts"), ("ck", "k"), ("x", "ks"))
_EN_SOFT_C = re.compile(r"c(?=[eiy])")
_EN_SKELETON = str.maketrans({"c": "k", "q": "k", "g": "k", "j": "k", "p": "b", "v": "f", "z": "s", "d": "t",
                              **{v: None for v in "aeiouwyh"}})


def _collapse(skeleton: str) -> str:
    return re.sub(r"(.)\1+", r"\1", skeleton)


def arabic_skeleton(word: str) -> str:
    """Consonant skeleton of a normalised Arabic word (no article)."""
    return _collapse(word.translate(_AR_SKELETON))


def english_skeleton(word: str) -> str:
    word = word.lower()
    for digraph, sound in _EN_DIGRAPHS:
        word = word.replace(digraph, sound)
    return _collapse(_EN_SOFT_C.sub("s", word).translate(_EN_SKELETON))


_lexicon_in_use: Lexicon | None = None      # None: the shipped lexicon (see using_lexicon)


@contextmanager
def using_lexicon(lexicon: Lexicon):
    """Align with ``lexicon`` instead of the shipped one inside the block. For fitting the weights
    (bench/align_eval.py --fit): the shipped lexicon was trained on the fitting data (UD PUD) too, and
    a lexicon that has seen the sentences makes the lexical evidence look better than it is on new text."""
    global _lexicon_in_use
    previous, _lexicon_in_use = _lexicon_in_use, lexicon
    translation_tables.cache_clear()
    try:
        yield
    finally:
        _lexicon_in_use = previous
        translation_tables.cache_clear()


def lexicon_in_use() -> Lexicon | None:
    """The lexicon alignment uses now (the shipped one, or the one of ``using_lexicon``); None if none."""
    try:
        return _lexicon_in_use or load_lexicon()
    except LexiconError:
        return None


@lru_cache(maxsize=1)
def translation_tables() -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """(Arabic stem -> English stems it translates to, English stem -> Arabic stems), from the lexicon
    in both directions, content words only; empty tables when no lexicon is installed."""
    try:
        lexicon = _lexicon_in_use or load_lexicon()
    except LexiconError:
        return {}, {}
    ar_to_en: dict[str, set[str]] = {}
    en_to_ar: dict[str, set[str]] = {}
    for ar, options in lexicon.forward.items():
        for en, p in options.items():
            if p >= LINK_MIN:
                ar_to_en.setdefault(ar, set()).add(en)
                en_to_ar.setdefault(en, set()).add(ar)
    for en, options in lexicon.backward.items():
        for ar, p in options.items():
            if p >= LINK_MIN:
                ar_to_en.setdefault(ar, set()).add(en)
                en_to_ar.setdefault(en, set()).add(ar)
    # stopwords out on both sides: as keys too, since IBM Model 1 gives frequent words ("the", في) a share of
    # many rare words' translations, and a larger lexicon links them to hundreds of content words
    clean = lambda table, own, other: {k: frozenset(v - other) for k, v in table.items()  # noqa: E731
                                       if k not in own and v - other}
    return (clean(ar_to_en, ARABIC_STOPWORDS, ENGLISH_STOPWORDS),
            clean(en_to_ar, ENGLISH_STOPWORDS, ARABIC_STOPWORDS))


@dataclass(frozen=True)
class View:
    """What the aligner knows of one sentence (or two joined sentences) of one side."""
    grams: frozenset        # bridge MT n-grams (Arabic side) / English n-grams; empty without a bridge
    known: frozenset        # content stems the lexicon knows
    expansion: frozenset    # stems of the other language that translate them
    numbers: frozenset
    names: frozenset        # name keys shared with the other side of the document (see NameIndex)
    punctuation: frozenset
    length: float           # in English characters (Arabic length times the expected ratio)

    def __or__(self, other: "View") -> "View":
        return View(self.grams | other.grams, self.known | other.known, self.expansion | other.expansion,
                    self.numbers | other.numbers, self.names | other.names,
                    self.punctuation | other.punctuation, self.length + other.length + 1)


EMPTY = frozenset()


def arabic_words(text: str) -> list[tuple[str, str]]:
    """(normalised word, stem) of each Arabic word."""
    return [(word, arabic_stem(word)) for word in _ARABIC_WORD.findall(normalize_arabic(text))]


def _name_candidates_ar(text: str, ar_to_en: dict) -> set[str]:
    """Keys of possible names in Arabic text: Latin-script tokens, and skeletons of unknown words."""
    keys = {"=" + t.lower() for t in LATIN_TOKEN.findall(text)}
    for word, stem in arabic_words(text):
        if stem in ar_to_en or stem in ARABIC_STOPWORDS:
            continue
        bare = word[2:] if word.startswith("ال") and len(word) > 4 else word
        for form in {stem, bare, word}:
            skeleton = arabic_skeleton(form)
            if len(skeleton) >= 3:
                keys.add(skeleton)
    return keys


def _name_candidates_en(text: str) -> dict[str, set[str]]:
    """English words (not stopwords) -> their match keys: the word itself (for Latin-script tokens in
    the Arabic) and, when it is capitalised (a name), its consonant skeleton."""
    out: dict[str, set[str]] = {}
    for word in LATIN_TOKEN.findall(text):
        lower = word.lower()
        if lower in ENGLISH_STOPWORDS:
            continue
        keys = {"=" + lower}
        if word[0].isupper():
            skeleton = english_skeleton(word)
            if len(skeleton) >= 3:
                keys.add(skeleton)
        out[lower] = out.get(lower, set()) | keys
    return out


def _deletions(key: str) -> set[str]:
    """The key and every form with one letter deleted (for matching skeletons one edit apart)."""
    if key.startswith("=") or len(key) < 4:
        return {key}
    return {key} | {key[:i] + key[i + 1:] for i in range(len(key))}


class NameIndex:
    """Matches Arabic name candidates with the English name words of the same document(s): a key of
    an Arabic word maps to the English words whose key equals it or is one deletion away from it."""

    def __init__(self, english_texts: Sequence[str]):
        self.by_key: dict[str, set[str]] = {}
        for text in english_texts:
            for word, keys in _name_candidates_en(text).items():
                for key in keys:
                    for variant in _deletions(key):
                        self.by_key.setdefault(variant, set()).add(word)

    def english_names(self, arabic_text: str, ar_to_en: dict) -> frozenset[str]:
        """English name words (lower case) that some name of this Arabic text matches."""
        found: set[str] = set()
        for key in _name_candidates_ar(arabic_text, ar_to_en):
            for variant in _deletions(key):
                found |= self.by_key.get(variant, set())
        return frozenset(found)


def arabic_view(text: str | None, mt: str | None, tables, names: frozenset) -> View:
    ar_to_en, _ = tables
    known = frozenset(stem for _, stem in arabic_words(text) if stem in ar_to_en) if text is not None else EMPTY
    expansion = frozenset().union(*(ar_to_en[s] for s in known)) if known else EMPTY
    basis = text if text is not None else mt
    length = len(text) * EXPECTED_LENGTH_RATIO if text is not None else float(len(mt or ""))
    return View(profile(mt) if mt is not None else EMPTY, known, expansion, numbers(basis), names,
                punctuation(basis), length)


def english_view(text: str, tables, with_grams: bool, names: frozenset = EMPTY) -> View:
    """``names``: the English words that match a name of the Arabic document (see NameIndex). They count
    as names only, not as lexicon words: the Arabic spelling of a name is unknown to the lexicon (that is
    how it became a name candidate), so the English name's lexicon entry could only ever go unmatched."""
    _, en_to_ar = tables
    stems = {english_stem(w.lower()) for w in ENGLISH_WORD.findall(text)} - {english_stem(w) for w in names}
    known = frozenset(s for s in stems if s in en_to_ar)
    expansion = frozenset().union(*(en_to_ar[s] for s in known)) if known else EMPTY
    return View(profile(text) if with_grams else EMPTY, known, expansion, numbers(text), names,
                punctuation(text), float(len(text)))


# -- the alignment problem ----------------------------------------------------------------------
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
        en_views = [english_view(text, tables, self.has_bridge, frozenset(_name_candidates_en(text)) & matched)
                    for text in english]
        self.ar = {1: ar_views, 2: [a | b for a, b in zip(ar_views, ar_views[1:])]}
        self.en = {1: en_views, 2: [a | b for a, b in zip(en_views, en_views[1:])]}
        self.back: dict[str, dict[str, dict[int, list[float]]]] = {}
        self.scale: dict[str, float] = {}
        self.gap: dict[str, float] = {}
        for name, measure in (("bridge", bridge_similarity), ("lexical", lexical_similarity)):
            if name == "bridge" and not self.has_bridge:
                continue
            a = _background(ar_views, en_views, measure)
            e = _background(en_views, ar_views, lambda x, y: measure(y, x))
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


def bridge_similarity(a: View, e: View) -> float:
    return similarity(a.grams, e.grams)


def content_similarity(a: View, e: View) -> float:
    return (bridge_similarity(a, e) + lexical_similarity(a, e) + similarity(a.names, e.names)
            + similarity(a.numbers, e.numbers))


def lexical_similarity(a: View, e: View) -> float:
    """Share of the known content words of both sides that have a translation on the other side."""
    total = len(a.known) + len(e.known)
    return (len(a.expansion & e.known) + len(e.expansion & a.known)) / total if total else 0.0


def _background(these: list[View], others: list[View], measure: Callable[[View, View], float]) -> Background:
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
                                 # and for the spread (each sentence has 2 * BACKGROUND_WINDOW wrong pairs)


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


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, x))))


def align(mt: Sequence[str] | None, english: Sequence[str], arabic: Sequence[str] | None = None) -> list[Bead]:
    """Align sentences given the MT of each Arabic sentence (line-aligned; None: no bridge), the English
    sentences and the Arabic sentences themselves (needed for the lexicon, names, numbers and length;
    with only the MT, the bridge and the MT's length carry the alignment)."""
    problem = Problem(mt, english, arabic)
    beads = []
    for i, di, j, dj in dynamic_align(problem.n, problem.m, problem.gain):
        score = problem.link_probability(problem.gain(i, di, j, dj)) if di and dj else 0.0
        beads.append(Bead(list(range(i, i + di)), list(range(j, j + dj)), score))
    return beads


def align_documents(ar_text: str, en_text: str, presegmented: bool, engine=None) -> tuple:
    """(Arabic segments, English sentences, bridge MT or None, beads) of one document pair: both sides
    split into sentences, the Arabic translated by ``engine`` (a translate.Engine) if one is given, and
    the sentences aligned. Raises AlignError."""
    segments = arabic_sentences(ar_text, presegmented)
    english = english_sentences(en_text, presegmented)
    mt = [h.text for h in engine.translate([s.text for s in segments])] if engine is not None else None
    return segments, english, mt, align(mt, english, [s.text for s in segments])


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
    kept_confirmed: int = 0          # confirmed rows (alignment editor) the new alignment kept
    document_pair_id: int | None = None
    pairs: list[dict] = field(default_factory=list)


def store_alignment(store: Store, ar_path: str, ar_text: str, segments: list[NewSegment], english: list[str],
                    mt: list[str] | None, beads: list[Bead], model_id: int | None, options: dict,
                    en_path: str | None = None, en_text: str | None = None,
                    not_a_translation: bool = False) -> StoreSummary:
    """Store both documents, their sentences, and the alignment as the document pair's links; the pairs
    are derived from the links (translate.alignment_edit): re-running adds nothing new, and a document
    pair aligned again (another bridge, or none) has its automatic rows replaced, its confirmed ones kept.

    A pair's score averages the quality estimate of (Arabic, English) with the alignment probability,
    but never rises above the quality estimate of a pair that it labels bad (an untranslated or
    wrong-language pair is not rescued by a confident link); ``not_a_translation`` (documents that
    failed the document check, stored with --force) labels every pair bad. Its signals hold every
    quality signal plus ``alignment_score`` and ``alignment`` ("2-1" ...).
    """
    from .alignment_edit import locate_sentences, store_auto_alignment
    from .store import AlignedSentence

    if en_text is None:                 # no English document given: its sentences joined by lines
        en_text = "\n".join(english)
    try:
        en_segments = locate_sentences(en_text, english)
    except ValueError as exc:
        raise AlignError(f"{en_path}: {exc}") from None
    document_id, _ = store.add_document(ar_path, ar_text, hashlib.sha256(ar_text.encode("utf-8")).hexdigest())
    segment_ids = store.add_segments(document_id, segments)
    en_document_id, _ = store.add_document(en_path or ar_path + ".en", en_text,
                                           hashlib.sha256(en_text.encode("utf-8")).hexdigest(), lang="en")
    en_ids = store.add_segments(en_document_id, en_segments)
    ar_sentences = [AlignedSentence(i, s.start, s.end, s.text, mt[k] if mt is not None else None)
                    for k, (i, s) in enumerate(zip(segment_ids, segments))]
    en_sentences = [AlignedSentence(i, s.start, s.end, s.text) for i, s in zip(en_ids, en_segments)]
    run_id = store.start_run("align", model_id, options)
    status = "interrupted"
    try:
        bridge = options.get("bridge", options.get("model")) if mt is not None else ""
        done = store_auto_alignment(store, document_id, ar_sentences, en_document_id, en_sentences, beads,
                                    model_id, bridge, run_id, not_a_translation=not_a_translation)
        status = "done"
    finally:
        store.finish_run(run_id, status)
    return StoreSummary(done.stored, done.existing, done.kept_confirmed, done.document_pair_id)
