"""What the aligner knows of one sentence (a ``View``): bridge n-grams, the content words the lexicon
knows and their translations, numbers, names, punctuation and length; and the similarities of two views."""
from __future__ import annotations

import math
import re
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from ..lexicon import (ARABIC_STOPWORDS, ENGLISH_STOPWORDS, Lexicon, LexiconError, arabic_stem, english_stem,
                       load_lexicon, normalize_arabic)
from ..score import numbers as score_numbers

EXPECTED_LENGTH_RATIO = math.exp(0.17)   # English chars per Arabic char (as translate.score)
LINK_MIN = 0.05             # lexicon probability from which two words count as translations (as score)
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


def bridge_similarity(a: View, e: View) -> float:
    return similarity(a.grams, e.grams)


def content_similarity(a: View, e: View) -> float:
    return (bridge_similarity(a, e) + lexical_similarity(a, e) + similarity(a.names, e.names)
            + similarity(a.numbers, e.numbers))


def lexical_similarity(a: View, e: View) -> float:
    """Share of the known content words of both sides that have a translation on the other side."""
    total = len(a.known) + len(e.known)
    return (len(a.expansion & e.known) + len(e.expansion & a.known)) / total if total else 0.0
