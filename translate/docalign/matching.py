"""Which English document translates which Arabic one: candidates, confidences, decisions in rounds."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

import numpy as np

from .assignment import logit, best_assignment
from .candidates import Candidates, find_candidates, leftover_candidates
from .confidence import CALIBRATED_FEATURES, confidence_of, pair_features
from .evidence import Indexed, index_documents
from .metadata import Metadata

CONFIDENCE_THRESHOLD = 0.95 # precision first: pairs less likely than this to be right are not made
LATER_CONTRAST = 0.01       # the least contrast, on both sides, of a pair made in a later round (see
                            # decide_round; contrasts as confidence.contrasted_scores gives them)
ROUNDS = 2                  # rounds of decisions (see match_documents); with the contrasts, a third and a
                            # fourth round made about as many wrong pairs as right ones at 100,000 a side
                            # (a fitting seed: 35 right, 33 wrong)


class DocumentPair(NamedTuple):
    ar: int                 # index of the Arabic document
    en: int                 # index of the English document
    confidence: float       # estimated probability that the pair is right


def match_documents(ar_texts: Iterable[str], en_texts: Iterable[str], threshold: float = CONFIDENCE_THRESHOLD,
                    metadata: "Metadata | None" = None,
                    progress: Callable[[str, int], None] | None = None) -> list[DocumentPair]:
    """One-to-one pairs (Arabic index, English index, confidence), most confident first; documents left
    out of every pair have no counterpart that is likely enough. ``metadata``: log-odds from paths and
    hints (see Metadata); the pairs it proposes are always candidates. ``progress(side, documents)`` is
    called as the texts are read.

    Decisions come in rounds: the pairs confident enough are made, then the confidences of the pairs
    whose documents are both still free are computed again among those only (a document whose rival
    was paired with its own counterpart now stands out), in ROUNDS rounds. After the first round the documents
    left unpaired look up candidates again among themselves only (leftover_candidates): at 100,000 a
    side a document's counterpart can be crowded out of its first candidates by near copies."""
    indexed = index_documents(ar_texts, en_texts, progress)
    if not indexed.ar.shape[0] or not indexed.en.shape[0]:
        return []
    return match_indexed(indexed, threshold, metadata)


def match_indexed(indexed: Indexed, threshold: float = CONFIDENCE_THRESHOLD,
                  metadata: "Metadata | None" = None) -> list[DocumentPair]:
    """match_documents on documents already indexed."""
    found = find_candidates(indexed, metadata.proposed() if metadata else ())
    # a pair sharing no evidence at all is never made, whatever the metadata says
    found = found.subset(found.cosine > 0)
    bonus = metadata.log_odds(found.ar, found.en) if metadata else np.zeros(len(found.ar))
    made: list[DocumentPair] = []
    for number in range(ROUNDS):
        chosen, free = decide_round(indexed, found, bonus, threshold, later=number > 0)
        if not chosen:
            break
        made.extend(chosen)
        found, bonus = found.subset(free), bonus[free]
        if number == 0:
            found, bonus = with_leftover_candidates(indexed, found, bonus, made, metadata)
    return sorted(made, key=lambda p: -p.confidence)


def with_leftover_candidates(indexed: Indexed, found: Candidates, bonus: np.ndarray, made: list[DocumentPair],
                             metadata: "Metadata | None") -> tuple[Candidates, np.ndarray]:
    """``found`` (the candidate pairs left free by the first round) and new candidates among the
    documents the first round left unpaired (see leftover_candidates), each with its metadata log-odds."""
    free_ar = np.setdiff1d(np.arange(indexed.ar.shape[0]), [p.ar for p in made])
    free_en = np.setdiff1d(np.arange(indexed.en.shape[0]), [p.en for p in made])
    more = leftover_candidates(indexed, free_ar, free_en)
    size = indexed.en.shape[0]
    new = ~np.isin(more.ar * size + more.en, found.ar * size + found.en) & (more.cosine > 0)
    more = more.subset(new)
    more_bonus = metadata.log_odds(more.ar, more.en) if metadata else np.zeros(len(more.ar))
    merged = Candidates(*(np.concatenate([a, b]) for a, b in zip(found, more)))
    return merged, np.concatenate([bonus, more_bonus])


def decide_round(indexed: Indexed, found: Candidates, bonus: np.ndarray, threshold: float,
                 later: bool = False) -> tuple[list[DocumentPair], np.ndarray]:
    """One round of decisions among ``found``: the pairs made, and which candidate pairs have both
    documents still free after it. ``later``: a round after the first, whose pairs are what the
    confident ones left (see confidence_of)."""
    features = pair_features(found, indexed, bonus)
    confidence = confidence_of(features, bonus, later=later)
    keep = confidence >= threshold
    if later:
        # a pair that stands out only once its rivals are gone must still win on what tells it from
        # them: on both sides, the document translates what its counterpart has and the rival lacks
        # (positive contrasts); without this, the second round at 100,000 a side made 955 right pairs
        # and 156 wrong (mostly orphans given the English of a document still free), with it 706 and 53
        contrasts = [CALIBRATED_FEATURES.index(name) for name in ("en_contrast", "ar_contrast")]
        keep &= features[:, contrasts].min(axis=1) >= LATER_CONTRAST
    edges = {(int(a), int(e)): float(c) for a, e, c in zip(found.ar[keep], found.en[keep], confidence[keep])}
    chosen = best_assignment({k: logit(c) - logit(threshold) for k, c in edges.items()}, 0.0)
    paired_ar = np.array([a for a, _ in chosen], dtype=np.int64)
    paired_en = np.array([e for _, e in chosen], dtype=np.int64)
    free = ~np.isin(found.ar, paired_ar) & ~np.isin(found.en, paired_en)
    return [DocumentPair(a, e, edges[a, e]) for a, e in chosen], free
