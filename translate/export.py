"""Export stored pairs as TMX 1.4, JSONL or TSV, streaming from the store (never the whole corpus in memory).

The target text of a pair is its newest reviewed version (the last edit) or the machine output.
Files are written to a temporary name and renamed at the end, so a failed export never leaves half a
file where a good one was; missing folders of the file's path are created (as ``run --db`` does).
``-`` writes to standard output.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TextIO
from xml.sax.saxutils import escape, quoteattr

from . import __version__
from .store import Store

FORMATS = ("tmx", "jsonl", "tsv", "links", "xces")     # links, xces: the alignments (translate.links_io)

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
    writer = {"tmx": write_tmx, "jsonl": write_jsonl, "tsv": write_tsv}.get(fmt)

    def pairs():
        return export_rows(store, min_score, status, join_parts, include_superseded)

    if writer is None:              # the links themselves, stand-off
        from .links_io import write_links, write_xces

        links_writer = write_links if fmt == "links" else write_xces

        def write(fh: TextIO) -> int:
            return links_writer(store, fh)
    else:
        def write(fh: TextIO) -> int:
            return writer(pairs(), fh)

    if str(out) == STDOUT:
        return _write_stdout(write)
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            count = write(fh)
        os.replace(tmp, out)
    except OSError as exc:
        raise ExportError(f"{out}: cannot write ({exc.strerror})") from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return count


STDOUT = "-"       # ``-o -``: write to standard output


def _write_stdout(write) -> int:
    """Write the export to standard output as UTF-8 (whatever the terminal's locale says)."""
    sys.stdout.flush()
    stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n")
    try:
        count = write(stream)
        stream.flush()
    except BrokenPipeError:
        # the reader stopped (`| head`): no error; stdout is pointed at nothing so exit does not complain
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise ExportError("standard output: closed by the reader before the export ended") from None
    finally:
        stream.detach()
    return count


def export_rows(store: Store, min_score: float | None = None, status: str | None = None, join_parts: bool = False,
                include_superseded: bool = False, after_id: int = 0) -> Iterator[dict]:
    """The pairs an export writes, as dicts in id order (from the first id above ``after_id``): the store's
    pairs with who settled each (team review), the parts of a split sentence joined with ``join_parts``.
    Every export (plain, training, the API's ``Corpus.pairs``) reads its pairs here."""
    rows = store.iter_pairs(min_score=min_score, status=status, include_superseded=include_superseded,
                            after_id=after_id)
    rows = store.with_review_marks(rows)
    return join_sentence_parts(rows, store) if join_parts else rows


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
            mt_text=" ".join(r["mt_text"] for r in group),
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


def pair_record(row: dict) -> dict:
    """The JSONL record of a pair (a row of ``export_rows``)."""
    signals = row["signals"]
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
        "reviewer": row["reviewer"],
        "reviewed_at": row["reviewed_at"],
        "mt_text": row["mt_text"],
        "reject_reason": row["reject_reason"],
        "reject_comment": row["reject_comment"],
        "score": row["score"],
        "label": row["label"],
        # most stored pairs with no signals hold "{}": no need to parse it
        "signals": {} if not signals or signals == "{}" else json.loads(signals),
        "link_status": row["link_status"],      # auto / confirmed for pairs an alignment link makes
        "created": row["created_at"],
        "adjudicated_by": row["adjudicated_by"],
    }


# one encoder for every line (json.dumps with an option builds a new one each call); its output is
# json.dumps(record, ensure_ascii=False)'s. Records are trees of fresh dicts: no cycle to check for.
_JSON_LINE = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode


def json_line(record: dict) -> str:
    return _JSON_LINE(record) + "\n"


def write_jsonl(rows: Iterable[dict], fh: TextIO) -> int:
    count = 0
    for record in map(pair_record, rows):
        fh.write(json_line(record))
        count += 1
    return count


# Our TSV: one pair a line (tab, newline, return and backslash inside a field are written \\t \\n \\r \\\\), and
# the standard csv module's quoting on top (a field holding a double quote is quoted, its quotes doubled),
# so that csv readers (Python's csv, pandas, spreadsheets) and our import read the same text back.
TSV_COLUMNS = ["id", "document", "start", "end", "source", "target", "model", "status", "score", "reviewer",
               "reviewed_at", "reject_reason", "reject_comment", "mt_text", "origin"]


def _tsv_field(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def write_tsv(rows: Iterable[sqlite3.Row], fh: TextIO) -> int:
    writer = csv.writer(fh, delimiter="\t", quotechar='"', quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    writer.writerow(TSV_COLUMNS)
    count = 0
    for row in rows:
        fields = [str(row["id"]), row["document"], str(row["start"]), str(row["end"]), row["source"],
                  row["target"], row["model"] or "", row["status"], f"{row['score']:.4f}", row["reviewer"] or "",
                  row["reviewed_at"] or "", row["reject_reason"] or "", row["reject_comment"] or "",
                  row["mt_text"] if row["mt_text"] != row["target"] else "", row["origin"]]
        writer.writerow([_tsv_field(f) for f in fields])
        count += 1
    return count


def _xml_text(text: str) -> str:
    # a vertical tab or form feed inside a sentence separates words (the segmenter reads it as a space);
    # XML 1.0 has no way to write it, so it is written as the space it stands for
    return escape(_XML_INVALID.sub("\ufffd", text.replace("\v", " ").replace("\f", " ")))


def _tmx_date(iso: str) -> str:
    """TMX dates are YYYYMMDDThhmmssZ in UTC."""
    try:
        return datetime.fromisoformat(iso).strftime("%Y%m%dT%H%M%SZ")
    except ValueError:
        return datetime.utcnow().strftime("%Y%m%dT%H%M%SZ")


# our own props on a unit; an import of our TMX reads them back as the pair's review (not as foreign props)
OUR_TMX_PROPS = ("x-score", "x-label", "x-status", "x-document", "x-start", "x-end", "x-origin", "x-model",
                 "x-reject-reason", "x-reject-comment", "x-reviewer", "x-mt-text", "x-translate-id",
                 "x-adjudicated-by", "x-link-status")
# TU attributes a foreign TMX may carry, written back as they came (TMX 1.4)
TU_ATTRIBUTES = ("tuid", "o-encoding", "datatype", "usagecount", "lastusagedate", "creationtool",
                 "creationtoolversion", "creationdate", "creationid", "changedate", "segtype", "changeid", "o-tmf",
                 "srclang")


def _attributes(attrs: dict) -> str:
    return "".join(f" {name}={quoteattr(_XML_INVALID.sub(chr(0xfffd), str(value)))}" for name, value in attrs.items())


def _props_and_notes(props: list, notes: list, indent: str) -> str:
    lines = [f"{indent}<note{_attributes(attrs)}>{_xml_text(text)}</note>\n" for text, attrs in notes]
    lines += [f"{indent}<prop{_attributes(attrs)}>{_xml_text(text)}</prop>\n" for text, attrs in props]
    return "".join(lines)


def write_tmx(rows: Iterable[sqlite3.Row], fh: TextIO) -> int:
    """TMX 1.4. A pair imported from another tool's TMX gets back what its unit carried there: the unit's
    and each variant's attributes, props and notes (and the header's props and notes, from the first
    pair, as one file has one header); our own review goes into x- props and ``changedate``."""
    rows = iter(rows)
    first = next(rows, None)
    header = _imported_tmx(first).get("header", {}) if first is not None else {}
    fh.write('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE tmx SYSTEM "tmx14.dtd">\n<tmx version="1.4">\n')
    fh.write(f'  <header creationtool="translate" creationtoolversion="{__version__}" datatype="plaintext"'
             f' segtype="sentence" adminlang="en" srclang="ar" o-tmf="translate-sqlite"')
    header_body = _props_and_notes(header.get("props", []), header.get("notes", []), "    ")
    fh.write(f">\n{header_body}  </header>\n  <body>\n" if header_body else "/>\n  <body>\n")
    count = 0
    for row in ([first] if first is not None else []):
        _write_unit(row, fh)
        count += 1
    for row in rows:
        _write_unit(row, fh)
        count += 1
    fh.write("  </body>\n</tmx>\n")
    return count


def _imported_tmx(row) -> dict:
    """What a pair imported from a TMX carried there (signals 'tmx'), else {}."""
    if not row["signals"]:
        return {}
    return json.loads(row["signals"]).get("tmx") or {}


def _write_unit(row, fh: TextIO) -> None:
    imported = _imported_tmx(row)
    attrs = {k: v for k, v in (imported.get("attrs") or {}).items() if k in TU_ATTRIBUTES}
    ours = [("x-score", f"{row['score']:.4f}"), ("x-label", row["label"]), ("x-status", row["status"]),
            ("x-document", row["document"]), ("x-start", str(row["start"])), ("x-end", str(row["end"])),
            ("x-origin", row["origin"]), ("x-model", row["model"] or "")]
    if row["link_status"]:
        ours.append(("x-link-status", row["link_status"]))
    if "tuid" in attrs:
        ours.append(("x-translate-id", str(row["id"])))
    attrs.setdefault("tuid", str(row["id"]))
    attrs.setdefault("creationdate", _tmx_date(row["created_at"]))
    if row["reviewer"]:
        ours.append(("x-reviewer", row["reviewer"]))
        attrs["changedate"] = _tmx_date(row["reviewed_at"])
    if row["mt_text"] != row["target"]:
        ours.append(("x-mt-text", row["mt_text"]))
    if row["reject_reason"]:
        ours.append(("x-reject-reason", row["reject_reason"]))
    if row["reject_comment"]:
        ours.append(("x-reject-comment", row["reject_comment"]))
    if "adjudicated_by" in row.keys() and row["adjudicated_by"]:
        ours.append(("x-adjudicated-by", row["adjudicated_by"]))
    props = [(text, attrs) for text, attrs in imported.get("props", [])]
    props += [(value, {"type": ptype}) for ptype, value in ours]
    fh.write(f"    <tu{_attributes(attrs)}>\n")
    fh.write(_props_and_notes(props, imported.get("notes", []), "      "))
    variants = imported.get("variants") or {}
    for lang, text in (("ar", row["source"]), ("en", row["target"])):
        variant = variants.get(lang) or {}
        tuv_attrs = {"xml:lang": variant.get("lang") or lang, **(variant.get("attrs") or {})}
        if lang == "en" and row["reviewer"]:
            tuv_attrs["changeid"] = row["reviewer"]    # TMX 1.4's own attribute: who last changed the English
        inner = _props_and_notes(variant.get("props", []), variant.get("notes", []), "        ")
        opening = f"      <tuv{_attributes(tuv_attrs)}>"
        fh.write(f"{opening}\n{inner}        <seg>{_xml_text(text)}</seg></tuv>\n" if inner
                 else f"{opening}<seg>{_xml_text(text)}</seg></tuv>\n")
    fh.write("    </tu>\n")


# -- Moses plain text and Parquet (training exports: translate.clean_export) --------------------
_LINE_BREAKS = re.compile("\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")


def moses_line(text: str) -> str:
    """One sentence on one line: line breaks inside it become spaces (the files stay line-aligned)."""
    return _LINE_BREAKS.sub(" ", text) + "\n"


def write_moses_pair(row: sqlite3.Row | dict, ar: TextIO, en: TextIO, ids: TextIO) -> None:
    ar.write(moses_line(row["source"]))
    en.write(moses_line(row["target"]))
    ids.write(f"{row['id']}\n")


# the JSONL record's fields, in its order, and the split
PARQUET_COLUMNS = [("id", "int64"), ("document", "string"), ("document_sha256", "string"), ("start", "int64"),
                   ("end", "int64"), ("sentence", "int64"), ("part", "int64"), ("source", "string"),
                   ("target", "string"), ("origin", "string"), ("bridge", "string"), ("model", "string"),
                   ("model_sha256", "string"), ("status", "string"), ("reviewer", "string"),
                   ("reviewed_at", "string"), ("mt_text", "string"), ("reject_reason", "string"),
                   ("reject_comment", "string"), ("score", "float64"), ("label", "string"),
                   ("signals", "string"), ("link_status", "string"), ("created", "string"),
                   ("adjudicated_by", "string"), ("split", "string")]


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

    def write(self, row: dict, split: str | None) -> None:
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
