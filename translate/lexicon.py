"""A probabilistic Arabic–English word lexicon, learned by the project itself (``tools/build_lexicon.py``).

The lexicon holds IBM Model 1 translation probabilities in both directions, t(en | ar) and t(ar | en),
between *normalised stems*: Arabic words lose diacritics, tatweel, alef/ta-marbuta/alef-maqsura
variation and their common clitics (و ف ب ك ل ال ...), English words are lower-cased and lightly
stemmed. Both the recipe and the scorer use the functions here, so training and lookup agree.

Two data files (one ``ar<TAB>en<TAB>t(en|ar)<TAB>t(ar|en)`` per line), kept apart because their
licences differ (translate/data/README.md): ``translate/data/lexicon.tsv.gz`` from parallel sentences
(OPUS Tatoeba ar-en, CC-BY 2.0 FR, and UD Arabic PUD, CC BY-SA 3.0) and, when present,
``translate/data/lexicon-freedict.tsv.gz`` from the FreeDict Arabic-English dictionary (GPL-2+).
``load_lexicon`` merges them (the larger probability of each entry) once, lazily; without the FreeDict
file it returns the sentence lexicon alone.
"""
from __future__ import annotations

import gzip
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

LEXICON_FILE = Path(__file__).resolve().parent / "data" / "lexicon.tsv.gz"
FREEDICT_LEXICON_FILE = Path(__file__).resolve().parent / "data" / "lexicon-freedict.tsv.gz"


class LexiconError(Exception):
    """A lexicon file that is missing or malformed; the message names the file."""


# -- Arabic normalisation -----------------------------------------------------------------------
_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")  # harakat, Quranic marks, tatweel
_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ؤ": "و", "ئ": "ي",
                              "ک": "ك", "ی": "ي"})
_ARABIC_WORD = re.compile("[\u0621-\u064a\u0671-\u06d3]+")
# proclitic sequences, longest first, with the letters a stem must keep after stripping: a lone ب ل ف
# often belongs to the word itself (بيت، لعب، فرح), so those need a longer remainder; ك (as) is rare and
# mostly part of the word (كتاب), so it is only stripped before ال
_PREFIXES = (("وبال", 2), ("وكال", 2), ("فبال", 2), ("وال", 2), ("فال", 2), ("بال", 2), ("كال", 2), ("ولل", 2),
             ("فلل", 2), ("لل", 2), ("ال", 2), ("و", 3), ("ف", 4), ("ب", 4), ("ل", 4))
_SUFFIXES = ("هما", "كما", "ها", "هم", "هن", "كم", "كن", "نا", "ات", "ون", "ين", "ه")

def normalize_arabic(text: str) -> str:
    """Strip diacritics and tatweel; fold alef variants, ta marbuta, alef maqsura and hamza seats."""
    return _DIACRITICS.sub("", text).translate(_ARABIC_FOLD)


@lru_cache(maxsize=1 << 18)       # a stem is asked for again and again (scoring, alignment); the work is pure
def arabic_stem(word: str) -> str:
    """Light stemming of one normalised Arabic word: strip one proclitic sequence and one suffix (>= 3 kept)."""
    for prefix, keep in _PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= keep:
            word = word[len(prefix):]
            break
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[:-len(suffix)]
            break
    return word


def arabic_tokens(text: str) -> list[str]:
    """Normalised Arabic stems of a text (non-Arabic tokens are ignored)."""
    return [arabic_stem(w) for w in _ARABIC_WORD.findall(normalize_arabic(text))]


_ENGLISH_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


@lru_cache(maxsize=1 << 18)
def english_stem(word: str) -> str:
    """A crude suffix stripper; only needs to map inflections of one word to the same key."""
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ed"):
        return word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def english_tokens(text: str) -> list[str]:
    return [english_stem(w) for w in _ENGLISH_WORD.findall(text.lower())]


# Stopwords, written as a reader spells them and kept in the form the lookups see: every Arabic check is
# against a stem of normalised text (arabic_tokens), so the Arabic list holds those stems (على is علي, الذي
# is ذي); English is checked both as stems (english_tokens: "this" is "thi") and as lower-cased words (the
# aligners' name candidates), so the English list holds both forms.
_ARABIC_STOPWORDS_WRITTEN = (
    "في من على الى عن ان او ثم هذا هذه ذلك تلك التي الذي الذين هو هي هم انا نحن انت كان كانت يكون قد لقد لا لم لن"
    " ما مع كل بعض عند حتى اذا لكن بين غير قبل بعد منذ ايضا حيث كما")
_ENGLISH_STOPWORDS_WRITTEN = (
    "a an the of to in on at by for from with and or but is are was were be been being am it its this that these"
    " those he she they we you i me him her them us my your his their our as not no do does did has have had will"
    " would can could shall should may might must there here which who whom whose what when where why how than"
    " then so if also into about over up out just very")
ARABIC_STOPWORDS = frozenset(arabic_tokens(_ARABIC_STOPWORDS_WRITTEN))
ENGLISH_STOPWORDS = (frozenset(_ENGLISH_STOPWORDS_WRITTEN.split())
                     | frozenset(english_tokens(_ENGLISH_STOPWORDS_WRITTEN)))


# -- the lexicon --------------------------------------------------------------------------------
@dataclass
class Lexicon:
    forward: dict[str, dict[str, float]]    # ar stem -> {en stem: t(en|ar)}
    backward: dict[str, dict[str, float]]   # en stem -> {ar stem: t(ar|en)}
    _ranked: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def ranked(self, stem: str) -> list[tuple[str, float]]:
        """(English stem, t(en|ar)) of an Arabic stem, most probable first, ties alphabetical (remembered:
        the scorer asks for the same words again and again)."""
        if stem not in self._ranked:
            self._ranked[stem] = sorted(self.forward.get(stem, {}).items(), key=lambda kv: (-kv[1], kv[0]))
        return self._ranked[stem]

    def best(self, stem: str, top: int) -> tuple[str, ...]:
        """The ``top`` most probable English stems of an Arabic stem, best first."""
        return tuple(e for e, _ in self.ranked(stem)[:top])

    def translations(self, arabic_word: str, top: int = 5) -> list[tuple[str, float]]:
        """The most probable English stems for an Arabic word (any surface form)."""
        return self.ranked(arabic_stem(normalize_arabic(arabic_word)))[:top]

    def link(self, ar: str, en: str) -> float:
        """How strongly two stems translate each other: the larger directional probability."""
        return max(self.forward.get(ar, {}).get(en, 0.0), self.backward.get(en, {}).get(ar, 0.0))


def read_lexicon(path: Path, *more: Path) -> Lexicon:
    """Read a lexicon file; with ``more`` files, merge them (each entry keeps its larger probability)."""
    forward: dict[str, dict[str, float]] = defaultdict(dict)
    backward: dict[str, dict[str, float]] = defaultdict(dict)
    for one in (path, *more):
        try:
            with gzip.open(one, "rt", encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    fields = line.rstrip("\n").split("\t")
                    if len(fields) != 4:
                        raise LexiconError(f"{one}: line {number}: expected 4 tab-separated fields")
                    ar, en, p_en, p_ar = fields[0], fields[1], float(fields[2]), float(fields[3])
                    # a zero probability adds no entry (a word with no row is "unknown" to the scorer)
                    if p_en > 0 and p_en > forward.get(ar, {}).get(en, 0.0):
                        forward[ar][en] = p_en
                    if p_ar > 0 and p_ar > backward.get(en, {}).get(ar, 0.0):
                        backward[en][ar] = p_ar
        except OSError as exc:
            raise LexiconError(f"{one}: cannot read lexicon ({exc})") from None
        except ValueError as exc:
            raise LexiconError(f"{one}: malformed lexicon ({exc})") from None
    return Lexicon(dict(forward), dict(backward))


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """The shipped lexicon (sentence table merged with the dictionary table), loaded once per process."""
    if not LEXICON_FILE.is_file():
        raise LexiconError(f"{LEXICON_FILE}: lexicon data file missing; build it with tools/build_lexicon.py")
    if FREEDICT_LEXICON_FILE.is_file():
        return read_lexicon(LEXICON_FILE, FREEDICT_LEXICON_FILE)
    return read_lexicon(LEXICON_FILE)
