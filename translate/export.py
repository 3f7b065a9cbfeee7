"""Export stored pairs as TMX 1.4, JSONL or TSV, streaming from the store (never the whole corpus in memory).

The target text of a pair is its newest reviewed version (the last edit) or the machine output.
Files are written to a temporary name and renamed at the end, so a failed export never leaves half a
file where a good one was.
"""
from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TextIO
from xml.sax.saxutils import escape, quoteattr

from . import __version__
from .store import Store

FORMATS = ("tmx", "jsonl", "tsv")

# characters XML 1.0 forbids (C0 controls other than tab/newline/return, lone surrogates, U+FFFE/FFFF)
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class ExportError(Exception):
    pass


def export(store: Store, out: Path, fmt: str, min_score: float | None = None, status: str | None = None,
           join_parts: bool = False, include_superseded: bool = False) -> int:
    """Write the pairs to ``out``; return how many were written.

    With ``join_parts`` the parts of a sentence that was split for translation (``--max-words``) are
    written as one pair: the whole sentence, the parts' translations joined, the lowest part score.
    Only the current segmentation of each document is written (no source text twice when a document
    was run again with another --max-words); ``include_superseded`` adds the pairs of the replaced one.
    The store may be opened read-only: an export never writes to it.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    writer = {"tmx": write_tmx, "jsonl": write_jsonl, "tsv": write_tsv}[fmt]
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            rows = store.iter_pairs(min_score=min_score, status=status, include_superseded=include_superseded)
            if join_parts:
                rows = join_sentence_parts(rows, store)
            count = writer(rows, fh)
        os.replace(tmp, out)
    except OSError as exc:
        raise ExportError(f"{out}: cannot write ({exc.strerror})") from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return count


def join_sentence_parts(rows: Iterable[sqlite3.Row], store: Store) -> Iterator[dict]:
    """Merge consecutive machine-translated parts (0, 1, 2...) of one sentence into a single pair."""
    group: list = []

    def merged() -> dict:
        if len(group) == 1:
            return dict(group[0])
        first, last = dict(group[0]), group[-1]
        first.update(
            end=last["end"], part=0,
            source=store.document_slice(first["document_id"], first["start"], last["end"]),
            target=" ".join(r["target"] for r in group),
            score=min(r["score"] for r in group),
            label=min((r["label"] for r in group), key=LABEL_ORDER.index),
            status=first["status"] if all(r["status"] == first["status"] for r in group) else "pending",
            signals=json.dumps({"parts": [json.loads(r["signals"]) for r in group]}, ensure_ascii=False),
            id=first["id"])
        return first

    for row in rows:
        continues = (group and row["origin"] == "mt" and row["part"] == group[-1]["part"] + 1
                     and row["document_id"] == group[-1]["document_id"]
                     and row["sentence"] == group[-1]["sentence"] and row["model"] == group[-1]["model"])
        if group and not continues:
            yield merged()
            group = []
        group.append(row)
    if group:
        yield merged()


LABEL_ORDER = ["bad", "check", "good"]


def pair_record(row: sqlite3.Row | dict) -> dict:
    return {
        "id": row["id"],
        "document": row["document"],
        "document_sha256": row["document_sha256"],
        "start": row["start"],
        "end": row["end"],
        "sentence": row["sentence"],
        "part": row["part"],
        "source": row["source"],
        "target": row["target"],
        "origin": row["origin"],
        "bridge": row["bridge"],
        "model": row["model"],
        "model_sha256": row["model_sha256"],
        "status": row["status"],
        "reject_reason": row["reject_reason"],
        "reject_comment": row["reject_comment"],
        "score": row["score"],
        "label": row["label"],
        "signals": json.loads(row["signals"]) if row["signals"] else {},
        "created": row["created_at"],
    }


def write_jsonl(rows: Iterable[sqlite3.Row], fh: TextIO) -> int:
    count = 0
    for row in rows:
        fh.write(json.dumps(pair_record(row), ensure_ascii=False) + "\n")
        count += 1
    return count


def _tsv_field(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def write_tsv(rows: Iterable[sqlite3.Row], fh: TextIO) -> int:
    fh.write("id\tdocument\tstart\tend\tsource\ttarget\tmodel\tstatus\tscore\n")
    count = 0
    for row in rows:
        fields = [str(row["id"]), row["document"], str(row["start"]), str(row["end"]), row["source"],
                  row["target"], row["model"] or "", row["status"], f"{row['score']:.4f}"]
        fh.write("\t".join(_tsv_field(f) for f in fields) + "\n")
        count += 1
    return count


def _xml_text(text: str) -> str:
    return escape(_XML_INVALID.sub("\ufffd", text))


def _tmx_date(iso: str) -> str:
    """TMX dates are YYYYMMDDThhmmssZ in UTC."""
    try:
        return datetime.fromisoformat(iso).strftime("%Y%m%dT%H%M%SZ")
    except ValueError:
        return datetime.utcnow().strftime("%Y%m%dT%H%M%SZ")


def write_tmx(rows: Iterable[sqlite3.Row], fh: TextIO) -> int:
    fh.write('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE tmx SYSTEM "tmx14.dtd">\n<tmx version="1.4">\n')
    fh.write(f'  <header creationtool="translate" creationtoolversion="{__version__}" datatype="plaintext"'
             f' segtype="sentence" adminlang="en" srclang="ar" o-tmf="translate-sqlite"/>\n  <body>\n')
    count = 0
    for row in rows:
        date = _tmx_date(row["created_at"])
        props = [("x-score", f"{row['score']:.4f}"), ("x-label", row["label"]), ("x-status", row["status"]),
                 ("x-document", row["document"]), ("x-start", str(row["start"])), ("x-end", str(row["end"])),
                 ("x-origin", row["origin"]), ("x-model", row["model"] or "")]
        if row["reject_reason"]:
            props.append(("x-reject-reason", row["reject_reason"]))
        if row["reject_comment"]:
            props.append(("x-reject-comment", row["reject_comment"]))
        fh.write(f'    <tu tuid="{row["id"]}" creationdate="{date}">\n')
        for ptype, value in props:
            fh.write(f"      <prop type={quoteattr(ptype)}>{_xml_text(value)}</prop>\n")
        fh.write(f'      <tuv xml:lang="ar"><seg>{_xml_text(row["source"])}</seg></tuv>\n')
        fh.write(f'      <tuv xml:lang="en"><seg>{_xml_text(row["target"])}</seg></tuv>\n    </tu>\n')
        count += 1
    fh.write("  </body>\n</tmx>\n")
    return count


# -- Moses plain text and Parquet (training exports: translate.clean_export) --------------------
_LINE_BREAKS = re.compile("\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")


def moses_line(text: str) -> str:
    """One sentence on one line: line breaks inside it become spaces (the files stay line-aligned)."""
    return _LINE_BREAKS.sub(" ", text) + "\n"


def write_moses_pair(row: sqlite3.Row | dict, ar: TextIO, en: TextIO, ids: TextIO) -> None:
    ar.write(moses_line(row["source"]))
    en.write(moses_line(row["target"]))
    ids.write(f"{row['id']}\n")


PARQUET_COLUMNS = [("id", "int64"), ("document", "string"), ("document_sha256", "string"), ("start", "int64"),
                   ("end", "int64"), ("sentence", "int64"), ("part", "int64"), ("source", "string"),
                   ("target", "string"), ("origin", "string"), ("bridge", "string"), ("model", "string"),
                   ("model_sha256", "string"), ("status", "string"), ("reject_reason", "string"),
                   ("reject_comment", "string"), ("score", "float64"), ("label", "string"),
                   ("signals", "string"), ("created", "string"), ("split", "string")]


class ParquetWriter:
    """The JSONL columns (signals as a JSON string) and the split, written in row groups as pairs come."""

    def __init__(self, path: Path, batch: int = 20000):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._pa = pa
        self.schema = pa.schema([(name, getattr(pa, kind)()) for name, kind in PARQUET_COLUMNS])
        self.writer = pq.ParquetWriter(str(path), self.schema, compression="zstd")
        self.batch = batch
        self.columns: dict[str, list] = {name: [] for name, _ in PARQUET_COLUMNS}
        self.rows = 0

    def write(self, row: sqlite3.Row | dict, split: str | None) -> None:
        record = pair_record(row)
        record["signals"] = json.dumps(record["signals"], ensure_ascii=False)
        record["split"] = split
        for name, values in self.columns.items():
            values.append(record[name])
        self.rows += 1
        if len(self.columns["id"]) >= self.batch:
            self._flush()

    def _flush(self) -> None:
        if self.columns["id"]:
            self.writer.write_table(self._pa.table(self.columns, schema=self.schema))
            self.columns = {name: [] for name in self.columns}

    def close(self) -> None:
        self._flush()
        self.writer.close()
