"""Bags of evidence in English terms, and the tf-idf index of both sides' bags.

An Arabic document contributes the English stems its content words translate to in the project's
lexicon (``translate.align.translation_tables``, each word's translations sharing one unit of weight),
its numbers (Arabic-Indic digits normalised), Latin-script tokens and the consonant skeletons of words
the lexicon does not know (names); an English document contributes its content stems, numbers, words
and the skeletons of its capitalised words. Only the bags are kept (as sparse rows of feature ids),
never the texts.
"""
from __future__ import annotations

import re
from array import array
from collections import Counter
from collections.abc import Callable, Iterable
from typing import NamedTuple

import numpy as np
from scipy import sparse

from ..align import (ENGLISH_WORD, EXPECTED_LENGTH_RATIO, LATIN_TOKEN, arabic_skeleton, english_skeleton,
                     lexicon_in_use, numbers, translation_tables)
from ..lexicon import ARABIC_STOPWORDS, ENGLISH_STOPWORDS, arabic_stem, english_stem, normalize_arabic

TRANSLATIONS = 4            # most probable English stems an Arabic word contributes (some stems have
                            # thousands of lexicon entries, which would swamp the bags)

_ARABIC_WORD = re.compile("[\u0621-\u064a\u0671-\u06d3]+")


class BagMaker:
    """Makes the bags of both sides, remembering what each distinct word contributes (an archive repeats
    its words endlessly; stemming and the lexicon lookup are the costly part)."""

    def __init__(self):
        self.ar_to_en, _ = translation_tables()
        self.lexicon = lexicon_in_use()
        self.arabic_words: dict[str, tuple[tuple[str, float], ...]] = {}
        self.english_words: dict[str, tuple[str, ...]] = {}

    def _arabic_word(self, word: str) -> tuple[tuple[str, float], ...]:
        stem = arabic_stem(word)
        if stem in ARABIC_STOPWORDS:
            return ()
        options = self.ar_to_en.get(stem)
        if options:
            # the most probable translations, sharing one unit of weight by their probabilities
            links = sorted(((self.lexicon.link(stem, en), en) for en in options), key=lambda x: (-x[0], x[1]))
            links = links[:TRANSLATIONS]
            total = sum(p for p, _ in links)
            return tuple(("w:" + en, p / total) for p, en in links)
        skeleton = arabic_skeleton(word[2:] if word.startswith("ال") and len(word) > 4 else word)
        return (("n:" + skeleton, 1.0),) if len(skeleton) >= 3 else ()

    def _english_word(self, word: str) -> tuple[str, ...]:
        lower = word.lower()
        if lower in ENGLISH_STOPWORDS:
            return ()
        keys = ["w:" + english_stem(lower)]
        if word[0].isupper():
            keys.append("l:" + lower)
            skeleton = english_skeleton(word)
            if len(skeleton) >= 3:
                keys.append("n:" + skeleton)
        return tuple(keys)

    def arabic(self, text: str) -> Counter:
        bag: Counter = Counter()
        cache = self.arabic_words
        for word in _ARABIC_WORD.findall(normalize_arabic(text)):
            contribution = cache.get(word)
            if contribution is None:
                contribution = cache[word] = self._arabic_word(word)
            for key, weight in contribution:
                bag[key] += weight
        for number in numbers(text):
            bag["d:" + number] += 1.0
        for token in LATIN_TOKEN.findall(text):
            bag["l:" + token.lower()] += 1.0
        return bag

    def english(self, text: str) -> Counter:
        bag: Counter = Counter()
        cache = self.english_words
        for word in ENGLISH_WORD.findall(text):
            keys = cache.get(word)
            if keys is None:
                keys = cache[word] = self._english_word(word)
            for key in keys:
                bag[key] += 1.0
        for number in numbers(text):
            bag["d:" + number] += 1.0
        return bag


def arabic_bag(text: str) -> Counter:
    return BagMaker().arabic(text)


def english_bag(text: str) -> Counter:
    return BagMaker().english(text)


class SideIndex:
    """The bags of one side as sparse rows of feature ids (shared vocabulary with the other side)."""

    def __init__(self, vocabulary: dict[str, int]):
        self.vocabulary = vocabulary
        self.indptr = array("q", [0])
        self.lengths = array("f")          # characters (Arabic: times EXPECTED_LENGTH_RATIO)
        self.indices = array("i")
        self.counts = array("f")

    def add(self, bag: Counter, length: float) -> None:
        self.lengths.append(length)
        vocabulary = self.vocabulary
        self.indices.extend([vocabulary.setdefault(key, len(vocabulary)) for key in bag])
        self.counts.extend(bag.values())
        self.indptr.append(len(self.indices))

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def tfidf(self, idf: np.ndarray) -> sparse.csr_matrix:
        """Rows of sublinear tf times idf, of unit length."""
        indices = np.frombuffer(self.indices, dtype=np.int32)
        data = np.log1p(np.frombuffer(self.counts, dtype=np.float32)) * idf[indices]
        matrix = sparse.csr_matrix((data.astype(np.float32), indices, np.frombuffer(self.indptr, dtype=np.int64)),
                                   shape=(len(self), len(idf)))
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sparse.csr_matrix(sparse.diags((1.0 / norms).astype(np.float32)) @ matrix)


class Indexed(NamedTuple):
    ar: sparse.csr_matrix           # tf-idf rows of unit length
    en: sparse.csr_matrix
    df: np.ndarray                  # documents (both sides) that have each feature
    ar_lengths: np.ndarray          # in English characters
    en_lengths: np.ndarray


def index_documents(ar_texts: Iterable[str], en_texts: Iterable[str],
                    progress: Callable[[str, int], None] | None = None) -> Indexed:
    """tf-idf rows of both sides, each feature's document frequency and the documents' lengths; the
    texts are read once, in turn, and not kept."""
    maker, vocabulary = BagMaker(), {}
    sides = []
    for side, texts, make, ratio in (("ar", ar_texts, maker.arabic, EXPECTED_LENGTH_RATIO),
                                     ("en", en_texts, maker.english, 1.0)):
        index = SideIndex(vocabulary)
        for text in texts:
            index.add(make(text), len(text) * ratio)
            if progress:
                progress(side, len(index))
        sides.append(index)
    size = len(vocabulary)
    df = np.zeros(size, dtype=np.int64)
    for index in sides:
        df += np.bincount(np.frombuffer(index.indices, dtype=np.int32), minlength=size)
    idf = np.log((len(sides[0]) + len(sides[1]) + 1) / (df + 0.5)).astype(np.float32)
    return Indexed(sides[0].tfidf(idf), sides[1].tfidf(idf), df,
                   np.frombuffer(sides[0].lengths, dtype=np.float32), np.frombuffer(sides[1].lengths, dtype=np.float32))

