"""Pass 1 of a training export: every pair checked against the filters and its normalised keys hashed,
into compact arrays (Scan); a large store is split between worker processes."""
from __future__ import annotations

import contextlib
import glob
import multiprocessing
import os
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import langid, split
from .. import dedup as duplicates
from ..clean import Filters
from ..export import export_rows, json_line, pair_record
from ..store import Store
from ..textkey import key_hash, normalise, pair_hash
from .options import CleanOptions


@dataclass
class Scan:
    """What pass 1 keeps of each pair (in id order), and of each document."""
    ids: np.ndarray
    doc: np.ndarray                  # document number (index into doc_hashes)
    pair_key: np.ndarray             # uint64
    ar_key: np.ndarray
    en_key: np.ndarray
    status_rank: np.ndarray
    score: np.ndarray
    mask: np.ndarray                 # filters failed (translate.clean bit mask)
    ar_words: np.ndarray
    en_words: np.ndarray
    signatures: np.ndarray | None    # MinHash signatures (--dedup near)
    doc_hashes: list[int]
    records: list[Path] = field(default_factory=list)   # JSONL records of the pairs in this order (JSONL exports)


def pair_rows(store: Store, options: CleanOptions, after_id: int = 0) -> Iterator[dict]:
    """The pairs as dicts, with who settled each (as the plain export has them)."""
    return export_rows(store, options.min_score, options.status, options.join_parts, options.include_superseded,
                       after_id)


CHECK_BATCH = 2000               # pairs checked together (the language identifier takes them as a batch)
PARALLEL_MIN_PAIRS = 200_000     # below this, starting worker processes costs more than it saves
MAX_WORKERS = 4


def scan(store: Store, options: CleanOptions, store_path: Path | None = None, records: Path | None = None) -> Scan:
    """Pass 1. Given ``store_path``, a large store's id range is split between worker processes (one a
    CPU, at most MAX_WORKERS), each reading the store through a connection of its own: the checks of
    pass 1 are most of an export's time, and pairs are checked one by one, independently. Given
    ``records`` (a temporary path), each range's JSONL records go to ``records.N``; the caller removes
    them (``remove_records``)."""
    ranges = _id_ranges(store, options) if store_path is not None else [(0, None)]
    record_paths = [_records_path(records, k) for k in range(len(ranges))] if records else [None] * len(ranges)
    if len(ranges) == 1:
        pieces = [_scan_range(store, options, *ranges[0], record_paths[0])]
    else:
        if options.clean:
            langid.load()
        with multiprocessing.get_context("fork").Pool(len(ranges)) as pool:
            pieces = pool.starmap(_scan_path_range, [(store_path, options, lo, hi, path)
                                                     for (lo, hi), path in zip(ranges, record_paths)])
    result = _merged(pieces, options.dedup_mode == "near")
    result.records = [path for path in record_paths if path is not None]
    return result


def _records_path(records: Path, k: int) -> Path:
    return records.with_name(f"{records.name}.{k}")


def remove_records(records: Path) -> None:
    """Remove the temporary record files of ``scan``."""
    for path in records.parent.glob(glob.escape(records.name) + ".*"):
        path.unlink(missing_ok=True)


def _id_ranges(store: Store, options: CleanOptions) -> list[tuple[int, int | None]]:
    """(after id, last id) of each worker's share of the pairs: one range for a small store, or when
    sentence parts are joined (a sentence's parts must not be split between workers)."""
    low, high = store.db.execute("SELECT MIN(id), MAX(id) FROM translations").fetchone()
    workers = options.workers or min(MAX_WORKERS, os.cpu_count() or 1)
    small = options.workers is None and (low is None or high - low < PARALLEL_MIN_PAIRS)
    if options.join_parts or low is None or small or workers < 2:
        return [(0, None)]
    bounds = [low - 1 + (high - low + 1) * k // workers for k in range(workers + 1)]
    return [(bounds[k], bounds[k + 1] if k + 1 < workers else None) for k in range(workers)]


def _scan_path_range(store_path: Path, options: CleanOptions, after_id: int, last_id: int | None,
                     records: Path | None) -> dict:
    with Store(store_path, create=False, readonly=True) as store:
        return _scan_range(store, options, after_id, last_id, records)


def _scan_range(store: Store, options: CleanOptions, after_id: int, last_id: int | None,
                records: Path | None = None) -> dict:
    """The pass-1 arrays of the pairs with ids in (after_id, last_id], and with ``records`` their JSONL
    records, one line each in the same order (UTF-8)."""
    with open(records, "wb") if records else contextlib.nullcontext() as record_file:
        return _scan_rows(store, options, after_id, last_id, record_file)


def _scan_rows(store: Store, options: CleanOptions, after_id: int, last_id: int | None, record_file) -> dict:
    """The pass-1 arrays, filled CHECK_BATCH pairs at a time (each step mapped over a batch: the language
    identifier takes a batch, and a map costs less than a loop of appends)."""
    checker = Filters(options.filters) if options.clean else None
    near = options.dedup_mode == "near"
    ids, doc_hashes, pair_keys, ar_keys, en_keys = array("q"), array("Q"), array("Q"), array("Q"), array("Q")
    ranks, scores, masks, ar_words, en_words = array("b"), array("d"), array("I"), array("H"), array("H")
    signatures = array("I")
    doc_hash_of: dict[int, int] = {}
    rank_of = duplicates.STATUS_RANK
    for batch in _batches(pair_rows(store, options, after_id), last_id):
        sources, targets = [r["source"] for r in batch], [r["target"] for r in batch]
        statuses, pair_scores = [r["status"] for r in batch], [r["score"] for r in batch]
        source_keys, target_keys = list(map(normalise, sources)), list(map(normalise, targets))
        for row in batch:
            if row["document_id"] not in doc_hash_of:
                doc_hash_of[row["document_id"]] = split.document_hash(row["document_sha256"])
        ids.extend([r["id"] for r in batch])
        doc_hashes.extend([doc_hash_of[r["document_id"]] for r in batch])
        pair_keys.extend(map(pair_hash, source_keys, target_keys))
        ar_keys.extend(map(key_hash, source_keys))
        en_keys.extend(map(key_hash, target_keys))
        ranks.extend([rank_of.get(status, 0) for status in statuses])
        scores.extend([NAN if score is None else score for score in pair_scores])
        if checker:
            masks.extend(checker.check_many(list(zip(sources, targets, statuses, pair_scores,
                                                     [r["label"] for r in batch], source_keys, target_keys))))
        else:
            masks.extend([0] * len(batch))
        ar_words.extend(map(_words, source_keys))
        en_words.extend(map(_words, target_keys))
        if near:
            for source_key, target_key in zip(source_keys, target_keys):
                signatures.extend(duplicates.signature(source_key, target_key))
        if record_file:
            record_file.write("".join(map(json_line, map(pair_record, batch))).encode())
    as_np = lambda a, t: np.frombuffer(a, dtype=t) if len(a) else np.zeros(0, dtype=t)  # noqa: E731
    return {"ids": as_np(ids, np.int64), "doc_hash": as_np(doc_hashes, np.uint64),
            "pair_key": as_np(pair_keys, np.uint64), "ar_key": as_np(ar_keys, np.uint64),
            "en_key": as_np(en_keys, np.uint64), "status_rank": as_np(ranks, np.int8),
            "score": as_np(scores, np.float64), "mask": as_np(masks, np.uint32),
            "ar_words": as_np(ar_words, np.uint16), "en_words": as_np(en_words, np.uint16),
            "signatures": as_np(signatures, np.uint32).reshape(-1, duplicates.NUM_PERM) if near else None}


NAN = float("nan")


def _words(key: str) -> int:
    """Words of a normalised key (at most 65535: the array's type)."""
    return min(key.count(" ") + 1, 65535) if key else 0


def _batches(rows: Iterator[dict], last_id: int | None) -> Iterator[list[dict]]:
    """The rows in lists of CHECK_BATCH, up to id ``last_id``."""
    batch: list[dict] = []
    for row in rows:
        if last_id is not None and row["id"] > last_id:
            break
        batch.append(row)
        if len(batch) >= CHECK_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _merged(pieces: list[dict], near: bool) -> Scan:
    """One Scan from the workers' pieces (in id order); documents numbered by their identity hash."""
    joined = {name: np.concatenate([p[name] for p in pieces]) for name in pieces[0] if name != "signatures"}
    doc_hashes, doc = np.unique(joined.pop("doc_hash"), return_inverse=True)
    signatures = np.concatenate([p["signatures"] for p in pieces]) if near else None
    return Scan(doc=doc.astype(np.int64), signatures=signatures, doc_hashes=[int(h) for h in doc_hashes], **joined)


# -- step 2: decide ----------------------------------------------------------------------------
