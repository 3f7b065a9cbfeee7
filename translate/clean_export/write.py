"""Pass 2 of a training export: every pair to its part's file or to the rejected file, under temporary
names renamed at the end (AtomicFiles)."""
from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, TextIO

from .. import dedup as duplicates
from ..clean import names
from ..export import ParquetWriter, json_line, pair_record, write_moses_pair, write_tmx, write_tsv
from ..store import Store
from .decide import Decisions
from .options import CleanExportError, CleanOptions, Outputs
from .scan import Scan, pair_rows


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
