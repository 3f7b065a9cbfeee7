"""What a training export is asked for (CleanOptions) and where it writes (Outputs)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .. import dedup as duplicates
from ..clean import FilterConfig

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
