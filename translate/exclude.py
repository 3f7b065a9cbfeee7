"""Test-set decontamination: the sentences of exclusion files (plain text one a line, TMX, or JSONL) as
normalised-key hashes; a pair whose Arabic or English side has one of those keys is left out.

Files are read whole before the export starts, and a file that cannot be read is refused with one line.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .inputs import jsonl_records, text_lines
from .textkey import key_hash, normalise

JSONL_TEXT_FIELDS = ("source", "target", "ar", "en", "text", "sentence", "translation")


class ExcludeError(ValueError):
    pass


@dataclass
class Exclusion:
    path: Path
    sha256: str
    sentences: int
    hashes: np.ndarray = field(repr=False)   # sorted unique uint64 key hashes

    def matches(self, keys: np.ndarray) -> np.ndarray:
        return np.isin(keys, self.hashes)


def read_exclusion(path: Path) -> Exclusion:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ExcludeError(f"{path}: cannot read exclusion file ({exc.strerror})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExcludeError(f"{path}: exclusion file is not valid UTF-8 (byte offset {exc.start})") from None
    suffix = path.suffix.lower()
    if suffix == ".tmx":
        sentences = _tmx_sentences(path)
    elif suffix == ".jsonl":
        sentences = _jsonl_sentences(path, text)
    else:       # one sentence a line, lines ending as sacrebleu reads them (see text_lines)
        sentences = text_lines(text)
    keys = {key_hash(k) for k in map(normalise, sentences) if k}
    if not keys:
        raise ExcludeError(f"{path}: exclusion file has no sentences")
    return Exclusion(path, hashlib.sha256(data).hexdigest(), len(sentences),
                     np.array(sorted(keys), dtype=np.uint64))


def _tmx_sentences(path: Path) -> list[str]:
    from .tm_import import TMImportError, read_tmx

    try:
        return [text for pair in read_tmx(path) for text in (pair.source, pair.target)]
    except TMImportError as exc:
        raise ExcludeError(f"exclusion file {exc}") from None


def _jsonl_sentences(path: Path, text: str) -> list[str]:
    sentences = []
    for number, record in jsonl_records(text, str(path), ExcludeError):
        if isinstance(record, str):
            sentences.append(record)
        elif isinstance(record, dict):
            sentences.extend(record[f] for f in JSONL_TEXT_FIELDS if isinstance(record.get(f), str))
        else:
            raise ExcludeError(f"{path}: line {number}: expected a JSON object or string")
    return sentences
