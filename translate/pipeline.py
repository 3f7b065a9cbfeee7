"""The translation run: read documents, segment, translate, score and store, resumably.

Each document is processed in chunks of segments; every chunk is committed in one transaction, so an
interrupted run keeps what it finished and the next run continues where it stopped. A segment already
translated by the same model (in this or any earlier run, in any document) is not translated again.
"""
from __future__ import annotations

import codecs
import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import score as scoring
from .segment import DEFAULT_MAX_WORDS, segment
from .store import NewSegment, Store
from .translate import Engine

CHUNK_SEGMENTS = 512


class InputError(Exception):
    """An input file that cannot be read as text; the message names the file."""


@dataclass
class RunSummary:
    documents: int = 0
    documents_skipped: int = 0
    segments: int = 0
    translated: int = 0          # distinct sources sent to the engine
    reused: int = 0              # segments whose translation was already made (in the store or this run)
    words: int = 0               # source words of the segments stored in this run
    score_sum: float = 0.0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def mean_score(self) -> float | None:
        stored = self.translated + self.reused
        return self.score_sum / stored if stored else None

    @property
    def words_per_second(self) -> float:
        return self.words / self.seconds if self.seconds > 0 else 0.0


def find_inputs(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Expand directories to their .txt files (sorted); report paths that do not exist."""
    files, errors = [], []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.txt") if p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            errors.append(f"{path}: no such file or directory")
    return files, errors


def read_document(path: Path, encoding: str | None = None) -> str:
    """Decode a text file; without an explicit encoding only UTF-8 (optionally with a BOM) is accepted."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    if encoding:
        try:
            text = data.decode(encoding)
        except LookupError:
            raise InputError(f"{path}: unknown encoding {encoding!r}") from None
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: not valid {encoding} (byte offset {exc.start})") from None
        text = text.lstrip("\ufeff")
    else:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise InputError(f"{path}: looks like UTF-16; convert it to UTF-8 or pass --encoding utf-16")
        if b"\x00" in data:
            raise InputError(f"{path}: binary data (NUL bytes), not a text file")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                             "if it is Windows Arabic, pass --encoding cp1256") from None
    if not text.strip():
        raise InputError(f"{path}: empty document")
    return text


def iter_segments(text: str, max_words: int = DEFAULT_MAX_WORDS) -> Iterator[NewSegment]:
    """Segment line by line (a newline always ends a sentence), so memory stays bounded on huge inputs."""
    position = sentence_base = 0
    line_start = 0
    while line_start <= len(text):
        line_end = text.find("\n", line_start)
        if line_end < 0:
            line_end = len(text)
        line = text[line_start:line_end]
        last_sentence = -1
        for seg in segment(line, max_words=max_words):
            yield NewSegment(position, line_start + seg.start, line_start + seg.end,
                             sentence_base + seg.sentence, seg.part, seg.text)
            position += 1
            last_sentence = seg.sentence
        sentence_base += last_sentence + 1
        line_start = line_end + 1


def _chunks(items: Iterator, size: int) -> Iterator[list]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def run(paths: list[Path], store: Store, engine: Engine, *, max_words: int = DEFAULT_MAX_WORDS,
        encoding: str | None = None, options: dict | None = None,
        progress: Callable[[int], None] | None = None) -> RunSummary:
    """Translate every document under ``paths`` into the store. ``progress`` gets UTF-8 bytes done."""
    summary = RunSummary()
    started = time.perf_counter()
    files, summary.errors = find_inputs(paths)
    model_id = store.model_id(engine.model.name, engine.model.weights_sha256)
    run_id = store.start_run("translate", model_id, options or {})
    status = "failed"
    try:
        for path in files:
            try:
                text = read_document(path, encoding)
            except InputError as exc:
                summary.errors.append(str(exc))
                if progress:
                    progress(_size(path))
                continue
            sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
            document_id, _ = store.add_document(str(path), text, sha)
            did_work = False
            done_to = 0
            for chunk in _chunks(iter_segments(text, max_words), CHUNK_SEGMENTS):
                did_work |= _translate_chunk(chunk, document_id, store, engine, model_id, run_id, summary)
                if progress:
                    progress(len(text[done_to:chunk[-1].end].encode("utf-8")))
                    done_to = chunk[-1].end
            if progress:
                progress(len(text[done_to:].encode("utf-8")))
            if did_work:
                summary.documents += 1
            else:
                summary.documents_skipped += 1
        status = "done"
    finally:
        store.finish_run(run_id, status if status == "done" else "interrupted")
        summary.seconds = time.perf_counter() - started
    return summary


def _translate_chunk(chunk: list[NewSegment], document_id: int, store: Store, engine: Engine,
                     model_id: int, run_id: int, summary: RunSummary) -> bool:
    """Store translations for the segments of this chunk that have none by this model. True if any."""
    ids = store.add_segments(document_id, chunk)
    done = store.translated_segments(ids, model_id)
    todo = [(sid, seg) for sid, seg in zip(ids, chunk) if sid not in done]
    if not todo:
        return False
    # identical source text is translated once: reused from the store if this model translated it
    # before (in any document or run), otherwise sent to the engine once for the whole chunk
    reused: dict[str, sqlite3.Row] = {}
    to_engine: dict[str, None] = {}
    for _, seg in todo:
        if seg.text in reused or seg.text in to_engine:
            continue
        row = store.cached_translation(seg.text, model_id)
        if row is not None:
            reused[seg.text] = row
        else:
            to_engine[seg.text] = None
    fresh: dict[str, scoring.Quality] = {}
    targets: dict[str, str] = {}
    for source, hyp in zip(to_engine, engine.translate(list(to_engine))):
        targets[source] = hyp.text
        fresh[source] = scoring.score_pair(source, hyp.text, logprob=hyp.logprob, flags=hyp.flags)
    summary.translated += len(to_engine)
    summary.reused += len(todo) - len(to_engine)
    with store.transaction() as db:
        for sid, seg in todo:
            if seg.text in fresh:
                quality, target = fresh[seg.text], targets[seg.text]
                score, label, signals = quality.score, quality.label, quality.signals
            else:
                row = reused[seg.text]
                target, score, label, signals = row["text"], row["score"], row["label"], json.loads(row["signals"])
            store.add_translation(db, sid, target, model_id, run_id, score, label, signals)
            summary.segments += 1
            summary.words += len(seg.text.split())
            summary.score_sum += score
    return True


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
