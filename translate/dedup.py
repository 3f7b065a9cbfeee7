"""Duplicates over a whole export, decided on compact arrays (8-byte key hashes, never the pairs).

Pairs are ranked best first: a reviewer's decision (approved or edited) before pending, then the
higher quality estimate, then the older pair. Of exact duplicates (the same normalised key of both
sides, translate.textkey) the best-ranked copy is kept; the caps keep the N best targets of one
source and the N best sources of one target; near-duplicates are pairs whose MinHash signatures
(character 5-grams of both normalised sides, rensa) estimate a Jaccard similarity at or above a
threshold, found through locality-sensitive hashing over bands of the signature.
"""
from __future__ import annotations

import numpy as np

NONE = -1
SHINGLE = 5
NUM_PERM = 32
BANDS = 8                      # 8 bands of 4 rows: pairs from about 0.6 similarity become candidates
DEFAULT_NEAR_THRESHOLD = 0.8
STATUS_RANK = {"approved": 2, "edited": 2, "pending": 1, "rejected": 0}


def best_first(status_rank: np.ndarray, score: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Indices of the pairs, best-ranked first."""
    return np.lexsort((ids, -np.nan_to_num(score, nan=-1.0), -status_rank))


def _grouped(keys: np.ndarray, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``candidates`` (indices, best first) sorted by key, best first within a key; and for each the
    position of its group's first member."""
    ordered = candidates[np.argsort(keys[candidates], kind="stable")]
    sorted_keys = keys[ordered]
    starts = np.ones(len(ordered), dtype=bool)
    starts[1:] = sorted_keys[1:] != sorted_keys[:-1]
    head_pos = np.maximum.accumulate(np.where(starts, np.arange(len(ordered)), 0))
    return ordered, head_pos


def exact_duplicates(keys: np.ndarray, alive: np.ndarray, order: np.ndarray) -> np.ndarray:
    """For each pair, the index of the kept copy it duplicates (NONE if it is kept or not alive)."""
    dup_of = np.full(len(keys), NONE, dtype=np.int64)
    ordered, head_pos = _grouped(keys, order[alive[order]])
    copies = head_pos != np.arange(len(ordered))
    dup_of[ordered[copies]] = ordered[head_pos[copies]]
    return dup_of


def over_cap(keys: np.ndarray, alive: np.ndarray, order: np.ndarray, cap: int) -> np.ndarray:
    """The pairs beyond the ``cap`` best of each key (one source with many targets, or the reverse)."""
    removed = np.zeros(len(keys), dtype=bool)
    ordered, head_pos = _grouped(keys, order[alive[order]])
    removed[ordered[np.arange(len(ordered)) - head_pos >= cap]] = True
    return removed


def shared_keys(keys: np.ndarray, members: np.ndarray, max_copies: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of indices (first, other) among ``members`` with the same key: every other member of a
    key group paired with its first; keys held by more than ``max_copies`` members are left out."""
    ordered, head_pos = _grouped(keys, members)
    copies = np.bincount(head_pos, minlength=len(ordered))[head_pos]
    others = (head_pos != np.arange(len(ordered))) & (copies <= max_copies)
    return ordered[head_pos[others]], ordered[others]


# -- near-duplicates ---------------------------------------------------------------------------
def signature(source_key: str, target_key: str) -> list[int]:
    """MinHash signature of a pair's normalised sides (their character 5-grams, sides kept apart)."""
    from rensa import RMinHash

    shingles = [f"a{source_key[i:i + SHINGLE]}" for i in range(max(1, len(source_key) - SHINGLE + 1))]
    shingles += [f"e{target_key[i:i + SHINGLE]}" for i in range(max(1, len(target_key) - SHINGLE + 1))]
    minhash = RMinHash(num_perm=NUM_PERM, seed=20)
    minhash.update(shingles)
    return minhash.digest()


def near_duplicates(signatures: np.ndarray, alive: np.ndarray, order: np.ndarray,
                    threshold: float = DEFAULT_NEAR_THRESHOLD) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """(near_of, links): for each alive pair, the index of a better-ranked near-duplicate that is kept
    (NONE if none); and every (kept, removed) pair found. Candidates share a band of their signatures;
    a candidate counts when the signatures estimate a Jaccard similarity of ``threshold`` or more."""
    near_of = np.full(len(signatures), NONE, dtype=np.int64)
    links: list[tuple[int, int]] = []
    rows = NUM_PERM // BANDS
    weights = (np.arange(1, rows + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    for band in range(BANDS):
        current = alive & (near_of == NONE)
        part = signatures[:, band * rows:(band + 1) * rows].astype(np.uint64)
        with np.errstate(over="ignore"):
            band_keys = (part * weights).sum(axis=1) ^ np.uint64(band)
        ordered, head_pos = _grouped(band_keys, order[current[order]])
        others = head_pos != np.arange(len(ordered))
        heads, candidates = ordered[head_pos[others]], ordered[others]
        if not len(candidates):
            continue
        similarity = (signatures[heads] == signatures[candidates]).mean(axis=1)
        close = similarity >= threshold
        near_of[candidates[close]] = heads[close]
        links.extend(zip(heads[close].tolist(), candidates[close].tolist()))
    return near_of, links


def outside_best_part(keys: np.ndarray, alive: np.ndarray, order: np.ndarray, part: np.ndarray) -> np.ndarray:
    """The pairs whose key the best-ranked pair of that key has in another part of a split (short
    sentences that do not link documents can still land in two parts: only the best part keeps them)."""
    removed = np.zeros(len(keys), dtype=bool)
    ordered, head_pos = _grouped(keys, order[alive[order]])
    removed[ordered[part[ordered] != part[ordered[head_pos]]]] = True
    return removed
