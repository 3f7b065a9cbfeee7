"""Fluency of the English output: how much a word-bigram language model of English prefers the output's word
order to the same words in no order.

The lexicon scores adequacy word by word and so rewards literal wording; a fluency signal from the target
side alone judges how English the output reads. The model (``translate/data/bigram-en.tsv.gz``, built by
``tools/build_fluency_lm.py`` from openly licensed English sentences) holds word-bigram counts. A bigram's
probability is interpolated absolute discounting (the Kneser-Ney family) whose lower order is the word's
unigram probability from wordfreq's English table (``frequency.zipf_table``): the bigram counts are small,
but every word has a frequency, so a rare word costs nothing beyond its rarity.

``fluency`` is the mean, over the output's words, of log P(word | previous word) - log P(word): the
information the previous word gives about each word, in nats. It does not depend on how rare the words are
(``tgt_zipf`` and ``tgt_oov`` say that) nor on the length; a word salad of the same words scores lower.
"""
from __future__ import annotations

import gzip
import math
import re
from functools import lru_cache

from .frequency import DATA_DIR, ZIPF_UNKNOWN, zipf_table

MODEL_FILE = DATA_DIR / "bigram-en.tsv.gz"
WORD = re.compile(r"[a-z]+(?:'[a-z]+)?|[0-9]+(?:[.,][0-9]+)*")
START = "<s>"
NUMBER = "<num>"
DISCOUNT = 0.75             # absolute discount of each seen bigram (the usual Kneser-Ney value)
NEUTRAL_FLUENCY = 0.0       # no word to judge, or no model: no evidence either way


def fluency_words(text: str) -> list[str]:
    """The words the model sees: lower-cased, numbers as one token, punctuation left out."""
    return [NUMBER if w[0].isdigit() else w for w in WORD.findall(text.lower())]


class BigramModel:
    """Bigram counts with, per previous word, its total count and its number of distinct followers."""

    def __init__(self, counts: dict[tuple[str, str], int]):
        self.counts = counts
        self.totals: dict[str, int] = {}
        self.followers: dict[str, int] = {}
        for (previous, _), count in counts.items():
            self.totals[previous] = self.totals.get(previous, 0) + count
            self.followers[previous] = self.followers.get(previous, 0) + 1

    def unigram(self, word: str) -> float:
        """P(word) from its Zipf frequency (log10 per billion words)."""
        if word == NUMBER:
            return 1e-3         # numbers together are about as frequent as a common word
        return 10.0 ** (zipf_table("en").get(word, ZIPF_UNKNOWN) - 9.0)

    def gain(self, previous: str, word: str) -> float:
        """log P(word | previous) - log P(word), in nats."""
        unigram = self.unigram(word)
        total = self.totals.get(previous)
        if not total:
            return 0.0
        seen = max(self.counts.get((previous, word), 0) - DISCOUNT, 0.0) / total
        backoff = DISCOUNT * self.followers[previous] / total
        return math.log((seen + backoff * unigram) / unigram)


@lru_cache(maxsize=1)
def bigram_model() -> BigramModel | None:
    """The shipped model, or None when its file is missing (the scorer then reports neutral fluency)."""
    counts: dict[tuple[str, str], int] = {}
    try:
        with gzip.open(MODEL_FILE, "rt", encoding="utf-8") as f:
            for line in f:
                previous, word, count = line.rstrip("\n").split("\t")
                counts[(previous, word)] = int(count)
    except (OSError, ValueError):
        return None
    return BigramModel(counts)


EVIDENCE = 20               # a previous word seen this often says something about what may follow it
UNLIKELY = -1.0             # a gain below this: the pair is much rarer than its words' frequencies predict


def fluency(text: str) -> tuple[float, float]:
    """(mean bigram information gain per word, share of word pairs the model has evidence against) of an
    English text (see the module docstring)."""
    model = bigram_model()
    words = fluency_words(text)
    if model is None or not words:
        return NEUTRAL_FLUENCY, 0.0
    previous = [START, *words[:-1]]
    gains = [model.gain(p, w) for p, w in zip(previous, words)]
    judged = [g for p, g in zip(previous, gains) if model.totals.get(p, 0) >= EVIDENCE]
    return sum(gains) / len(gains), (sum(1 for g in judged if g < UNLIKELY) / len(judged) if judged else 0.0)
