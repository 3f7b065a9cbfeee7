"""A candidate pair's calibrated confidence: the estimated probability that it is right.

A cosine alone is not comparable across documents (long documents share more with everything), so a
pair is scored in two logistic stages: its own evidence first (PAIR_WEIGHTS), then its score against
its rivals' (CALIBRATION): the margin over the k nearest neighbours of both documents, as bitext mining
does, and the gap to the strongest rival. Between the two, each pair's contrasts against its strongest
rivals (see ``contrast``; weighted by CONTRAST_WEIGHTS) are added to its score: a near copy of the right
document scores almost as the right pair on what the two share, and falls behind on what they do not
(on a news archive of 100,000 documents a side built with a fitting seed, the right pair is the best
of both its documents for 76,209 of the 80,000 true pairs by the pair score alone, for 78,241 with
the contrasts). The fit (``bench/docalign_scale.py --fit``) makes the confidence mean the same in any
domain: with weak evidence, right pairs stand out less and get lower confidences, instead of wrong pairs
being made.
"""
from __future__ import annotations

import numpy as np

from .candidates import Candidates
from .contrast import contrast_features
from .evidence import Indexed

NEIGHBOURS = 4              # best other candidates that set a document's level (the margin)
# two logistic stages, fitted by `python bench/docalign_scale.py --fit` on synthetic archives of FLORES
# dev and Tatoeba documents and on UD PUD's articles: pair score = PAIR_WEIGHTS . (PAIR_FEATURES, 1)
# from the pair's own evidence, plus CONTRAST_WEIGHTS . (en_contrast, ar_contrast) (fitted on top of
# the pair score); confidence = sigmoid(CALIBRATION . (CALIBRATED_FEATURES, 1)) from that score against
# its rivals' scores (LATER_CALIBRATION in rounds after the first, fitted on the pairs the first round
# leaves free)
PAIR_WEIGHTS = (51.523, -12.984, -3.420, 28.110, 21.296, -20.672, -13.906, -5.573)
CONTRAST_WEIGHTS = (149.410, 312.678)
CALIBRATION = (-0.106, 0.668, 10.298, 0.922, 5.442, -257.868, -0.917)
LATER_CALIBRATION = (-0.074, 0.537, 4.361, 0.983, -14.472, 14.666, -0.695)
PAIR_FEATURES = ("cosine", "length", "evidence", "ar_coverage", "en_coverage", "ar_mass", "en_mass")
CALIBRATED_FEATURES = ("pair_score", "margin", "above_rival", "below_rival", "en_contrast", "ar_contrast")
SCORE_FLOOR = -5.0          # the least pair score a margin is measured against (chance overlaps score less;
                            # -4 held a short document's true pair, scoring -4.15 against rivals at -5.4,
                            # below its rivals: 2 of FLORES dev's 224 articles were lost so)
FULL_EVIDENCE = 20          # shared features from which a pair's margins count in full


def neighbourhood(owner: np.ndarray, cosines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each candidate pair, over its ``owner`` document's other candidates: the mean of the
    NEIGHBOURS best cosines (the level of the ratio margin) and the best one (the strongest rival);
    0 where it has none."""
    if not len(owner):
        return np.zeros(0), np.zeros(0)
    order = np.lexsort((-cosines, owner))
    ranked = cosines[order]
    first = np.r_[True, owner[order][1:] != owner[order][:-1]]
    group = np.cumsum(first) - 1
    group_start = np.flatnonzero(first)[group]
    rank = np.arange(len(order)) - group_start
    size = np.bincount(group)[group]
    running = np.r_[0.0, np.cumsum(ranked)]

    def head(n):        # sum of each group's n best cosines
        return running[group_start + np.minimum(size, n)] - running[group_start]

    others = np.minimum(NEIGHBOURS, size - 1)
    # the pair among its document's NEIGHBOURS + 1 best: the others of those; below them: the NEIGHBOURS best
    total = np.where(rank <= NEIGHBOURS, head(NEIGHBOURS + 1) - ranked, head(NEIGHBOURS))
    level, rival = np.zeros(len(order)), np.zeros(len(order))
    level[order] = np.where(others > 0, total / np.maximum(others, 1), np.nan)
    second = ranked[np.minimum(group_start + 1, len(order) - 1)]
    rival[order] = np.where(size > 1, np.where(rank == 0, second, ranked[group_start]), np.nan)
    return level, rival


def confidence_of(features: np.ndarray, evidence: np.ndarray | float = 0.0, later: bool = False) -> np.ndarray:
    """The calibrated probability that a pair is right, from its CALIBRATED_FEATURES (plus log-odds
    from metadata); a pair alone (no rival, see pair_features) gets its first-stage probability.
    ``later``: the pair is among those left free by a first round of decisions; they are hard cases (the
    confident pairs are gone) and a margin over the rivals left means less among them than among all
    pairs: LATER_CALIBRATION, fitted on that population, gives their confidence."""
    *weights, offset = LATER_CALIBRATION if later else CALIBRATION
    logit = features[:, :-1] @ np.array(weights) + offset + evidence
    if not later:       # (later pairs alone are mostly documents whose rivals all went elsewhere: not evidence)
        alone = features[:, -1] > 0
        logit = np.where(alone, features[:, 0], logit)     # the pair score already holds the metadata's log-odds
    return 1.0 / (1.0 + np.exp(-np.clip(logit, -30, 30)))


def shared_evidence(found: Candidates) -> np.ndarray:
    """From 0 to 1: the features a pair shares, up to FULL_EVIDENCE (standing out on two or three shared
    words is chance)."""
    return np.minimum(found.shared, FULL_EVIDENCE) / FULL_EVIDENCE


def pair_evidence(found: Candidates) -> np.ndarray:
    """PAIR_FEATURES of each candidate pair: what the two documents share, whatever their rivals."""
    return np.c_[found.cosine, found.length, shared_evidence(found), found.ar_coverage, found.en_coverage,
                 found.ar_mass, found.en_mass]


def pair_scores(found: Candidates) -> np.ndarray:
    """The first stage: log-odds that a pair is right from its own evidence alone (PAIR_WEIGHTS)."""
    *weights, offset = PAIR_WEIGHTS
    return pair_evidence(found) @ np.array(weights) + offset


def contrasted_scores(found: Candidates, indexed: Indexed,
                      metadata_log_odds: np.ndarray | float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Each candidate pair's score from its own evidence and the metadata, plus its contrasts against
    its strongest rivals (contrast_features, weighted by CONTRAST_WEIGHTS): the score its rivals are
    measured against; and the contrasts."""
    scores = pair_scores(found) + metadata_log_odds
    # as the margins, contrasts count in proportion to the shared evidence: between documents that share
    # a few words, the exclusive parts are chance
    contrasts = contrast_features(indexed, found, scores) * shared_evidence(found)[:, np.newaxis]
    return scores + contrasts @ np.array(CONTRAST_WEIGHTS), contrasts


def pair_features(found: Candidates, indexed: Indexed, metadata_log_odds: np.ndarray | float = 0.0) -> np.ndarray:
    """CALIBRATED_FEATURES of each candidate pair, the second stage: its pair score; how far it stands
    above the mean score of its documents' NEIGHBOURS best other candidates (the margin over k
    neighbours, as a difference of log-odds); and how far above (or below) the strongest rival of either
    document (above its rivals or not is a different question from by how much: the two get their own
    weights). Margins count in proportion to the shared evidence. Then the contrast of either side
    against its strongest rival (see contrast_features, computed on the tf-idf rows of ``indexed``): near
    copies score alike but differ in their exclusive parts. Metadata's log-odds count in the scores that
    are compared, so a pair that metadata favours stands out from rivals it disfavours."""
    scores, contrasts = contrasted_scores(found, indexed, metadata_log_odds)
    (ar_level, ar_rival), (en_level, en_rival) = neighbourhood(found.ar, scores), neighbourhood(found.en, scores)
    # a pair whose documents have no other candidate at all (a small collection, or two files) has no
    # margin to speak of: its own evidence decides alone
    alone = np.isnan(ar_rival) & np.isnan(en_rival)
    both = np.c_[ar_level, en_level]
    both[alone] = 0.0
    level = np.maximum(SCORE_FLOOR, np.nanmean(both, axis=1))
    rival = np.maximum(SCORE_FLOOR, np.where(alone, 0.0, np.fmax(ar_rival, en_rival)))
    margin = np.where(alone, 0.0, scores - level)
    gap = np.where(alone, 0.0, scores - rival)
    evidence = shared_evidence(found)
    # the last column marks pairs alone: without rivals there is no second stage (confidence_of)
    return np.c_[scores, margin * evidence, np.maximum(gap, 0) * evidence, np.minimum(gap, 0), contrasts, alone]
