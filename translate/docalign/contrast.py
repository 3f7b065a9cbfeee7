"""Contrastive evidence: what a pair's documents share that the strongest rival lacks.

In a large archive the strongest rival of a right pair (A, E) is often a near copy R of E: the same
story with a different tail (an updated version, agency copy reused). The half the two share dominates
both cosines, so the scores of (A, E) and (A, R) differ little; but the parts that differ discriminate:
A translates the features of E that R lacks (E without R), not those of R that E lacks (R without E).
A pair's *contrast* on a side is the cosine of the document with its counterpart's exclusive part minus
its cosine with the rival's exclusive part: positive for the right pair, negative for the near copy.
It is computed for each candidate pair among the two best of one of its documents (by the pair score
of their own evidence), against the strongest rival on each side: the English rival of the Arabic
document, the Arabic rival of the English one. Contrasts are antisymmetric (the best pair's contrast
against the second is minus the second's against the best), so adding them to the scores reorders
the two where the exclusive parts disagree with the shared ones. Rows are handled in sparse chunks, so
memory stays bounded by the number of documents, not of candidate pairs.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse

from .candidates import Candidates
from .evidence import Indexed

SCORE_BOUND = 10000.0       # scores are clipped inside +-this to rank a document's candidates
CHUNK_PAIRS = 1 << 15       # pairs whose contrast is computed in one sparse step
CONTRASTED_RANK = 1         # pairs among the two best of either document get a contrast (the best and
                            # its strongest rival: a right pair ranked second behind a near copy
                            # overtakes it by its contrast)


def strongest_rivals(owner: np.ndarray, other: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each candidate pair: the ``other`` document of its ``owner`` document's best other candidate
    by score (-1 where it has none), and the pair's rank among its owner's candidates (0: the best)."""
    rival, rank = np.full(len(owner), -1, dtype=np.int64), np.zeros(len(owner), dtype=np.int64)
    if not len(owner):
        return rival, rank
    # by owner, best score first: one sort of a combined key (faster than lexsort on millions of pairs;
    # scores are log-odds, far inside +-SCORE_BOUND, and ties may come in any order)
    order = np.argsort(owner * (2.0 * SCORE_BOUND) - np.clip(scores, 1 - SCORE_BOUND, SCORE_BOUND - 1))
    first = np.r_[True, owner[order][1:] != owner[order][:-1]]
    group = np.cumsum(first) - 1
    group_start = np.flatnonzero(first)[group]
    size = np.bincount(group)[group]
    ranked_other = other[order]
    second = ranked_other[np.minimum(group_start + 1, len(order) - 1)]
    rank[order] = np.arange(len(order)) - group_start
    rival[order] = np.where(size > 1, np.where(rank[order] == 0, second, ranked_other[group_start]), -1)
    return rival, rank


def _row_sums(matrix: sparse.spmatrix) -> np.ndarray:
    return np.asarray(matrix.sum(axis=1)).ravel()


def _exclusive_cosine(query: sparse.csr_matrix, own: sparse.csr_matrix, rival: sparse.csr_matrix) -> np.ndarray:
    """Row by row: the cosine of ``query`` with the part of ``own`` on features ``rival`` lacks (0 where
    there is no such part)."""
    on_rival = rival.copy()
    on_rival.data[:] = 1.0
    exclusive = sparse.csr_matrix(own - own.multiply(on_rival))
    exclusive.eliminate_zeros()
    norm = np.sqrt(_row_sums(exclusive.multiply(exclusive)))
    return _row_sums(query.multiply(exclusive)) / np.maximum(norm, 1e-9)


def side_contrast(query: sparse.csr_matrix, other: sparse.csr_matrix, query_rows: np.ndarray,
                  own_rows: np.ndarray, rival_rows: np.ndarray) -> np.ndarray:
    """cos(query, own without rival) - cos(query, rival without own) for each (query, own, rival) row.
    A contrast is antisymmetric (swapping own and rival changes its sign), so each distinct triple is
    computed once: a document's best pair against its second and the second against the best."""
    out = np.zeros(len(query_rows))
    if not len(query_rows):
        return out
    size = other.shape[0]
    low, high = np.minimum(own_rows, rival_rows), np.maximum(own_rows, rival_rows)
    sign = np.where(own_rows == low, 1.0, -1.0)
    triples, inverse = np.unique((query_rows * size + low) * size + high, return_inverse=True)
    queries, lows, highs = triples // (size * size), (triples // size) % size, triples % size
    distinct = np.zeros(len(triples))
    for start in range(0, len(triples), CHUNK_PAIRS):
        part = slice(start, start + CHUNK_PAIRS)
        q, own, rival = query[queries[part]], other[lows[part]], other[highs[part]]
        distinct[part] = _exclusive_cosine(q, own, rival) - _exclusive_cosine(q, rival, own)
    return distinct[inverse.ravel()] * sign


def contrast_features(indexed: Indexed, found: Candidates, scores: np.ndarray) -> np.ndarray:
    """(English contrast, Arabic contrast) of each candidate pair: against the Arabic document's
    strongest English rival, and against the English document's strongest Arabic rival (by ``scores``);
    0 for a pair below CONTRASTED_RANK in both documents, or without a rival on that side."""
    en_rival, ar_rank = strongest_rivals(found.ar, found.en, scores)
    ar_rival, en_rank = strongest_rivals(found.en, found.ar, scores)
    best_of_one = (ar_rank <= CONTRASTED_RANK) | (en_rank <= CONTRASTED_RANK)
    out = np.zeros((len(found.ar), 2))
    pick = np.flatnonzero(best_of_one & (en_rival >= 0))
    out[pick, 0] = side_contrast(indexed.ar, indexed.en, found.ar[pick], found.en[pick], en_rival[pick])
    pick = np.flatnonzero(best_of_one & (ar_rival >= 0))
    out[pick, 1] = side_contrast(indexed.en, indexed.ar, found.en[pick], found.ar[pick], ar_rival[pick])
    return out
