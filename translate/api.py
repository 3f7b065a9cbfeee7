"""The stable Python API of translate, for notebooks and pipelines.

Every name in ``translate.__all__`` is stable: it keeps its meaning and its signature (new keyword
arguments may be added) within a major version. Everything else in the package is internal and may
change without notice. The command line calls these same functions.

    >>> import translate
    >>> [s.text for s in translate.segment("وصل الوفد إلى القاهرة. وبدأت المحادثات اليوم.")]
    ['وصل الوفد إلى القاهرة.', 'وبدأت المحادثات اليوم.']

Errors a caller can fix (a missing model, a store file that is not a store, line counts that do not
match) raise ``translate.Error`` with a one-line message; a wrong argument type raises ``TypeError``.
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_MAX_WORDS = 60       # as translate.segment.DEFAULT_MAX_WORDS (not imported: `import translate` stays light)


class Error(Exception):
    """A problem the caller can fix; the message is one line and names the file or the argument."""


# -- segmentation -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sentence:
    """A sentence (or, when it was longer than ``max_words``, a clause-sized part of one) of a text:
    ``text == original[start:end]``; ``sentence`` numbers the sentences from 0, ``part`` the parts of a
    split sentence (0 when whole)."""

    text: str
    start: int
    end: int
    sentence: int
    part: int = 0


def segment(text: str, max_words: int = DEFAULT_MAX_WORDS) -> list[Sentence]:
    """Split an Arabic text into sentences, and sentences longer than ``max_words`` words into parts at
    clause boundaries (``max_words=0``: never). A line break always ends a sentence. Every non-space
    character of ``text`` belongs to exactly one returned span.

    >>> [(s.start, s.end, s.sentence) for s in segment("قال الرئيس إن الوضع صعب. وأضاف أن الحل قريب.")]
    [(0, 24, 0), (25, 44, 1)]
    """
    if not isinstance(text, str):
        raise TypeError(f"segment() needs a str, got {type(text).__name__}")
    from .pipeline import iter_segments

    return [Sentence(s.text, s.start, s.end, s.sentence, s.part) for s in iter_segments(text, max_words=max_words)]


# -- quality ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Score:
    """The estimated quality of one translation: ``score`` in [0, 1] (about the probability that the
    translation is acceptable), ``label`` (``good`` >= 0.60, ``bad`` < 0.30, else ``check``), up to three
    ``reasons`` in words (what lowered the score, most serious first) and every ``signal`` measured
    (JSON-serialisable; see the README's table of signals)."""

    score: float
    label: str
    reasons: list[str] = field(default_factory=list)
    signals: dict = field(default_factory=dict)


def _as_score(source: str, target: str, quality) -> Score:
    from .review.explain import reasons

    return Score(quality.score, quality.label, reasons(source, target, quality.signals, quality.label),
                 quality.signals)


def score(source: str, translation: str, reference: str | None = None) -> Score:
    """Score one Arabic ``source`` and its English ``translation`` (from any system or person); no model
    is needed. With a ``reference`` translation the score moves mostly onto its chrF (``signals["chrf"]``).

    >>> good = score("ولد الكاتب في القاهرة عام 1950.", "The writer was born in Cairo in 1950.")
    >>> bad = score("ولد الكاتب في القاهرة عام 1950.", "The writer was born in Cairo.")
    >>> bad.signals["numbers_missing"], bad.score < good.score
    (1, True)
    """
    for name, value in (("source", source), ("translation", translation)):
        if not isinstance(value, str):
            raise TypeError(f"score(): {name} must be a str, got {type(value).__name__}")
    from .score import score_pair

    return _as_score(source, translation, score_pair(source, translation, reference=reference))


def score_batch(sources: Sequence[str], translations: Sequence[str],
                references: Sequence[str] | None = None) -> list[Score]:
    """``score`` for line-aligned lists (one Score per pair, in order); the lists must be as long as
    ``sources``."""
    sources, translations = list(sources), list(translations)
    references = list(references) if references is not None else None
    for name, values in (("translations", translations), ("references", references)):
        if values is not None and len(values) != len(sources):
            raise Error(f"{name}: {len(values)} lines, but sources has {len(sources)}")
    from .score import prepare

    prepare()
    return [score(s, t, references[i] if references is not None else None)
            for i, (s, t) in enumerate(zip(sources, translations))]


# -- machine translation ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Pair:
    """One segment of a document and its machine translation, scored with the model's confidence."""

    source: str
    translation: str
    start: int
    end: int
    sentence: int
    part: int
    quality: Score


class Translator:
    """A loaded translation model (CTranslate2, int8 on the CPU by default).

    ``model``: an installed model's name or a model directory (None: the best installed model; see
    ``translate models list``). ``device``: ``cpu`` or ``cuda``. ``beam``: beam size (4: quality, 1:
    fastest). ``threads``: CPU threads (0: every core). ``max_words``: ``translate_document`` splits
    sentences longer than this. Use it as a context manager, or call ``close()``, to free the model.
    """

    def __init__(self, model: str | os.PathLike | None = None, device: str = "cpu", *, beam: int = 4,
                 threads: int = 0, max_words: int = DEFAULT_MAX_WORDS):
        from .models import ModelError, resolve_model
        from .translate import Engine, TranslateError

        try:
            info = resolve_model(os.fspath(model) if model is not None else None)
            self._engine = Engine(info, device=device, threads=threads, beam=beam)
        except (ModelError, TranslateError) as exc:
            raise Error(str(exc)) from None
        self.model: str = info.name
        self.max_words = max_words

    def _loaded(self):
        if self._engine is None:
            raise Error("this Translator is closed")
        return self._engine

    def translate(self, sentences: Sequence[str]) -> list[str]:
        """The English translation of each Arabic sentence, in order (a long input is translated in
        windows, never cut)."""
        if isinstance(sentences, str):
            raise TypeError("translate() takes a list of sentences; for one text use translate_document()")
        return [hypothesis.text for hypothesis in self._loaded().translate(list(sentences))]

    def translate_document(self, text: str) -> list[Pair]:
        """Segment ``text`` (as ``segment`` does), translate every segment and score each translation."""
        from .score import score_pair

        segments = segment(text, self.max_words)
        hypotheses = self._loaded().translate([s.text for s in segments])
        return [Pair(s.text, h.text, s.start, s.end, s.sentence, s.part,
                     _as_score(s.text, h.text, score_pair(s.text, h.text, logprob=h.logprob, flags=h.flags)))
                for s, h in zip(segments, hypotheses)]

    def close(self) -> None:
        """Free the model (a closed Translator refuses further work)."""
        self._engine = None

    def __enter__(self) -> "Translator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# -- alignment --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bead:
    """Arabic sentences and the English sentences that translate them (1-1, 1-2, 2-1...; one side is
    empty for a sentence with no counterpart), with their indices and the estimated probability that
    the link is right (``score``, 0 for an unmatched sentence)."""

    arabic: tuple[str, ...]
    english: tuple[str, ...]
    arabic_index: tuple[int, ...]
    english_index: tuple[int, ...]
    score: float


@dataclass(frozen=True)
class DocumentPair:
    """An Arabic document (its index in the input list), the English document that translates it, the
    match's margin (``score``: how far this pair stands above the documents' other candidates) and the
    sentence alignment."""

    arabic_index: int
    english_index: int
    score: float
    beads: list[Bead]


def align(arabic_text: str, english_text: str, translations: Sequence[str] | None = None, bridge: bool = True,
          *, presegmented: bool = False, model: str | os.PathLike | None = None, device: str = "cpu",
          translator: Translator | None = None) -> list[Bead]:
    """Align the sentences of an Arabic document with those of its English translation.

    ``translations``: a machine translation of each Arabic sentence (as ``segment(text, max_words=0)``
    or, with ``presegmented``, one per non-blank line), used as the bridge between the languages. Without
    them and with ``bridge``, the Arabic sentences are translated by ``translator`` or a Translator of
    ``model`` on ``device``; ``bridge=False`` aligns with the lexicon, numbers, names and lengths only
    (fast, no model). ``presegmented``: both texts hold one sentence per line.
    """
    from .align import AlignError, arabic_sentences, english_sentences
    from .align import align as align_sentences

    arabic = [s.text for s in arabic_sentences(arabic_text, presegmented)]
    english = english_sentences(english_text, presegmented)
    if translations is not None:
        mt = list(translations)
        if len(mt) != len(arabic):
            raise Error(f"translations: {len(mt)} lines, but the Arabic side has {len(arabic)} sentences")
    elif bridge:
        mt = _bridge(arabic, translator, model, device)
    else:
        mt = None
    try:
        beads = align_sentences(mt, english, arabic)
    except AlignError as exc:
        raise Error(str(exc)) from None
    return [Bead(tuple(arabic[i] for i in b.ar), tuple(english[j] for j in b.en), tuple(b.ar), tuple(b.en),
                 round(b.score, 4)) for b in beads]


def _bridge(arabic: list[str], translator: Translator | None, model, device: str) -> list[str]:
    if translator is not None:
        return translator.translate(arabic)
    with Translator(model, device) as own:
        return own.translate(arabic)


def align_documents(arabic_texts: Sequence[str], english_texts: Sequence[str], bridge: bool = True, *,
                    presegmented: bool = False, model: str | os.PathLike | None = None,
                    device: str = "cpu") -> list[DocumentPair]:
    """Find which English document translates which Arabic one (one to one; a document with no good
    counterpart is left out), then align the sentences of every pair as ``align`` does (one model
    loaded for all pairs). Pairs come best match first."""
    from .docalign import match_documents

    matches = match_documents(list(arabic_texts), list(english_texts))
    translator = Translator(model, device) if bridge and matches else None
    try:
        return [DocumentPair(a, e, round(margin, 4),
                             align(arabic_texts[a], english_texts[e], bridge=bridge, presegmented=presegmented,
                                   translator=translator))
                for a, e, margin in matches]
    finally:
        if translator is not None:
            translator.close()


# -- the store --------------------------------------------------------------------------------------
class Corpus:
    """A store of pairs (the SQLite file ``translate run``, ``align`` and ``import`` write), opened
    read-only by ``open_store``. Iterating gives every current pair; ``pairs`` and ``export`` filter as
    ``translate export`` does. Close it, or use it as a context manager."""

    def __init__(self, store):
        self._store = store

    def pairs(self, min_score: float | None = None, status: str | None = None, *, join_parts: bool = False,
              include_superseded: bool = False) -> Iterator[dict]:
        """Each pair as a dict with the fields of a JSONL export line (id, document, start, end, source,
        target, origin, model, status, score, label, signals...), in id order, streamed from the file.
        ``status``: pending, approved, edited or rejected; ``join_parts``: the parts of a sentence split by
        ``max_words`` as one pair; ``include_superseded``: also pairs of an older segmentation."""
        from .export import export_rows, pair_record

        self._check_status(status)
        for row in export_rows(self._store, min_score, status, join_parts, include_superseded):
            yield pair_record(row)

    def __iter__(self) -> Iterator[dict]:
        return self.pairs()

    def export(self, path: str | os.PathLike, format: str = "tmx", min_score: float | None = None,
               status: str | None = None, *, join_parts: bool = False, include_superseded: bool = False) -> int:
        """Write the pairs to ``path`` as ``tmx`` (TMX 1.4), ``jsonl`` or ``tsv``, exactly as
        ``translate export`` does; returns how many were written."""
        from .export import ExportError
        from .export import export as export_pairs

        self._check_status(status)
        try:
            return export_pairs(self._store, Path(path), format, min_score=min_score, status=status,
                                join_parts=join_parts, include_superseded=include_superseded)
        except ExportError as exc:
            raise Error(str(exc)) from None

    @staticmethod
    def _check_status(status: str | None) -> None:
        from .store import STATUSES

        if status is not None and status not in STATUSES:
            raise Error(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> "Corpus":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_store(path: str | os.PathLike) -> Corpus:
    """Open an existing store file read-only (it is never written, and may lie on read-only media)."""
    from .store import Store, StoreError

    try:
        return Corpus(Store(Path(path), create=False, readonly=True))
    except StoreError as exc:
        raise Error(str(exc)) from None


__all__ = ["Bead", "Corpus", "DocumentPair", "Error", "Pair", "Score", "Sentence", "Translator", "align",
           "align_documents", "open_store", "score", "score_batch", "segment"]
