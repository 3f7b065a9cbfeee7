"""Pass 1's arrays decided on: exclusion files, duplicates, caps, near-duplicates and the split
(Decisions), and the report of what was kept and why not."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import split
from .. import dedup as duplicates
from ..clean import FILTER_NAMES, FILTERS
from ..exclude import Exclusion
from .options import DEDUP_REASONS, CleanOptions
from .scan import Scan


@dataclass
class Decisions:
    reasons: list[str]               # reason names; a pair's code is an index + 1 (0: kept)
    code: np.ndarray
    part: np.ndarray                 # part number of each kept pair (0 without --split)
    duplicate_of: np.ndarray         # index of the kept copy, or duplicates.NONE
    largest_group: int = 1           # documents in the largest group that had to share a part


def decide(s: Scan, exclusions: list[Exclusion], options: CleanOptions) -> Decisions:
    reasons = FILTER_NAMES + [f"excluded:{e.path}" for e in exclusions] + DEDUP_REASONS
    code_of = {name: i + 1 for i, name in enumerate(reasons)}
    n = len(s.ids)
    code = np.zeros(n, dtype=np.int16)
    for bit in reversed(range(len(FILTER_NAMES))):           # the first failed filter is the one named
        code[(s.mask & (1 << bit)) != 0] = bit + 1
    alive = code == 0

    def remove(hit: np.ndarray, reason: str) -> None:
        nonlocal alive
        hit = hit & alive
        code[hit] = code_of[reason]
        alive = alive & ~hit

    for exclusion in exclusions:
        remove(exclusion.matches(s.ar_key) | exclusion.matches(s.en_key), f"excluded:{exclusion.path}")
    order = duplicates.best_first(s.status_rank, s.score, s.ids)
    candidates = alive.copy()                # passed the filters and exclusions: their sentences link documents
    duplicate_of = np.full(n, duplicates.NONE, dtype=np.int64)
    if options.dedup_mode != "none":
        duplicate_of = duplicates.exact_duplicates(s.pair_key, alive, order)
        remove(duplicate_of != duplicates.NONE, "duplicate")
    if options.max_targets_per_source:
        remove(duplicates.over_cap(s.ar_key, alive, order, options.max_targets_per_source), "source-cap")
    if options.max_sources_per_target:
        remove(duplicates.over_cap(s.en_key, alive, order, options.max_sources_per_target), "target-cap")
    near_links: list[tuple[int, int]] = []
    if options.dedup_mode == "near":
        near_of, near_links = duplicates.near_duplicates(s.signatures, alive, order, options.near_threshold)
        duplicate_of = np.where(near_of != duplicates.NONE, near_of, duplicate_of)
        remove(near_of != duplicates.NONE, "near-duplicate")
    part = np.zeros(n, dtype=np.int8)
    largest = 1
    if options.split:
        part, largest = _split(s, candidates, near_links, options.split)
        for keys in (s.ar_key, s.en_key):
            remove(duplicates.outside_best_part(keys, alive, order, part), "split-overlap")
    return Decisions(reasons, code, part, duplicate_of, largest)


def _split(s: Scan, candidates: np.ndarray, near_links: list[tuple[int, int]],
           parts: list[tuple[str, float]]) -> tuple[np.ndarray, int]:
    """The part of each pair. Documents are linked when pairs that passed the filters share a sentence
    of LINK_MIN_WORDS words or more (the same story from two agencies, one source with two targets), and,
    with --dedup near, when they hold near-duplicate pairs; linked documents share a part
    (translate.split). A sentence found in more than LINK_MAX_COPIES pairs (wire copy repeated across
    hundreds of articles, boilerplate) does not link documents: it would join them all into one part."""
    link_arrays = []
    for keys, words in ((s.ar_key, s.ar_words), (s.en_key, s.en_words)):
        members = np.flatnonzero(candidates & (words >= split.LINK_MIN_WORDS))
        firsts, others = duplicates.shared_keys(keys, members, split.LINK_MAX_COPIES)
        link_arrays.append(np.stack([s.doc[firsts], s.doc[others]], axis=1))
    if near_links:
        pairs = np.array(near_links, dtype=np.int64)
        link_arrays.append(np.stack([s.doc[pairs[:, 0]], s.doc[pairs[:, 1]]], axis=1))
    links = np.concatenate(link_arrays)
    links = links[links[:, 0] != links[:, 1]]
    links = np.unique(links, axis=0) if len(links) else links
    doc_part, largest = split.assign(s.doc_hashes, links.tolist(), parts)
    return doc_part[s.doc], largest


# -- report ------------------------------------------------------------------------------------
def report(s: Scan, d: Decisions, options: CleanOptions, exclusions: list[Exclusion]) -> dict:
    counts = np.bincount(d.code, minlength=len(d.reasons) + 1)
    by_reason = {name: int(counts[i + 1]) for i, name in enumerate(d.reasons)}
    kept = d.code == 0
    parts = [name for name, _ in options.split] if options.split else ["all"]
    per_part = np.bincount(d.part[kept].astype(np.int64), minlength=len(parts))
    failing_any = {name: int(((s.mask & (1 << bit)) != 0).sum()) for bit, name in enumerate(FILTER_NAMES)}
    passed = int(len(s.ids) - sum(by_reason[n] for n in FILTER_NAMES) - sum(
        by_reason[f"excluded:{e.path}"] for e in exclusions))
    duplicates = by_reason["duplicate"] + by_reason["near-duplicate"]
    return {
        "pairs_in": int(len(s.ids)),
        "removed_by_filter": {name: by_reason[name] for name in FILTER_NAMES},
        "failing_filter": failing_any,
        "excluded": {str(e.path): by_reason[f"excluded:{e.path}"] for e in exclusions},
        "duplicates": by_reason["duplicate"],
        "near_duplicates": by_reason["near-duplicate"],
        "duplicate_rate": round(duplicates / passed, 6) if passed else 0.0,
        "source_cap": by_reason["source-cap"],
        "target_cap": by_reason["target-cap"],
        "split_overlap": by_reason["split-overlap"],
        "documents": len(s.doc_hashes),
        "largest_document_group": d.largest_group,
        "out": {name: int(per_part[i]) for i, name in enumerate(parts)},
        "pairs_out": int(kept.sum()),
    }


def format_report(r: dict) -> str:
    reasons = dict(FILTERS)
    lines = [f"{'pairs in':<34}{r['pairs_in']:>10}"]
    for name, count in r["removed_by_filter"].items():
        if count or r["failing_filter"][name]:
            lines.append(f"  {'removed by ' + name:<32}{count:>10}  ({reasons[name]}; "
                         f"{r['failing_filter'][name]} fail it)")
    for path, count in r["excluded"].items():
        lines.append(f"  {'excluded by ' + Path(path).name:<32}{count:>10}  (a side is in {path})")
    lines.append(f"  {'duplicates':<32}{r['duplicates']:>10}  "
                 f"(duplicate rate {100 * r['duplicate_rate']:.2f} % of the pairs that passed the filters)")
    for key, label in (("near_duplicates", "near-duplicates"), ("source_cap", "over the targets-per-source cap"),
                       ("target_cap", "over the sources-per-target cap"),
                       ("split_overlap", "short sentences in two parts")):
        if r[key]:
            lines.append(f"  {label:<32}{r[key]:>10}")
    for part, count in r["out"].items():
        lines.append(f"{'out' + ('' if part == 'all' else ' ' + part):<34}{count:>10}")
    return "\n".join(lines)


# -- pass 2: write -----------------------------------------------------------------------------
