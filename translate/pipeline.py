"""The translation run: read documents, segment, translate, score and store, resumably.

Documents are read and segmented lazily and processed in chunks of CHUNK_SEGMENTS segments (a chunk may
span several short documents, so they still make full engine batches); every chunk is committed in one
transaction, so an interrupted run keeps what it finished and the next run continues where it stopped.
Memory holds the chunks in flight (two) and their documents, never all the segments of a large input.
A segment already translated by the same model (in this or any earlier run, in any document) is not
translated again, and identical source texts go to the engine once.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import score as scoring
from .inputs import InputError, display_path, find_inputs, read_document  # noqa: F401 (re-exported)
from .segment import DEFAULT_MAX_WORDS, segment
from .store import NewSegment, Store
from .translate import Engine, PendingTranslations

CHUNK_SEGMENTS = 512


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
    errors: list[str] = field(default_factory=list)     # one line per input refused (file: why)
    warnings: list[str] = field(default_factory=list)   # one line per input read with a caveat

    @property
    def mean_score(self) -> float | None:
        stored = self.translated + self.reused
        return self.score_sum / stored if stored else None

    @property
    def words_per_second(self) -> float:
        return self.words / self.seconds if self.seconds > 0 else 0.0


def read_lines(path: Path) -> list[str]:
    """The lines of a line-aligned UTF-8 file (trailing blank lines dropped); InputError names the file."""
    lines = read_document(path, detect=False).splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


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


@dataclass(eq=False)             # compared and hashed by identity
class _Document:
    id: int
    text: str
    reported_to: int = 0         # character offset up to which progress has been reported
    did_work: bool = False


Result = tuple[str, float, str, dict]      # target text, score, label, signals


@dataclass
class _Chunk:
    """Up to CHUNK_SEGMENTS segments, possibly of several documents, on their way through the run."""
    segments: list[tuple[_Document, NewSegment]] = field(default_factory=list)
    ended: list[_Document] = field(default_factory=list)      # documents whose last segment is in here
    skipped_bytes: int = 0                                    # unreadable files met while filling it
    todo: list[tuple[int, _Document, NewSegment]] = field(default_factory=list)   # (segment id, ...)
    reused: dict[str, Result] = field(default_factory=dict)  # source text -> stored translation
    sources: list[str] = field(default_factory=list)         # distinct texts sent to the engine
    pending: PendingTranslations | None = None


def _document_chunks(files: list[Path], store: Store, encoding: str | None, max_words: int,
                     summary: RunSummary, html: bool = False) -> Iterator[_Chunk]:
    """Read, store and segment the documents lazily, cut into chunks that may span documents (many short
    articles still make full engine batches). Only the documents of the chunks in flight are in memory."""
    chunk = _Chunk()
    for path in files:
        try:
            text = read_document(path, encoding, html=html, notes=summary.warnings)
        except InputError as exc:
            summary.errors.append(str(exc))
            chunk.skipped_bytes += _size(path)
            continue
        sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        document_id, _ = store.add_document(display_path(path), text, sha)
        document = _Document(document_id, text)
        for seg in iter_segments(text, max_words):
            chunk.segments.append((document, seg))
            if len(chunk.segments) == CHUNK_SEGMENTS:
                yield chunk
                chunk = _Chunk()
        chunk.ended.append(document)
    if chunk.segments or chunk.ended or chunk.skipped_bytes:
        yield chunk


def run(paths: list[Path], store: Store, engine: Engine, *, max_words: int = DEFAULT_MAX_WORDS,
        encoding: str | None = None, html: bool = False, options: dict | None = None,
        progress: Callable[[int], None] | None = None) -> RunSummary:
    """Translate every document under ``paths`` into the store. ``progress`` gets UTF-8 bytes done.

    Two chunks are in flight: while the engine translates chunk k (in its own threads), chunk k+1 is
    read, segmented, stored, looked up in the store, tokenised and queued behind it; then chunk k is
    scored and committed in one transaction, and progress reported.
    """
    summary = RunSummary()
    started = time.perf_counter()
    files, summary.errors = find_inputs(paths)
    model_id = store.model_id(engine.model.name, engine.model.weights_sha256)
    run_id = store.start_run("translate", model_id, options or {})
    status = "failed"
    try:
        in_flight: _Chunk | None = None
        last_fresh: dict[str, Result] = {}      # translations made for the chunk stored last
        for chunk in _document_chunks(files, store, encoding, max_words, summary, html):
            _submit_chunk(chunk, store, engine, model_id, in_flight)
            if in_flight is None:
                # the scorer's data loads (once, seconds) while the engine works on the first chunk
                scoring.prepare()
            else:
                last_fresh = _store_chunk(in_flight, store, model_id, run_id, summary, progress, last_fresh)
            in_flight = chunk
        if in_flight is not None:
            _store_chunk(in_flight, store, model_id, run_id, summary, progress, last_fresh)
        status = "done"
    finally:
        store.finish_run(run_id, status if status == "done" else "interrupted")
        summary.seconds = time.perf_counter() - started
    return summary


def _submit_chunk(chunk: _Chunk, store: Store, engine: Engine, model_id: int, previous: _Chunk | None) -> None:
    """Store the chunk's segments, find those still to translate and queue their distinct new texts."""
    ids: list[int] = []
    start = 0
    while start < len(chunk.segments):          # one batched insert per document in the chunk
        document = chunk.segments[start][0]
        end = start
        while end < len(chunk.segments) and chunk.segments[end][0] is document:
            end += 1
        ids += store.add_segments(document.id, [seg for _, seg in chunk.segments[start:end]])
        start = end
    done = store.translated_segments(ids, model_id)
    # a segment already claimed by the previous chunk or earlier in this one (the same document read
    # under two names) is not done twice
    claimed = {sid for sid, _, _ in previous.todo} if previous else set()
    for sid, (document, seg) in zip(ids, chunk.segments):
        if sid not in done and sid not in claimed:
            chunk.todo.append((sid, document, seg))
            claimed.add(sid)
    # identical source text is translated once: reused from the store if this model translated it before
    # (in any document or run), taken from the previous chunk if that one is translating it, otherwise
    # sent to the engine once for the whole chunk
    texts = dict.fromkeys(seg.text for _, _, seg in chunk.todo)
    in_previous = set(previous.sources) if previous else set()
    rows = store.cached_translations([t for t in texts if t not in in_previous], model_id)
    chunk.reused = {t: (r["text"], r["score"], r["label"], json.loads(r["signals"])) for t, r in rows.items()}
    chunk.sources = [t for t in texts if t not in rows and t not in in_previous]
    chunk.pending = engine.submit(chunk.sources)


def _store_chunk(chunk: _Chunk, store: Store, model_id: int, run_id: int, summary: RunSummary,
                 progress: Callable[[int], None] | None, previous_fresh: dict[str, Result]) -> dict[str, Result]:
    """Wait for the chunk's translations, score them and commit the chunk; returns its new translations."""
    fresh: dict[str, Result] = {}
    for source, hyp in zip(chunk.sources, chunk.pending.results()):
        quality = scoring.score_pair(source, hyp.text, logprob=hyp.logprob, flags=hyp.flags)
        fresh[source] = (hyp.text, quality.score, quality.label, quality.signals)
    summary.translated += len(chunk.sources)
    summary.reused += len(chunk.todo) - len(chunk.sources)
    with store.transaction() as db:
        for sid, document, seg in chunk.todo:
            found = fresh.get(seg.text) or chunk.reused.get(seg.text) or previous_fresh[seg.text]
            target, score, label, signals = found
            store.add_translation(db, sid, target, model_id, run_id, score, label, signals)
            document.did_work = True
            summary.segments += 1
            summary.words += len(seg.text.split())
            summary.score_sum += score
    done_bytes = chunk.skipped_bytes
    last_end = {document: seg.end for document, seg in chunk.segments}
    for document in chunk.ended:
        last_end[document] = len(document.text)
        if document.did_work:
            summary.documents += 1
        else:
            summary.documents_skipped += 1
    for document, end in last_end.items():
        done_bytes += len(document.text[document.reported_to:end].encode("utf-8"))
        document.reported_to = end
    if progress:
        progress(done_bytes)
    return fresh


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
