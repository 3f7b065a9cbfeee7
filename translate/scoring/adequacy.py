"""Lexical adequacy of a pair from the project's IBM Model 1 lexicon (``translate.lexicon``)."""
from __future__ import annotations

import math
from collections import Counter
from functools import lru_cache

from ..lexicon import ARABIC_STOPWORDS, ENGLISH_STOPWORDS, arabic_tokens, english_tokens, load_lexicon
from .carried import LATIN_TOKEN, numbers
from .omission import sentence_shares

LINK_THRESHOLD = 0.05       # lexicon probability above which two words count as translations

SOFT_TRANSLATIONS = 4       # translations of a source word whose character grams soft_coverage looks for


@lru_cache(maxsize=1 << 16)
def _char_grams(*words: str) -> frozenset[str]:
    """Character 3- and 4-grams of a few words (each padded with a space on both sides): one word of an
    output, or the best translations of one source word."""
    return frozenset(f" {w} "[i:i + n] for w in words for n in (3, 4) for i in range(len(w) + 3 - n))


def _soft_coverage(known_src: list[str], lexicon, tgt: list[str]) -> float:
    """Mean share of the character 3/4-grams of each known source word's best translations that occur in
    the output's content words (0.5, neutral, when there is nothing to check)."""
    output_grams = frozenset().union(*(_char_grams(e) for e in tgt))
    shares = [len(grams & output_grams) / len(grams)
              for grams in (_char_grams(*lexicon.best(a, SOFT_TRANSLATIONS)) for a in known_src) if grams]
    return sum(shares) / len(shares) if shares else 0.5


def adequacy_signals(source: str, target: str, source_sentences: list[str]) -> dict:
    """Lexical adequacy of a pair from the IBM Model 1 lexicon (see the module docstring).

    Every loop runs over the lexicon rows of the pair's words (a few dozen entries each), never over all
    source x target word pairs, so long sentences stay cheap."""
    lexicon = load_lexicon()
    forward_table, backward_table = lexicon.forward, lexicon.backward
    src_all, tgt_all = arabic_tokens(source), english_tokens(target)
    src = [w for w in src_all if w not in ARABIC_STOPWORDS]
    tgt = [w for w in tgt_all if w not in ENGLISH_STOPWORDS]
    tgt_set, src_set = set(tgt), set(src)
    # a source and an output word are linked when lexicon.link(a, e) >= LINK_THRESHOLD, in either direction
    src_links = {a: {e for e, p in forward_table.get(a, {}).items() if p >= LINK_THRESHOLD} for a in src_set}
    tgt_links = {e: {a for a, p in backward_table.get(e, {}).items() if p >= LINK_THRESHOLD} for e in tgt_set}
    covered = {a for a, linked in src_links.items() if linked & tgt_set}
    covered.update(a for linked in tgt_links.values() for a in linked & src_set)
    tgt_linked = {e for e, linked in tgt_links.items() if linked & src_set}
    tgt_linked.update(e for linked in src_links.values() for e in linked & tgt_set)
    known_src = [w for w in src if w in forward_table]
    src_hits = sum(1 for a in known_src if a in covered)
    known_tgt = [e for e in tgt if e in backward_table]
    tgt_hits = sum(1 for e in known_tgt if e in tgt_linked)
    # omission: the coverage of the worst-covered source sentence (a dropped sentence scores near 0)
    sentences = source_sentences if known_src else []
    target_numbers, target_latin = numbers(target), [t.lower() for t in LATIN_TOKEN.findall(target)]
    shares = [sentence_shares(s, lexicon, covered, target_numbers, target_latin) for s in sentences] \
        if len(sentences) > 1 else []
    sentence_coverage = [coverage for coverage, _ in shares if coverage is not None]
    sentence_content = [content for _, content in shares]
    # IBM Model 1 log-likelihood per word in both directions, floored so one unknown word cannot dominate
    forward_mass, backward_mass = Counter(), Counter()
    for a in src_all:
        forward_mass.update(forward_table.get(a, {}))
    for e in tgt_all:
        backward_mass.update(backward_table.get(e, {}))
    forward = [forward_mass.get(e, 0.0) / (len(src_all) + 1) for e in tgt_all]
    backward = [backward_mass.get(a, 0.0) / (len(tgt_all) + 1) for a in src_all]
    floor = 1e-4
    src_coverage = src_hits / len(known_src) if known_src else 0.5
    unknown_names = sum(1 for w in src if w not in forward_table and len(w) >= 3)
    return {
        "soft_coverage": _soft_coverage(known_src, lexicon, tgt),
        # with no source word known, the FLORES dev mean
        "src_ambiguity": sum(len(forward_table[a]) for a in known_src) / len(known_src) if known_src else 10.5,
        "unknown_names": unknown_names,
        "sentence_content": sentence_content,
        # with nothing to check, coverage is neutral (0.5) rather than perfect
        "src_coverage": src_coverage,
        "sentence_coverage_min": min([src_coverage, *sentence_coverage]),
        "tgt_coverage": tgt_hits / len(known_tgt) if known_tgt else 0.5,
        "src_unknown": (len(src) - len(known_src)) / len(src) if src else 0.0,
        "tgt_unknown": (len(tgt) - len(known_tgt)) / len(tgt) if tgt else 0.0,
        "ibm1_forward": sum(math.log(p + floor) for p in forward) / len(forward) if forward else math.log(floor),
        "ibm1_backward": sum(math.log(p + floor) for p in backward) / len(backward) if backward else math.log(floor),
    }
