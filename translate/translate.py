"""Machine translation with a CTranslate2 model and its SentencePiece models.

Length limits are set deliberately so that no text is lost silently: a source longer than the model's
input limit is translated in consecutive token windows (flagged ``source_windows`` > 1), and an output
that reaches the decoding limit is flagged ``hit_max_length``.

Throughput: a list of texts goes to the engine in one ``translate_batch`` call per length class (the
class sets the decoding limit) with a token budget (``batch_type="tokens"``); CTranslate2 sorts the
windows by length, cuts them into batches of about ``max_batch_tokens`` source tokens (little padding),
spreads the batches over its ``inter_threads`` replicas, and returns the results in input order.
``submit`` returns at once (the engine works in its own threads, without the GIL), so the caller can
tokenise, score and store other texts meanwhile: the pipeline uses that to keep tokenisation off the
engine's critical path.
"""
from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import ctranslate2
import sentencepiece as spm

from . import vocab_map
from .models import ModelInfo

DEFAULT_BEAM = 4               # beam 4 is the usual quality/speed trade-off for Marian/OPUS-MT models
MAX_SOURCE_TOKENS = 256        # longer sources are cut into windows of this many pieces (no truncation)
MAX_POSITIONS = 512            # position encodings of a Marian/OPUS-MT model unless its manifest says otherwise
# token budget of one engine batch (source tokens; the beam multiplies the rows): large enough for
# efficient matrix products, small enough that the decoder caches of one batch stay in the low hundreds
# of MB with beam 4 (see bench/translate_speed.py)
BATCH_TOKENS = 2048
GPU_BATCH_TOKENS = 8192        # a GPU needs larger batches to be busy (untested: no GPU was available)
MIN_BATCH_TOKENS = 256         # below this, splitting a small request over replicas costs more than it gains


class TranslateError(Exception):
    """A model or device that cannot be used; one-line message."""


@dataclass
class Hypothesis:
    text: str
    logprob: float                       # mean log-probability per output token
    source_tokens: int
    target_tokens: int
    flags: dict = field(default_factory=dict)   # source_windows, hit_max_length, empty_output


def default_threads() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def split_threads(threads: int, device: str) -> tuple[int, int]:
    """(inter_threads, intra_threads) for a total thread count.

    On the CPU one replica per 4 cores keeps each matrix product efficient while several batches run at
    once; small machines get a single replica using every core. A GPU gets one replica.
    """
    if device == "cuda":
        return 1, max(1, threads)
    inter = max(1, threads // 4)
    return inter, max(1, threads // inter)


class PendingTranslations:
    """Texts queued on the engine; ``results()`` waits for them and returns one Hypothesis per text."""

    def __init__(self, engine: "Engine", tokenized: list[list[list[str]]], futures: list, limits: list[int]):
        self._engine = engine
        self._tokenized = tokenized
        self._futures = futures          # one per window, in input order
        self._limits = limits            # the decoding limit of each window

    def done(self) -> bool:
        """Whether every translation is ready (``results()`` would not wait)."""
        return all(future.done() for future in self._futures)

    def results(self) -> list[Hypothesis]:
        return list(self._engine._collect(self._tokenized, self._futures, self._limits))


class Engine:
    def __init__(self, model: ModelInfo, device: str = "cpu", threads: int = 0, beam: int = DEFAULT_BEAM,
                 compute_type: str | None = None, max_batch_tokens: int = 0,
                 inter_threads: int = 0, fixed_output_length: int = 0, vocabulary_map: bool | None = None):
        """``threads``: total CPU threads (0: every core), split by ``split_threads`` unless
        ``inter_threads`` (replicas) is given. ``max_batch_tokens``: source tokens per engine batch (0: the
        device's default). ``vocabulary_map``: decode with the model's ``vmap.txt`` target shortlist
        (see vocab_map.py); None: when the model has one. ``fixed_output_length`` (benchmarks only): decode exactly this
        many tokens for every window, so that random-weight models give comparable work on every path."""
        if device not in ("cpu", "cuda"):
            raise TranslateError(f"unknown device {device!r}: use cpu or cuda")
        if device == "cuda" and ctranslate2.get_cuda_device_count() == 0:
            raise TranslateError("--device cuda: no CUDA GPU is visible to CTranslate2 on this machine; use --device cpu")
        if beam < 1:
            raise TranslateError(f"beam size must be at least 1 (got {beam})")
        if compute_type is None:
            compute_type = "int8_float16" if device == "cuda" else "int8"
        threads = threads or default_threads()
        if inter_threads:
            inter = min(inter_threads, threads) if device == "cpu" else inter_threads
            intra = max(1, threads // inter)
        else:
            inter, intra = split_threads(threads, device)
        self.model = model
        self.beam = beam
        self.max_batch_tokens = max_batch_tokens or (GPU_BATCH_TOKENS if device == "cuda" else BATCH_TOKENS)
        self.fixed_output_length = fixed_output_length
        manifest = model.manifest
        self.source_prefix = list(manifest.get("source_prefix", []))
        self.source_suffix = list(manifest.get("source_suffix", []))
        self.target_prefix = list(manifest.get("target_prefix", []))
        # neither a source window nor an output may run past the model's position encodings; a window
        # of half the positions leaves room for an English output longer than its Arabic source
        self.max_positions = int(manifest.get("max_positions", MAX_POSITIONS))
        self.max_source_tokens = min(int(manifest.get("max_source_tokens", MAX_SOURCE_TOKENS)),
                                     self.max_positions // 2)
        try:
            self.sp_source = spm.SentencePieceProcessor(model_file=str(model.path / "source.spm"))
            self.sp_target = spm.SentencePieceProcessor(model_file=str(model.path / "target.spm"))
            # an unbounded queue: otherwise queuing a chunk of many batches blocks the caller until the
            # engine has worked most of it off, and the caller could not prepare the next chunk meanwhile
            self.translator = ctranslate2.Translator(str(model.path), device=device, compute_type=compute_type,
                                                     inter_threads=inter, intra_threads=intra,
                                                     max_queued_batches=-1)
        except (OSError, RuntimeError, ValueError) as exc:
            raise TranslateError(f"{model.path}: cannot load model ({str(exc).splitlines()[0]})") from None
        self.device, self.compute_type, self.threads = device, compute_type, (inter, intra)
        has_map = (model.path / vocab_map.FILE_NAME).is_file()
        if vocabulary_map and not has_map:
            raise TranslateError(f"{model.path}: no {vocab_map.FILE_NAME}; build one with "
                                 f"`translate models vmap {model.name} --source FILE --target FILE`")
        self.vocabulary_map = has_map if vocabulary_map is None else vocabulary_map
        problem = vocab_map.usable(model) if self.vocabulary_map else None
        if problem:
            raise TranslateError(f"{problem}; remove {model.path / vocab_map.FILE_NAME} or pass --no-vmap")

    def tokenize(self, text: str) -> list[list[str]]:
        """Source pieces in windows of at most max_source_tokens, each with the model's prefix/suffix."""
        pieces = self.sp_source.encode(text, out_type=str)
        size = self.max_source_tokens - len(self.source_prefix) - len(self.source_suffix)
        windows = [pieces[i:i + size] for i in range(0, len(pieces), size)] or [[]]
        return [self.source_prefix + w + self.source_suffix for w in windows]

    def translate(self, texts: list[str]) -> list[Hypothesis]:
        """One Hypothesis per text, in the order given."""
        return self.submit(texts).results()

    def submit(self, texts: list[str]) -> PendingTranslations:
        """Tokenise ``texts`` and queue them on the engine; returns without waiting for the translations."""
        return self.submit_tokenized([self.tokenize(t) for t in texts])

    def submit_tokenized(self, tokenized: list[list[list[str]]]) -> PendingTranslations:
        """Queue texts already cut into windows by ``tokenize``."""
        flat = [w for windows in tokenized for w in windows]
        limits = [self.decoding_limit(len(w)) for w in flat]
        futures: list = [None] * len(flat)
        # one engine call per decoding limit: a window's limit, hence its translation, does not depend
        # on the other texts it happens to be queued with
        by_limit: dict[int, list[int]] = {}
        for i, limit in enumerate(limits):
            by_limit.setdefault(limit, []).append(i)
        for limit, indices in sorted(by_limit.items()):
            windows = [flat[i] for i in indices]
            results = self.translator.translate_batch(
                windows, target_prefix=[self.target_prefix] * len(windows) if self.target_prefix else None,
                max_batch_size=self._batch_budget(windows), batch_type="tokens", beam_size=self.beam,
                return_scores=True, max_input_length=0, use_vmap=self.vocabulary_map,
                min_decoding_length=limit if self.fixed_output_length else 1, max_decoding_length=limit,
                asynchronous=True)
            for i, result in zip(indices, results):
                futures[i] = result
        return PendingTranslations(self, tokenized, futures, limits)

    def decoding_limit(self, window_tokens: int) -> int:
        """Most tokens decoded for a window of this many source tokens (exactly this many with
        ``fixed_output_length``). It grows with the source so long inputs are not cut, and any output that
        still reaches it is flagged; windows are grouped in powers of two so that few engine calls are made."""
        if self.fixed_output_length:
            return self.fixed_output_length
        group = 16
        while group < window_tokens:
            group *= 2
        return min(int(group * 2.5) + 10, self.max_positions - 1)

    def _batch_budget(self, flat: list[list[str]]) -> int:
        """Token budget per batch: max_batch_tokens, but small requests are split so every replica gets
        a share (one batch runs on one replica)."""
        replicas = self.threads[0]
        if replicas == 1:
            return self.max_batch_tokens
        total = sum(len(w) for w in flat)
        return min(self.max_batch_tokens, max(MIN_BATCH_TOKENS, math.ceil(total / replicas)))

    def _collect(self, tokenized: list[list[list[str]]], futures: list, limits: list[int]) -> Iterator[Hypothesis]:
        i = 0
        for windows in tokenized:
            texts, logprob_sum, target_tokens, hit_max = [], 0.0, 0, False
            source_tokens = 0
            for window in windows:
                result = futures[i].result()
                i += 1
                tokens = result.hypotheses[0]
                if self.target_prefix and tokens[:len(self.target_prefix)] == self.target_prefix:
                    tokens = tokens[len(self.target_prefix):]
                texts.append(self.sp_target.decode(tokens))
                n = max(1, len(tokens))
                logprob_sum += result.scores[0] * n
                target_tokens += len(tokens)
                source_tokens += len(window) - len(self.source_prefix) - len(self.source_suffix)
                # a forced output length is the caller's choice, not a sign of cut-off output
                hit_max = hit_max or (not self.fixed_output_length and len(result.hypotheses[0]) >= limits[i - 1])
            text = " ".join(t for t in texts if t)
            flags = {"source_windows": len(windows), "hit_max_length": hit_max, "empty_output": not text.strip()}
            yield Hypothesis(text, logprob_sum / max(1, target_tokens), source_tokens, target_tokens, flags)
