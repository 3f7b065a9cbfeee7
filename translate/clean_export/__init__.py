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

One module a part: ``options`` (what is asked, where it goes), ``scan`` (pass 1), ``decide`` (the decisions
and the report), ``write`` (pass 2); this one runs them and writes the manifest.
"""
from __future__ import annotations

import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from .. import __version__, split
from .. import dedup as duplicates
from ..checksums import file_sha256
from ..exclude import Exclusion, read_exclusion
from ..store import Store
from ..textkey import NORMALISATION
from .decide import Decisions, decide, format_report, report
from .options import (DEDUP_MODES, DEDUP_REASONS, EXTENSIONS, FORMATS, CleanExportError, CleanOptions, Outputs,
                      output_paths)
from .scan import Scan, remove_records, scan
from .write import AtomicFiles, copy_records, write

__all__ = ["DEDUP_MODES", "DEDUP_REASONS", "EXTENSIONS", "FORMATS", "CleanExportError", "CleanOptions", "Decisions",
           "Outputs", "Scan", "decide", "format_report", "manifest_record", "output_paths", "preview", "report", "run",
           "scan", "write"]


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
