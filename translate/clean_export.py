"""Training-ready exports: filters with reasons, deduplication, test-set decontamination, leak-free splits,
Moses and Parquet output, a report and a manifest.

Two passes over the store, so memory is bounded by a few compact arrays per pair (key hashes, rank,
filter mask, document), never by the pairs themselves:
1. ``scan``: every pair is checked against the filters (translate.clean) and its normalised keys are
   hashed (translate.textkey);
2. ``decide``: exclusion files, duplicates, caps, near-duplicates and the split are decided on the
   arrays (translate.exclude, translate.dedup, translate.split);
3. ``write``: each pair goes to its part's file or to the rejected file. A JSONL export writes in pass 1
   each pair's JSONL record to a temporary file (in the worker processes, beside the checks), and pass 2
   copies the lines, adding the split or the rejection reasons: encoding a pair costs as much as
   checking it, and the copy writes the very text that was checked. The other formats read the store again.
All files are written under temporary names and renamed at the end; nothing is written with --dry-run.
"""
from __future__ import annotations

import contextlib
import glob
import json
import multiprocessing
import os
import queue
import sys
import threading
from array import array
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, TextIO

import numpy as np

from . import __version__, langid, split
from . import dedup as duplicates
from .checksums import file_sha256
from .clean import FILTER_NAMES, FILTERS, FilterConfig, Filters, names
from .exclude import Exclusion, read_exclusion
from .export import ParquetWriter, export_rows, json_line, pair_record, write_moses_pair, write_tmx, write_tsv
from .store import Store
from .textkey import NORMALISATION, key_hash, normalise, pair_hash

FORMATS = ("tmx", "jsonl", "tsv", "moses", "parquet")
DEDUP_MODES = ("exact", "near", "none")
EXTENSIONS = {"tmx": ".tmx", "jsonl": ".jsonl", "tsv": ".tsv", "parquet": ".parquet"}
DEDUP_REASONS = ["duplicate", "near-duplicate", "source-cap", "target-cap", "split-overlap"]


class CleanExportError(Exception):
    """A problem with the options, the inputs or the outputs; the message is one line."""


@dataclass
class CleanOptions:
    fmt: str
    output: Path
    clean: bool = False
    filters: FilterConfig = field(default_factory=FilterConfig)
    dedup: str | None = None                  # None: exact with --clean, none without
    near_threshold: float = duplicates.DEFAULT_NEAR_THRESHOLD
    max_targets_per_source: int | None = None
    max_sources_per_target: int | None = None
    split: list[tuple[str, float]] | None = None
    exclude: list[Path] = field(default_factory=list)
    rejected: Path | None = None
    dry_run: bool = False
    force: bool = False
    min_score: float | None = None
    status: str | None = None
    join_parts: bool = False
    include_superseded: bool = False
    workers: int | None = None                # processes of pass 1 (None: one a CPU for a large store)

    @property
    def dedup_mode(self) -> str:
        return self.dedup or ("exact" if self.clean else "none")


# -- output names ------------------------------------------------------------------------------
@dataclass
class Outputs:
    files: dict[str | None, list[Path]]       # part (None without --split) -> its files
    manifest: Path
    rejected: Path | None

    def all(self) -> list[Path]:
        paths = [p for files in self.files.values() for p in files] + [self.manifest]
        return paths + ([self.rejected] if self.rejected else [])


def output_paths(options: CleanOptions) -> Outputs:
    """Moses, and every format with --split except Parquet, take ``-o PREFIX`` and write
    ``PREFIX[.PART].ar/.en/.ids`` or ``PREFIX[.PART].jsonl|tmx|tsv`` (a PREFIX that ends in the format's
    extension loses it); the other exports write ``-o PATH``. The manifest is PREFIX.manifest.json."""
    out, fmt = options.output, options.fmt
    parts = [name for name, _ in options.split] if options.split else [None]
    if fmt == "parquet" or (fmt != "moses" and not options.split):
        return Outputs({None: [out]}, _sibling(out, ".manifest.json"), options.rejected)
    prefix = out.name
    if fmt in EXTENSIONS and prefix.lower().endswith(EXTENSIONS[fmt]) and len(prefix) > len(EXTENSIONS[fmt]):
        prefix = prefix[:-len(EXTENSIONS[fmt])]
    suffixes = [".ar", ".en", ".ids"] if fmt == "moses" else [EXTENSIONS[fmt]]
    files = {part: [out.with_name(prefix + (f".{part}" if part else "") + s) for s in suffixes] for part in parts}
    return Outputs(files, out.with_name(prefix + ".manifest.json"), options.rejected)


def _sibling(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


# -- pass 1: scan ------------------------------------------------------------------------------
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
class AtomicFiles:
    """Files written under temporary names in their folder and renamed together by ``commit``."""

    def __init__(self):
        self.temps: list[tuple[Path, Path]] = []
        self.handles: list = []

    def temp(self, path: Path) -> Path:
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        self.temps.append((tmp, path))
        return tmp

    def open(self, path: Path) -> TextIO:
        fh = open(self.temp(path), "w", encoding="utf-8", newline="\n")
        self.handles.append(fh)
        return fh

    def open_binary(self, path: Path) -> BinaryIO:
        fh = open(self.temp(path), "wb")
        self.handles.append(fh)
        return fh

    def commit(self) -> None:
        for fh in self.handles:
            fh.close()
        for tmp, path in self.temps:
            os.replace(tmp, path)
        self.temps = []

    def abort(self) -> None:
        for fh in self.handles:
            fh.close()
        for tmp, _ in self.temps:
            tmp.unlink(missing_ok=True)


class ThreadedWriter:
    """Feeds one part's pairs to a writer that takes an iterable (export.write_tmx, write_tsv) while the
    pass goes through the pairs of every part: the writer runs in a thread, fed batches through a queue."""
    BATCH = 1000

    def __init__(self, writer: Callable, fh: TextIO):
        self.queue: queue.Queue = queue.Queue(maxsize=8)
        self.batch: list = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(writer, fh), daemon=True)
        self.thread.start()

    def _rows(self) -> Iterator:
        while (batch := self.queue.get()) is not None:
            yield from batch

    def _run(self, writer: Callable, fh: TextIO) -> None:
        try:
            writer(self._rows(), fh)
        except BaseException as exc:       # noqa: BLE001 - handed to the main thread by close()
            self.error = exc
            while self.queue.get() is not None:       # let the pass finish; close() raises
                pass

    def write(self, row) -> None:
        self.batch.append(dict(row))
        if len(self.batch) >= self.BATCH:
            self.queue.put(self.batch)
            self.batch = []

    def close(self) -> None:
        if self.batch:
            self.queue.put(self.batch)
        self.queue.put(None)
        self.thread.join()
        if self.error:
            raise self.error


class PartSinks:
    """The writers of every part of an export in a format other than JSONL (see copy_records)."""

    def __init__(self, options: CleanOptions, outputs: Outputs, files: AtomicFiles):
        self.fmt = options.fmt
        self.parts = [name for name, _ in options.split] if options.split else [None]
        self.sinks: list = []
        self.parquet = ParquetWriter(files.temp(outputs.files[None][0])) if self.fmt == "parquet" else None
        if self.parquet:
            return
        for part in self.parts:
            handles = [files.open(p) for p in outputs.files[part]]
            if self.fmt == "moses":
                self.sinks.append(handles)
            else:
                self.sinks.append(ThreadedWriter(write_tmx if self.fmt == "tmx" else write_tsv, handles[0]))

    def write(self, row, part: int) -> None:
        name = self.parts[part]
        if self.parquet:
            self.parquet.write(row, name)
        elif self.fmt == "moses":
            write_moses_pair(row, *self.sinks[part])
        else:
            self.sinks[part].write(row)

    def close(self) -> None:
        if self.parquet:
            self.parquet.close()
        for sink in self.sinks:
            if isinstance(sink, ThreadedWriter):
                sink.close()


def copy_records(s: Scan, d: Decisions, options: CleanOptions, outputs: Outputs, files: AtomicFiles) -> None:
    """Pass 2 of a JSONL export: each record of pass 1 to its part's file or, with its reasons, to the
    rejected file. A record line ends in ``}\n``: the fields added go before it, so every line is what
    ``json_line`` makes of the record with them."""
    parts = [name for name, _ in options.split] if options.split else [None]
    sinks = [files.open_binary(outputs.files[part][0]) for part in parts]
    endings = [(f', "split": {json_line(part)[:-1]}}}\n' if part else "}\n").encode() for part in parts]
    rejected = files.open_binary(outputs.rejected) if outputs.rejected else None
    codes, part_of = d.code.tolist(), d.part.tolist()
    writes = [sink.write for sink in sinks]
    position = 0
    for path in s.records:
        with open(path, "rb", buffering=1 << 20) as records:
            for line in records:
                code = codes[position]
                if code == 0:
                    part = part_of[position]
                    if parts[part]:
                        writes[part](line[:-2])
                        writes[part](endings[part])
                    else:
                        writes[part](line)
                elif rejected:
                    rejected.write(line[:-2])
                    rejected.write(_rejection(s, d, position, code))
                position += 1
    if position != len(codes):
        raise CleanExportError(f"{s.records[-1] if s.records else options.output}: {position} records for "
                               f"{len(codes)} pairs (a temporary file was changed during the export)")


def rejection_fields(s: Scan, d: Decisions, position: int, code: int) -> dict:
    """The fields a rejected pair's record gets: the step that rejected it, every filter it fails (or that
    step), and the pair it duplicates."""
    reason = d.reasons[code - 1]
    fields = {"rejected_by": reason, "reasons": names(int(s.mask[position])) or [reason]}
    duplicate = int(d.duplicate_of[position])
    if duplicate != duplicates.NONE:
        fields["duplicate_of"] = int(s.ids[duplicate])
    return fields


def _rejection(s: Scan, d: Decisions, position: int, code: int) -> bytes:
    """rejection_fields as the end of a record's JSON line (what json_line writes of the record with them)."""
    fields = rejection_fields(s, d, position, code)
    return ("".join(f", {json_line(name)[:-1]}: {json_line(value)[:-1]}" for name, value in fields.items())
            + "}\n").encode()


def write(store: Store, s: Scan, d: Decisions, options: CleanOptions, outputs: Outputs,
          files: AtomicFiles) -> int:
    """Pass 2 of the other formats: every pair to its part or to the rejected file. Returns pairs added
    to the store since pass 1 (left out: they were not checked)."""
    sinks = PartSinks(options, outputs, files)
    rejected = files.open(outputs.rejected) if outputs.rejected else None
    ids, codes, parts = s.ids.tolist(), d.code.tolist(), d.part.tolist()
    position, unseen = 0, 0
    for row in pair_rows(store, options):
        row_id = row["id"]
        while position < len(ids) and ids[position] < row_id:
            position += 1
        if position == len(ids) or ids[position] != row_id:
            unseen += 1
            continue
        code = codes[position]
        if code == 0:
            sinks.write(row, parts[position])
        elif rejected:
            rejected.write(json_line({**pair_record(row), **rejection_fields(s, d, position, code)}))
    sinks.close()
    return unseen


# -- the export --------------------------------------------------------------------------------
def run(store: Store, store_path: Path, options: CleanOptions) -> dict:
    """Check the options and outputs, scan, decide, write; return the report (also in the manifest)."""
    outputs = output_paths(options)
    if not options.dry_run and not options.force:
        existing = [p for p in outputs.all() if p.exists()]
        if existing:
            raise CleanExportError(f"{existing[0]}: already exists (--force replaces it)")
    exclusions = [read_exclusion(path) for path in options.exclude]
    records = None
    if options.fmt == "jsonl" and not options.dry_run:
        first = outputs.files[next(iter(outputs.files))][0]
        records = first.with_name(f".{first.name}.records.tmp{os.getpid()}")
    files = AtomicFiles()
    try:
        s = scan(store, options, store_path, records)
        d = decide(s, exclusions, options)
        result = report(s, d, options, exclusions)
        if options.dry_run:
            return result
        # the store's hash for the manifest is read in a thread while pass 2 runs (hashlib and file
        # reads let other threads run; the worker processes of pass 1 are forked before it starts)
        with ThreadPoolExecutor(1) as hasher:
            store_sha256 = hasher.submit(file_sha256, store_path)
            if records:
                copy_records(s, d, options, outputs, files)
            else:
                unseen = write(store, s, d, options, outputs, files)
                if unseen:
                    result["added_during_export"] = unseen
            record = manifest_record(store_path, options, outputs, exclusions, result, store_sha256.result())
        manifest = files.open(outputs.manifest)
        manifest.write(json.dumps(record, ensure_ascii=False, indent=2) + "\n")
        files.commit()
    except OSError as exc:
        raise CleanExportError(f"{exc.filename or options.output}: cannot write ({exc.strerror})") from None
    finally:
        files.abort()
        if records:
            remove_records(records)
    return result


def preview(store: Store) -> dict:
    """The report of a default `translate export --clean` of this store (nothing written): the review
    stats page shows it."""
    options = CleanOptions(fmt="jsonl", output=Path("preview"), clean=True)
    s = scan(store, options)
    return report(s, decide(s, [], options), options, [])


def manifest_record(store_path: Path, options: CleanOptions, outputs: Outputs, exclusions: list[Exclusion],
                    result: dict, store_sha256: str | None = None) -> dict:
    return {
        "tool": "translate", "version": __version__, "python": sys.version.split()[0],
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "store": {"path": str(store_path), "sha256": store_sha256 or file_sha256(store_path),
                  "note": "sha256 of the store file as read (a WAL file beside it is not included)"},
        "format": options.fmt,
        "outputs": {part or "all": [str(p) for p in paths] for part, paths in outputs.files.items()},
        "rejected": str(outputs.rejected) if outputs.rejected else None,
        "selection": {"min_score": options.min_score, "status": options.status, "join_parts": options.join_parts,
                      "include_superseded": options.include_superseded},
        "clean": options.clean,
        "filters": options.filters.as_json() if options.clean else None,
        "normalisation": NORMALISATION,
        "dedup": {"mode": options.dedup_mode, "key": "normalised Arabic side + normalised English side",
                  "keep": "approved/edited before pending, then higher score, then lower id",
                  "near_threshold": options.near_threshold if options.dedup_mode == "near" else None,
                  "minhash": {"library": "rensa", "num_perm": duplicates.NUM_PERM, "bands": duplicates.BANDS,
                              "shingle_chars": duplicates.SHINGLE} if options.dedup_mode == "near" else None,
                  "max_targets_per_source": options.max_targets_per_source,
                  "max_sources_per_target": options.max_sources_per_target},
        "split": {"parts": dict(options.split), "unit": "document (sha256 of its text), xxh64",
                  "link_min_words": split.LINK_MIN_WORDS} if options.split else None,
        "exclude": [{"path": str(e.path), "sha256": e.sha256, "sentences": e.sentences} for e in exclusions],
        "counts": result,
    }
