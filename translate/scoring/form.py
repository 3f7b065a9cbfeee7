"""The output's form against the source's: punctuation by kind, names, capitalised words, repetition."""
from __future__ import annotations

import re

from .carried import LATIN_TOKEN

_WORD = re.compile(r"\w+")


def repeated_trigrams(text: str) -> float:
    words = _WORD.findall(text.lower())
    grams = [tuple(words[i:i + 3]) for i in range(len(words) - 2)]
    if not grams:
        return 0.0
    return 1.0 - len(set(grams)) / len(grams)


# commas and full stops are one kind, clause ends, because a translation of a long Arabic sentence chained
# with commas may rightly end some of its clauses with full stops
PUNCTUATION_KINDS = {"clause": "،,.", "quote": "\"«»“”'‘’", "bracket": "()[]", "question": "?؟!", "colon": ":;؛",
                     "dash": "-–—"}
_NUMBER_SEPARATOR = re.compile(r"(?<=\d)[.,٫٬](?=\d)")
_INNER_HYPHEN = re.compile(r"(?<=\w)-(?=\w)")
# an apostrophe, straight or typographic (don't, Court’s, Paris'), is no quote mark
_APOSTROPHE = re.compile(r"(?<=[A-Za-z])['’](?=[A-Za-z])|(?<=s)['’](?=\s)")
_INITIALISM = re.compile(r"\b(?:[A-Za-z]\.){2,}")
_SENTENCE_OPENING = re.compile(r"[\s\"'“‘(]*([A-Z][A-Za-z]+)")       # a capitalised first word of a sentence
_CAPITALISED = re.compile(r"\b[A-Z][A-Za-z]+")


def punctuation_counts(text: str) -> dict[str, int]:
    """Marks of each kind; separators inside numbers, hyphens inside words, apostrophes (don't, Court’s, Paris')
    and the dots of initialisms (U.S.) are not punctuation."""
    text = _APOSTROPHE.sub("", _INNER_HYPHEN.sub("", _NUMBER_SEPARATOR.sub("", text)))
    # an initialism ending the line also ends its sentence: keep one full stop for it
    text = _INITIALISM.sub(lambda m: "." if not text[m.end():].strip() else "", text)
    return {kind: sum(text.count(c) for c in marks) for kind, marks in PUNCTUATION_KINDS.items()}


def _mismatch(a: int, b: int) -> float:
    """|a - b| relative to a + b: 0 when equal, towards 1 when one side has none."""
    return abs(a - b) / (1 + a + b)


# English punctuates clauses more than Arabic, which chains them with و and commas: a good translation splits
# long sentences and sets off clauses with commas (FLORES dev's human reference has 181 more clause marks
# than its Arabic source; UD Arabic PUD's English 15% more than its Arabic). So clause marks the output adds
# count for half; clause marks it lacks (clauses merged or dropped), and every other kind, count in full.
EXTRA_CLAUSE_WEIGHT = 0.5


def punctuation_mismatch(source: str, target: str) -> float:
    """Marks whose count differs between source and output, summed over kinds, relative to all marks (clause
    marks the output adds count for ``EXTRA_CLAUSE_WEIGHT``)."""
    src, tgt = punctuation_counts(source), punctuation_counts(target)
    differ = sum((EXTRA_CLAUSE_WEIGHT if kind == "clause" and tgt[kind] > src[kind] else 1.0)
                 * abs(src[kind] - tgt[kind]) for kind in src)
    return differ / (1 + sum(src.values()) + sum(tgt.values()))


def names_mismatch(source: str, target_sentences: list[str], unknown_names: int) -> float:
    """Capitalised words of the output (its ``sentence_spans``; a word opening a sentence does not count,
    unless the source has it in Latin script) against the source's Latin-script tokens and content words
    the lexicon does not know (``unknown_names``)."""
    latin = LATIN_TOKEN.findall(source)
    carried = {t.lower() for t in latin}
    openings = [_SENTENCE_OPENING.match(sentence) for sentence in target_sentences]
    capitalised = sum(len(_CAPITALISED.findall(sentence)) for sentence in target_sentences) - \
        sum(1 for opening in openings if opening and opening.group(1).lower() not in carried)
    return _mismatch(capitalised, unknown_names + len(latin))


def capitalised_share(sentences: list[str]) -> float:
    """Share of the words that are capitalised without opening a sentence (names carried into the output);
    how the output divides its sentences (merged with commas, split) does not change it."""
    words = [sentence.split() for sentence in sentences]
    total = sum(map(len, words))
    return sum(1 for each in words for w in each[1:] if w[:1].isupper()) / total if total else 0.0
