"""Omission: the source sentences whose content (known content words, numbers, Latin-script names) the
output lacks; the sentence count is only a hint."""
from __future__ import annotations

from ..lexicon import ARABIC_STOPWORDS, arabic_tokens
from .carried import LATIN_TOKEN, count_missing, numbers


def sentence_shares(sentence: str, lexicon, covered: set[str], target_numbers: list[str],
                     target_latin: list[str]) -> tuple[float | None, float | None]:
    """Of one source sentence: the share of its known content words that are ``covered`` (None under 3
    such words), and the share of its content found in the output: those words, its numbers and its
    Latin-script names (None under 3 such items)."""
    known = [w for w in arabic_tokens(sentence) if w not in ARABIC_STOPWORDS and w in lexicon.forward]
    hits = sum(1 for w in known if w in covered)
    sentence_numbers = numbers(sentence)
    latin = [t.lower() for t in LATIN_TOKEN.findall(sentence)]
    items = len(known) + len(sentence_numbers) + len(latin)
    found = (hits + len(sentence_numbers) - count_missing(sentence_numbers, target_numbers)
             + len(latin) - count_missing(latin, target_latin)) if items >= 3 else 0
    return hits / len(known) if len(known) >= 3 else None, found / items if items >= 3 else None


# a source sentence whose content the output lacks is omitted: below LOST_CONTENT of its content found, or
# below LOST_CONTENT_FEWER when the output also has fewer sentences than the source (the count is a hint,
# never proof: systems merge sentences with commas or "and")
LOST_CONTENT = 0.35
LOST_CONTENT_FEWER = 0.5
SHORT_OUTPUT = -1.5         # length_z below which the output is short enough to hint at an omission


def omitted_sentences(content: list[float | None], sentences_missing: int, length_z: float) -> int:
    """Source sentences judged left out of the output, from each one's share of content found; an output
    with fewer sentences than the source, or shorter than expected, makes the test less strict."""
    limit = LOST_CONTENT_FEWER if sentences_missing > 0 or length_z < SHORT_OUTPUT else LOST_CONTENT
    return sum(1 for share in content if share is not None and share < limit)
