"""Names as alignment evidence: Latin-script tokens in the Arabic, and Arabic words unknown to the lexicon
whose consonant skeleton matches a capitalised English word of the document (ستانفورد ~ Stanford)."""
from __future__ import annotations

import re
from collections.abc import Sequence

from ..lexicon import ARABIC_STOPWORDS, ENGLISH_STOPWORDS
from .evidence import LATIN_TOKEN, arabic_words

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


def name_candidates_en(text: str) -> dict[str, set[str]]:
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
            for word, keys in name_candidates_en(text).items():
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
