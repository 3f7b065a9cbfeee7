"""Candidate pairs from an inverted index instead of all pairs, and what each candidate's confidence is
computed from.

Each document queries the other side with its QUERY_FEATURES most discriminative features (largest
tf-idf weight, features no more common than COMMON_DF documents), and keeps the CANDIDATES documents
that share the most weight with it; this is done in both directions. Each candidate pair then gets its
full cosine.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
from scipy import sparse

from .evidence import Indexed

CANDIDATES = 48             # k: candidates kept per document, in each direction (24 lost 0.6% of
                            # the true pairs at 100,000 a side, among near copies of the same story)
QUERY_FEATURES = 40         # features of a document that look up its candidates in the inverted index
COMMON_DF = 12000           # features in more documents than this find no candidates (they still count
                            # in the cosine): their postings would make the lookup grow with the archive.
                            # 2,000 lost 17% of the true pairs at 100,000 a side: a story's own words
                            # recur in thousands of documents there (bench/docalign_diagnose.py); a
                            # document queries with its rarest features, so the longer postings are read
                            # by the few documents that have nothing rarer. At 100,000 a side (with the
                            # contrasts), 20,000 found 3 more true pairs of 80,000 in 230 s against 201 s
LEFTOVER_QUERY_FEATURES = 100  # features of a document left unpaired that look up its second candidates
                            # (among the documents left unpaired only, so the wider lookup stays cheap)
CHUNK_ROWS = 512            # documents whose candidates are looked up in one sparse product


def query_rows(matrix: sparse.csr_matrix, usable: np.ndarray, count: int) -> sparse.csr_matrix:
    """Each row cut to its ``count`` largest weights among usable features."""
    matrix = matrix.tocoo()
    keep = usable[matrix.col]
    rows, cols, data = matrix.row[keep], matrix.col[keep], matrix.data[keep]
    order = np.lexsort((-data, rows))
    rows, cols, data = rows[order], cols[order], data[order]
    starts = np.searchsorted(rows, np.arange(matrix.shape[0]))
    rank = np.arange(len(rows)) - starts[rows]
    keep = rank < count
    return sparse.csr_matrix((data[keep], (rows[keep], cols[keep])), shape=matrix.shape)


def candidates(query: sparse.csr_matrix, target: sparse.csr_matrix, usable: np.ndarray,
               k: int = CANDIDATES, features: int = QUERY_FEATURES) -> tuple[np.ndarray, np.ndarray]:
    """(query row, target row) of each row's k best targets by the weight their usable features share
    with the row's ``features`` query features (an inverted-index lookup as a sparse product, a chunk
    at a time)."""
    queries = query_rows(query, usable, features)
    postings = sparse.csr_matrix(target.multiply(usable[np.newaxis, :].astype(np.float32))).T.tocsr()
    out_rows, out_cols = [], []
    for start in range(0, query.shape[0], CHUNK_ROWS):
        shared = (queries[start:start + CHUNK_ROWS] @ postings).tocsr()
        for r in range(shared.shape[0]):
            lo, hi = shared.indptr[r], shared.indptr[r + 1]
            if lo == hi:
                continue
            values, cols = shared.data[lo:hi], shared.indices[lo:hi]
            if hi - lo > k:
                best = np.argpartition(-values, k)[:k]
                cols = cols[best]
            out_rows.append(np.full(len(cols), start + r, dtype=np.int64))
            out_cols.append(cols.astype(np.int64))
    if not out_rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(out_rows), np.concatenate(out_cols)


def pair_cosines(ar: sparse.csr_matrix, en: sparse.csr_matrix, rows: np.ndarray,
                 cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cosine of each pair, how many features it shares, and the share of each side's (squared) tf-idf
    weight on the features it shares: how much of each document the other explains, rare words
    counting more than common ones."""
    cosines, shared, ar_mass, en_mass = (np.empty(len(rows)) for _ in range(4))
    step = 1 << 16
    for start in range(0, len(rows), step):
        part = slice(start, start + step)
        ar_rows, en_rows = ar[rows[part]], en[cols[part]]
        product = sparse.csr_matrix(ar_rows.multiply(en_rows))
        cosines[part] = np.asarray(product.sum(axis=1)).ravel()
        shared[part] = np.diff(product.indptr)
        both = product.copy()
        both.data[:] = 1.0
        for mass, rows_of_side in ((ar_mass, ar_rows), (en_mass, en_rows)):
            on_shared = sparse.csr_matrix(rows_of_side.multiply(both))
            mass[part] = np.asarray(on_shared.multiply(on_shared).sum(axis=1)).ravel()
    return cosines, shared, ar_mass, en_mass


class Candidates(NamedTuple):
    ar: np.ndarray          # Arabic row of each candidate pair
    en: np.ndarray          # English row
    cosine: np.ndarray
    shared: np.ndarray      # features the two documents share
    length: np.ndarray      # |log| of the ratio of their lengths
    ar_coverage: np.ndarray  # share of the Arabic document's features found in the English one
    en_coverage: np.ndarray
    ar_mass: np.ndarray     # share of the Arabic document's tf-idf weight on features the English has
    en_mass: np.ndarray

    def subset(self, mask: np.ndarray) -> "Candidates":
        return Candidates(*(column[mask] for column in self))



def find_candidates(indexed: Indexed, extra: Iterable[tuple[int, int]] = ()) -> Candidates:
    """Every candidate pair, from both directions (and ``extra`` pairs that metadata proposes), with
    what its confidence is computed from."""
    ar, en = indexed.ar, indexed.en
    usable = indexed.df <= COMMON_DF
    forward = candidates(ar, en, usable)
    backward = candidates(en, ar, usable)
    extra = np.array(list(extra), dtype=np.int64).reshape(-1, 2)
    rows = np.concatenate([forward[0], backward[1], extra[:, 0]])
    cols = np.concatenate([forward[1], backward[0], extra[:, 1]])
    return describe_pairs(indexed, rows, cols)


def leftover_candidates(indexed: Indexed, free_ar: np.ndarray, free_en: np.ndarray) -> Candidates:
    """Candidate pairs among the documents left unpaired only (rows ``free_ar`` and ``free_en``), looked
    up with LEFTOVER_QUERY_FEATURES features: a document whose counterpart was crowded out of its
    CANDIDATES by near copies finds it once the paired near copies are out of the way."""
    if not len(free_ar) or not len(free_en):
        return describe_pairs(indexed, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    ar, en = indexed.ar[free_ar], indexed.en[free_en]
    usable = indexed.df <= COMMON_DF
    forward = candidates(ar, en, usable, features=LEFTOVER_QUERY_FEATURES)
    backward = candidates(en, ar, usable, features=LEFTOVER_QUERY_FEATURES)
    rows = free_ar[np.concatenate([forward[0], backward[1]])]
    cols = free_en[np.concatenate([forward[1], backward[0]])]
    return describe_pairs(indexed, rows, cols)


def describe_pairs(indexed: Indexed, rows: np.ndarray, cols: np.ndarray) -> Candidates:
    """The distinct pairs among (``rows``, ``cols``), with what their confidence is computed from."""
    ar, en = indexed.ar, indexed.en
    keys = np.unique(rows * en.shape[0] + cols)
    rows, cols = keys // en.shape[0], keys % en.shape[0]
    cosines, shared, ar_mass, en_mass = pair_cosines(ar, en, rows, cols)
    # a near copy of the right document (the same story retold) differs in length; and leaves more of
    # either side unmatched, while sharing the rare names
    lengths = np.abs(np.log((indexed.ar_lengths[rows] + 1) / (indexed.en_lengths[cols] + 1)))
    return Candidates(rows, cols, cosines, shared, lengths, shared / np.maximum(1, np.diff(ar.indptr)[rows]),
                      shared / np.maximum(1, np.diff(en.indptr)[cols]), ar_mass, en_mass)
