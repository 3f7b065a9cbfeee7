"""The translation run: read documents, segment, translate, score and store, resumably.

Documents are read and segmented lazily and processed in chunks (a chunk may span several short
documents, so they still make full engine batches); every chunk is committed in one transaction, so an
interrupted run keeps what it finished and the next run continues where it stopped. Chunks are sized so
that work is committed every few seconds of engine time: the first ones are small (a kill soon after the
start still keeps something), later ones hold about COMMIT_SECONDS of the engine's measured throughput,
at most CHUNK_SEGMENTS segments. Memory holds the chunks in flight (two) and their documents, never all
the segments of a large input. A segment already translated by the same model (in this or any earlier
run, in any document) is not translated again, and identical source texts go to the engine once. Runs
working on the same documents at the same time split them: each claims a chunk's segments before
translating them and leaves those another running run claimed (store.claim_segments).

A run stopped by SIGINT or SIGTERM (inside ``stop_on_signals``) or by a store error rolls back only the
chunk it was writing, records itself 'interrupted' and raises RunInterrupted / RunFailed carrying what
was saved. Re-running a document with other segmentation settings makes the new spans its current
segmentation (store.add_current_segments); the old spans and their reviews are kept, not exported.

The step "translate and score these distinct texts" is pluggable (``Translator``): ``LocalTranslator``
runs the Engine in this process; translate/distributed.py sends the texts to a Ray actor pool. Everything
else (reading, segmenting, the store, deduplication, claims, commits, progress) stays here, on the driver.
"""
from __future__ import annotations

import hashlib
import json
import re
import signal
import sqlite3
import time
import unicodedata
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .inputs import InputError, display_path, find_inputs, read_document, text_lines  # noqa: F401 (re-exported)
from .score import prepare as prepare_scorer
from .score import score_pair
from .segment import DEFAULT_MAX_WORDS, segment
from .store import NewSegment, Store, describe_error
from .translate import Engine, PendingTranslations

if TYPE_CHECKING:
    from .models import ModelInfo

CHUNK_SEGMENTS = 512            # most segments in one chunk
FIRST_CHUNK_WORDS = 160         # source words of the first chunk; the next ones grow 4x until timed
COMMIT_SECONDS = 6.0            # engine time a chunk is sized for (work is committed about this often)
POLL_SECONDS = 0.05             # waiting for the engine in steps this long lets a signal stop the run


class RunInterrupted(KeyboardInterrupt):
    """The run was stopped by a signal (SIGINT or SIGTERM); ``summary`` says what was saved."""

    def __init__(self, summary: "RunSummary", signum: int):
        super().__init__(f"interrupted by signal {signum}")
        self.summary, self.signum = summary, signum


class RunFailed(Exception):
    """The store failed during the run (disk full, locked, read-only); one-line message naming it."""

    def __init__(self, message: str, summary: "RunSummary"):
        super().__init__(message)
        self.summary = summary


class TranslatorFailed(Exception):
    """The translator cannot go on (a cluster lost, a worker refusing its model); one-line message. The
    run ends as RunFailed, keeping what was committed."""


class _Signal(KeyboardInterrupt):
    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into an exception in the main thread, so a run stops cleanly: the chunk
    being written is rolled back, the run is marked interrupted and the caller reports what was saved.
    A second signal while that cleanup runs is ignored (it takes milliseconds)."""
    received: list[int] = []

    def handler(signum, _frame):
        if received:
            return
        received.append(signum)
        raise _Signal(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


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
    saved: int = 0               # pairs this run committed (also when it was stopped)
    superseded: int = 0          # stored spans replaced by this run's segmentation (other --max-words)
    superseded_reviewed: int = 0  # reviewed pairs among those: kept, exported only with --include-superseded
    new_versions: int = 0        # documents that replaced an earlier version of their file (same path, new content)
    versions_reviewed: int = 0   # reviewed pairs of the replaced versions: kept, exported only with --include-superseded
    reviews_carried: int = 0     # unchanged sentences of a new version that kept their earlier version's review
    copied: int = 0              # Latin-script segments kept as they are (origin 'copied'), not translated
    left_to_other_runs: int = 0  # segments another run working at the same time claimed first
    model: str = ""              # the engine's model name and whether it is a demo model (set by the CLI)
    demo_model: bool = False
    cluster: str = ""            # with --ray: nodes and actors used (set by the CLI)
    errors: list[str] = field(default_factory=list)     # one line per input refused (file: why)
    warnings: list[str] = field(default_factory=list)   # one line per input read with a caveat

    @property
    def mean_score(self) -> float | None:
        return self.score_sum / self.segments if self.segments else None

    @property
    def words_per_second(self) -> float:
        return self.words / self.seconds if self.seconds > 0 else 0.0


def read_lines(path: Path) -> list[str]:
    """The lines of a line-aligned UTF-8 file (trailing blank lines dropped: spaces and invisible marks
    such as a right-to-left mark make no line); InputError names the file."""
    lines = text_lines(read_document(path, detect=False))
    while lines and _blank(lines[-1]):
        lines.pop()
    return lines


def _blank(line: str) -> bool:
    """Nothing visible: white space and format characters (RLM, zero-width space, BOM) only."""
    return all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in line)


# A sentence in Latin script inside an Arabic article (an English quotation, a title, a company's
# slogan) is kept as it is, as a translator would: the model would only garble it. Such a pair has
# origin 'copied', these signals and a fixed score (a verbatim copy is the right translation).
_ARABIC_LETTER = re.compile(r"(?=[^\W\d_])[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")
_LETTER = re.compile(r"[^\W\d_]")
COPIED_SCORE, COPIED_LABEL = 1.0, "good"
COPIED_SIGNALS = {"copied": True, "source_script": "latin"}


def is_latin_script(text: str) -> bool:
    """Whether a sentence is in Latin script: no Arabic letter, and Latin letters at least half of its
    letters (digits and punctuation do not count)."""
    if _ARABIC_LETTER.search(text):
        return False
    latin = len(_LATIN_LETTER.findall(text))
    return latin > 0 and 2 * latin >= len(_LETTER.findall(text))


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
    earlier: list[int] = field(default_factory=list)   # earlier versions of the same file (see store.versions)


Result = tuple[str, float, str, dict]      # target text, score, label, signals


class Translator:
    """Translates and scores distinct source texts for the run. ``submit`` returns at once with an
    object whose ``done()`` says whether the results are ready and ``results()`` returns one Result per
    text, in order. ``max_in_flight``: chunks submitted and not yet stored (1: the next chunk is prepared
    while the engine translates one). ``streams``: a chunk already translated is stored as soon as it is
    seen ready, not only when ``max_in_flight`` is exceeded (results arrive while later chunks are read)."""

    model: "ModelInfo"
    max_in_flight: int = 1
    streams: bool = False

    def submit(self, texts: list[str]):
        raise NotImplementedError

    def prepare(self) -> None:
        """Called once, after the first chunk was submitted (work that can overlap the first batch)."""

    def flush(self) -> None:
        """The run is about to wait for the oldest chunk: start whatever is still held back."""


class LocalTranslator(Translator):
    """The Engine in this process; texts are scored here when their translations are collected."""

    def __init__(self, engine: Engine):
        self.engine, self.model = engine, engine.model

    def submit(self, texts: list[str]) -> "_LocalPending":
        return _LocalPending(texts, self.engine.submit(texts))

    def prepare(self) -> None:
        # the scorer's data loads (once, seconds) while the engine works on the first chunk
        prepare_scorer()


class _LocalPending:
    def __init__(self, texts: list[str], pending: PendingTranslations):
        self.texts, self.pending = texts, pending

    def done(self) -> bool:
        return self.pending.done()

    def results(self) -> list[Result]:
        return [score_translation(source, hyp) for source, hyp in zip(self.texts, self.pending.results())]


def score_translation(source: str, hyp) -> Result:
    """The Result stored for an engine Hypothesis of ``source`` (on the driver or on a Ray worker)."""
    quality = score_pair(source, hyp.text, logprob=hyp.logprob, flags=hyp.flags)
    return hyp.text, quality.score, quality.label, quality.signals


@dataclass
class _Chunk:
    """A run of consecutive segments (sized by _ChunkSizer), possibly of several documents, on their way
    through the run."""
    segments: list[tuple[_Document, NewSegment]] = field(default_factory=list)
    ended: list[_Document] = field(default_factory=list)      # documents whose last segment is in here
    skipped_bytes: int = 0                                    # unreadable files met while filling it
    todo: list[tuple[int, _Document, NewSegment]] = field(default_factory=list)   # (segment id, ...)
    copied: list[tuple[int, _Document, NewSegment]] = field(default_factory=list)  # Latin script: kept as is
    reused: dict[str, Result] = field(default_factory=dict)  # source text -> stored translation
    sources: list[str] = field(default_factory=list)         # distinct texts sent to the engine
    pending: object | None = None                             # the Translator's handle on ``sources``
    submitted_at: float = 0.0                                 # when it was queued on the engine


class _ChunkSizer:
    """How many source words the next chunk holds: FIRST_CHUNK_WORDS, growing 4x a chunk until the
    engine's throughput is measured, then COMMIT_SECONDS of it."""

    def __init__(self) -> None:
        self.words = FIRST_CHUNK_WORDS
        self.words_per_second: float | None = None

    def next_size(self) -> int:
        size = self.words
        if self.words_per_second is None:
            self.words *= 4
        return size

    def measured(self, words: int, seconds: float) -> None:
        """The engine translated ``words`` source words of one chunk in ``seconds``."""
        if words < 20 or seconds <= 0:
            return                  # too little to time (a chunk mostly reused from the store)
        rate = words / seconds
        # smoothed: one chunk of unusually long or short sentences does not swing the next size
        self.words_per_second = rate if self.words_per_second is None else 0.5 * (self.words_per_second + rate)
        self.words = max(FIRST_CHUNK_WORDS, int(self.words_per_second * COMMIT_SECONDS))


def _document_chunks(files: list[Path], store: Store, encoding: str | None, max_words: int,
                     summary: RunSummary, sizer: _ChunkSizer, html: bool = False) -> Iterator[_Chunk]:
    """Read, store and segment the documents lazily, cut into chunks that may span documents (many short
    articles still make full engine batches). Only the documents of the chunks in flight are in memory."""
    chunk, words, limit = _Chunk(), 0, sizer.next_size()
    for path in files:
        try:
            text = read_document(path, encoding, html=html, notes=summary.warnings)
        except InputError as exc:
            summary.errors.append(str(exc))
            chunk.skipped_bytes += _size(path)
            continue
        sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        version = store.add_document_version(display_path(path), text, sha)
        if version.replaced:
            summary.new_versions += 1
            summary.versions_reviewed += version.replaced_reviewed
        document = _Document(version.id, text, earlier=version.earlier)
        for seg in iter_segments(text, max_words):
            chunk.segments.append((document, seg))
            words += len(seg.text.split())
            if len(chunk.segments) >= CHUNK_SEGMENTS or words >= limit:
                yield chunk
                chunk, words, limit = _Chunk(), 0, sizer.next_size()
        chunk.ended.append(document)
    if chunk.segments or chunk.ended or chunk.skipped_bytes:
        yield chunk


def run(paths: list[Path], store: Store, engine: Engine | Translator, *, max_words: int = DEFAULT_MAX_WORDS,
        encoding: str | None = None, html: bool = False, options: dict | None = None,
        progress: Callable[[int], None] | None = None) -> RunSummary:
    """Translate every document under ``paths`` into the store. ``progress`` gets UTF-8 bytes done.
    ``engine``: an Engine (translated here) or a Translator (e.g. distributed.RayTranslator).

    Two chunks are in flight: while the engine translates chunk k (in its own threads), chunk k+1 is
    read, segmented, stored, looked up in the store, tokenised and queued behind it; then chunk k is
    scored and committed in one transaction, and progress reported. (A Translator may keep more chunks in
    flight: ``max_in_flight``; the chunks are always committed in order.)

    Raises RunInterrupted (a KeyboardInterrupt: Ctrl-C, or a signal under ``stop_on_signals``) or
    RunFailed (an SQLite error: disk full, store locked or read-only; or TranslatorFailed) after marking
    the run interrupted where the store still allows; both carry the summary, ``saved`` being the pairs
    committed.
    """
    translator = engine if isinstance(engine, Translator) else LocalTranslator(engine)
    summary = RunSummary()
    started = time.perf_counter()
    files, summary.errors = find_inputs(paths, html=html, skipped=summary.warnings)
    model_id = store.model_id(translator.model.name, translator.model.weights_sha256)
    run_id = store.start_run("translate", model_id, options or {})
    status = "interrupted"
    sizer = _ChunkSizer()
    try:
        in_flight: deque[_Chunk] = deque()      # submitted, not yet stored, oldest first
        last_fresh: dict[str, Result] = {}      # translations made for the chunk stored last
        engine_free_at = time.perf_counter()    # when the engine finished the chunk before in_flight[0]
        first = True
        for chunk in _document_chunks(files, store, encoding, max_words, summary, sizer, html):
            _submit_chunk(chunk, store, translator, model_id, run_id, in_flight[-1] if in_flight else None,
                          summary)
            in_flight.append(chunk)
            if first:
                translator.prepare()
                first = False
            # locally: chunk k is stored right after chunk k+1 was queued behind it
            while in_flight and (len(in_flight) > translator.max_in_flight
                                 or (translator.streams and in_flight[0].pending.done())):
                last_fresh, engine_free_at = _store_chunk(in_flight.popleft(), store, model_id, run_id, summary,
                                                          progress, last_fresh, sizer, engine_free_at, translator)
        while in_flight:
            last_fresh, engine_free_at = _store_chunk(in_flight.popleft(), store, model_id, run_id, summary,
                                                      progress, last_fresh, sizer, engine_free_at, translator)
        status = "done"
    except KeyboardInterrupt as exc:
        _close_run(store, run_id, status, summary, started)
        raise RunInterrupted(summary, getattr(exc, "signum", signal.SIGINT)) from None
    except sqlite3.Error as exc:
        _close_run(store, run_id, status, summary, started)
        raise RunFailed(describe_error(store.path, exc), summary) from None
    except TranslatorFailed as exc:
        _close_run(store, run_id, status, summary, started)
        raise RunFailed(str(exc), summary) from None
    except BaseException:
        _close_run(store, run_id, status, summary, started)
        raise
    _close_run(store, run_id, status, summary, started)
    return summary


def _close_run(store: Store, run_id: int, status: str, summary: RunSummary, started: float) -> None:
    """Record how the run ended and what it saved. When the store refuses even that (disk full), the
    run stays 'running' and the next run marks it interrupted (its lock dies with this process)."""
    summary.seconds = time.perf_counter() - started
    try:
        store.finish_run(run_id, status)
    except sqlite3.Error:
        pass
    try:
        summary.saved = store.run_saved(run_id)
    except sqlite3.Error:
        summary.saved = summary.segments


def _submit_chunk(chunk: _Chunk, store: Store, translator: Translator, model_id: int, run_id: int,
                  previous: _Chunk | None, summary: RunSummary) -> None:
    """Store the chunk's segments, find those still to translate and queue their distinct new texts."""
    ids: list[int] = []
    start = 0
    while start < len(chunk.segments):          # one batched insert per document in the chunk
        document = chunk.segments[start][0]
        end = start
        while end < len(chunk.segments) and chunk.segments[end][0] is document:
            end += 1
        added = store.add_current_segments(document.id, [seg for _, seg in chunk.segments[start:end]])
        ids += added.ids
        summary.superseded += added.superseded
        summary.superseded_reviewed += added.superseded_reviewed
        start = end
    done = store.translated_segments(ids, model_id)
    # a segment already claimed by the previous chunk or earlier in this one (the same document read
    # under two names) is not done twice
    claimed = {sid for sid, _, _ in previous.todo + previous.copied} if previous else set()
    for sid, (document, seg) in zip(ids, chunk.segments):
        if sid not in done and sid not in claimed:
            chunk.todo.append((sid, document, seg))
            claimed.add(sid)
    # another run working on the same documents right now: the segments it claimed first are its work
    other_runs = store.claim_segments([sid for sid, _, _ in chunk.todo], model_id, run_id)
    if other_runs:
        chunk.todo = [item for item in chunk.todo if item[0] not in other_runs]
        summary.left_to_other_runs += len(other_runs)
    # Latin-script sentences are not the model's to translate: they are stored as they are
    latin = [is_latin_script(seg.text) for _, _, seg in chunk.todo]
    chunk.copied = [item for item, copy in zip(chunk.todo, latin) if copy]
    chunk.todo = [item for item, copy in zip(chunk.todo, latin) if not copy]
    # identical source text is translated once: reused from the store if this model translated it before
    # (in any document or run), taken from the previous chunk if that one is translating it, otherwise
    # sent to the engine once for the whole chunk
    texts = dict.fromkeys(seg.text for _, _, seg in chunk.todo)
    in_previous = set(previous.sources) if previous else set()
    rows = store.cached_translations([t for t in texts if t not in in_previous], model_id)
    chunk.reused = {t: (r["text"], r["score"], r["label"], json.loads(r["signals"])) for t, r in rows.items()}
    chunk.sources = [t for t in texts if t not in rows and t not in in_previous]
    chunk.pending = translator.submit(chunk.sources)
    chunk.submitted_at = time.perf_counter()


def _store_chunk(chunk: _Chunk, store: Store, model_id: int, run_id: int, summary: RunSummary,
                 progress: Callable[[int], None] | None, previous_fresh: dict[str, Result],
                 sizer: _ChunkSizer, engine_free_at: float,
                 translator: Translator) -> tuple[dict[str, Result], float]:
    """Wait for the chunk's translations and scores and commit the chunk; returns its new translations
    and when the engine finished them."""
    translator.flush()
    # wait in short sleeps, not in the engine's blocking call, so that a signal stops the run at once
    while not chunk.pending.done():
        time.sleep(POLL_SECONDS)
    finished_at = time.perf_counter()
    sizer.measured(sum(len(source.split()) for source in chunk.sources),
                   finished_at - max(chunk.submitted_at, engine_free_at))
    fresh: dict[str, Result] = dict(zip(chunk.sources, chunk.pending.results()))
    stored = words = copied = 0
    score_sum = 0.0
    carried = 0
    with store.transaction() as db:
        new_pairs: dict[int, list[tuple[int, int]]] = {}     # id(document) -> [(pair id, segment id)]
        for sid, document, seg in chunk.todo:
            found = fresh.get(seg.text) or chunk.reused.get(seg.text) or previous_fresh[seg.text]
            target, score, label, signals = found
            document.did_work = True
            # None: a run working on the same documents at the same time stored this pair first
            pair_id = store.add_translation(db, sid, target, model_id, run_id, score, label, signals)
            if pair_id is not None:
                stored += 1
                words += len(seg.text.split())
                score_sum += score
                if document.earlier:
                    new_pairs.setdefault(id(document), []).append((pair_id, sid))
        for sid, document, seg in chunk.copied:
            document.did_work = True
            if store.add_translation(db, sid, seg.text, model_id, run_id, COPIED_SCORE, COPIED_LABEL,
                                     dict(COPIED_SIGNALS), origin="copied") is not None:
                stored += 1
                copied += 1
                words += len(seg.text.split())
                score_sum += COPIED_SCORE
        for document in {id(d): d for _, d, _ in chunk.todo}.values():
            carried += store.carry_reviews(db, new_pairs.get(id(document), []), document.earlier)
    summary.reviews_carried += carried
    # counted once committed: a stop inside the transaction rolls all of it back
    summary.copied += copied
    summary.translated += len(chunk.sources)
    summary.reused += len(chunk.todo) - len(chunk.sources)
    summary.segments += stored
    summary.words += words
    summary.score_sum += score_sum
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
    return fresh, finished_at


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
