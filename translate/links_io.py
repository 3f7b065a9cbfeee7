"""Stand-off exports of the alignments themselves, and the import of our own links export.

``--format links`` writes JSONL, one object per row of every document pair's alignment: the documents
(path and sha256), the row, the Arabic and English sentence indices and their offsets in the documents,
the status (auto / confirmed), the pair's score and the aligner's link score. ``translate import`` reads
it back into a store that holds the same documents (found by sha256).

``--format xces`` writes XCES ``cesAlign`` as OPUS distributes sentence alignments: one ``linkGrp`` per
document pair (``fromDoc`` the Arabic document, ``toDoc`` the English one) and one ``link`` per row,
``xtargets="s1;s1 s2"`` naming the sentences of each side by their id ``s<number from 1>`` in the
alignment's sentence lists (empty side: nothing before or after the ``;``), with ``certainty`` (the
aligner's link probability, where there is one) and ``status``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from xml.sax.saxutils import quoteattr

from .store import Store

LINK_FORMATS = ("links", "xces")
KIND = "translate-link"          # every record of a links export says so (import recognises the file by it)


class LinksImportError(Exception):
    """A links file that cannot be imported; the message names the file and line."""


def _alignments(store: Store):
    for summary in store.alignment_summaries(0.0):
        alignment = store.load_alignment(summary["id"])
        documents = {r["id"]: r for r in store.db.execute(
            "SELECT id, path, sha256 FROM documents WHERE id IN (?, ?)",
            (alignment.ar_document_id, alignment.en_document_id))}
        yield alignment, documents[alignment.ar_document_id], documents[alignment.en_document_id]


def write_links(store: Store, fh: TextIO) -> int:
    count = 0
    for alignment, ar_doc, en_doc in _alignments(store):
        scores = store.pair_scores([r.translation_id for r in alignment.rows if r.translation_id is not None])
        for k, row in enumerate(alignment.rows):
            pair = scores.get(row.translation_id) if row.translation_id is not None else None
            fh.write(json.dumps({
                "kind": KIND, "document_pair": alignment.id,
                "ar_file": ar_doc["path"], "ar_sha256": ar_doc["sha256"],
                "en_file": en_doc["path"], "en_sha256": en_doc["sha256"],
                "row": k, "ar": row.ar, "en": row.en,
                "ar_offsets": [[alignment.ar[i].start, alignment.ar[i].end] for i in row.ar],
                "en_offsets": [[alignment.en[j].start, alignment.en[j].end] for j in row.en],
                "status": row.status, "score": pair["score"] if pair is not None else None,
                "link_score": row.score, "pair": row.translation_id, "reviewer": row.reviewer,
                "updated": row.updated_at}, ensure_ascii=False) + "\n")
            count += 1
    return count


def write_xces(store: Store, fh: TextIO) -> int:
    fh.write('<?xml version="1.0" encoding="utf-8"?>\n'
             '<!DOCTYPE cesAlign PUBLIC "-//CES//DTD XML cesAlign//EN" "">\n<cesAlign version="1.0">\n')
    count = 0
    for alignment, ar_doc, en_doc in _alignments(store):
        fh.write(f' <linkGrp targType="s" fromDoc={quoteattr(ar_doc["path"])} toDoc={quoteattr(en_doc["path"])}>\n')
        for k, row in enumerate(alignment.rows):
            targets = " ".join(f"s{i + 1}" for i in row.ar) + ";" + " ".join(f"s{j + 1}" for j in row.en)
            certainty = f' certainty="{row.score:.4f}"' if row.score is not None else ""
            fh.write(f'  <link id="SL{k + 1}" xtargets="{targets}"{certainty} status="{row.status}"/>\n')
            count += 1
        fh.write(" </linkGrp>\n")
    fh.write("</cesAlign>\n")
    return count


# -- import ---------------------------------------------------------------------------------------
def is_links_file(path: Path) -> bool:
    """Whether a .jsonl file is a links export (its first record says so)."""
    try:
        with open(path, encoding="utf-8") as fh:
            first = fh.readline()
        return json.loads(first).get("kind") == KIND
    except (OSError, ValueError, AttributeError):
        return False


@dataclass
class ImportedAlignment:
    ar_sha256: str
    en_sha256: str
    rows: list[dict]                # ar_offsets, en_offsets, status, line


def read_links(path: Path) -> list[ImportedAlignment]:
    """Every document pair of a links export, checked; LinksImportError names the line of a bad record."""
    if not path.is_file():
        raise LinksImportError(f"{path}: no such file")
    found: dict[tuple[str, str], ImportedAlignment] = {}
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                raise LinksImportError(f"{path}: line {number}: not valid JSON") from None
            if not isinstance(record, dict) or record.get("kind") != KIND:
                raise LinksImportError(f"{path}: line {number}: not a record of a links export")
            try:
                key = (str(record["ar_sha256"]), str(record["en_sha256"]))
                row = {"ar": _spans(record["ar_offsets"]), "en": _spans(record["en_offsets"]),
                       "status": record["status"], "line": number}
            except (KeyError, TypeError, ValueError) as exc:
                raise LinksImportError(f"{path}: line {number}: missing or malformed field ({exc})") from None
            if row["status"] not in ("auto", "confirmed"):
                raise LinksImportError(f"{path}: line {number}: status must be auto or confirmed")
            if not row["ar"] and not row["en"]:
                raise LinksImportError(f"{path}: line {number}: a row with no sentence on either side")
            found.setdefault(key, ImportedAlignment(*key, [])).rows.append(row)
    if not found:
        raise LinksImportError(f"{path}: no links")
    return list(found.values())


def _spans(value) -> list[tuple[int, int]]:
    spans = [(int(a), int(b)) for a, b in value]
    if any(a < 0 or b <= a for a, b in spans):
        raise ValueError("offsets must be [start, end] with start < end")
    return spans
