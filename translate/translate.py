"""Machine translation with a CTranslate2 model and its SentencePiece models.

Length limits are set deliberately so that no text is lost silently: a source longer than the model's
input limit is translated in consecutive token windows (flagged ``source_windows`` > 1), and an output
that reaches the decoding limit is flagged ``hit_max_length``.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import ctranslate2
import sentencepiece as spm

from .models import ModelInfo

DEFAULT_BEAM = 4               # beam 4 is the usual quality/speed trade-off for Marian/OPUS-MT models
MAX_SOURCE_TOKENS = 256        # longer sources are cut into windows of this many pieces (no truncation)
BATCH_TOKENS = 4096            # token budget of one engine batch (batch_type="tokens")


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


class Engine:
    def __init__(self, model: ModelInfo, device: str = "cpu", threads: int = 0, beam: int = DEFAULT_BEAM,
                 compute_type: str | None = None, max_batch_tokens: int = BATCH_TOKENS):
        if device not in ("cpu", "cuda"):
            raise TranslateError(f"unknown device {device!r}: use cpu or cuda")
        if device == "cuda" and ctranslate2.get_cuda_device_count() == 0:
            raise TranslateError("--device cuda: no CUDA GPU is visible to CTranslate2 on this machine; use --device cpu")
        if compute_type is None:
            compute_type = "int8_float16" if device == "cuda" else "int8"
        threads = threads or default_threads()
        inter, intra = split_threads(threads, device)
        self.model = model
        self.beam = beam
        self.max_batch_tokens = max_batch_tokens
        manifest = model.manifest
        self.source_prefix = list(manifest.get("source_prefix", []))
        self.source_suffix = list(manifest.get("source_suffix", []))
        self.target_prefix = list(manifest.get("target_prefix", []))
        self.max_source_tokens = int(manifest.get("max_source_tokens", MAX_SOURCE_TOKENS))
        try:
            self.sp_source = spm.SentencePieceProcessor(model_file=str(model.path / "source.spm"))
            self.sp_target = spm.SentencePieceProcessor(model_file=str(model.path / "target.spm"))
            self.translator = ctranslate2.Translator(str(model.path), device=device, compute_type=compute_type,
                                                     inter_threads=inter, intra_threads=intra)
        except (OSError, RuntimeError, ValueError) as exc:
            raise TranslateError(f"{model.path}: cannot load model ({str(exc).splitlines()[0]})") from None
        self.device, self.compute_type, self.threads = device, compute_type, (inter, intra)

    def tokenize(self, text: str) -> list[list[str]]:
        """Source pieces in windows of at most max_source_tokens, each with the model's prefix/suffix."""
        pieces = self.sp_source.encode(text, out_type=str)
        size = self.max_source_tokens - len(self.source_prefix) - len(self.source_suffix)
        windows = [pieces[i:i + size] for i in range(0, len(pieces), size)] or [[]]
        return [self.source_prefix + w + self.source_suffix for w in windows]

    def translate(self, texts: list[str]) -> list[Hypothesis]:
        return list(self.translate_tokenized([self.tokenize(t) for t in texts]))

    def translate_tokenized(self, tokenized: list[list[list[str]]]) -> Iterator[Hypothesis]:
        return self._collect(tokenized, self._submit(tokenized))

    def translate_stream(self, texts: Iterator[list[str]]) -> Iterator[list[Hypothesis]]:
        """Translate chunks of texts; the next chunk is tokenised while the engine works on this one."""
        pending = None
        for chunk in texts:
            tokenized = [self.tokenize(t) for t in chunk]
            submitted = (tokenized, self._submit(tokenized))
            if pending is not None:
                yield list(self._collect(*pending))
            pending = submitted
        if pending is not None:
            yield list(self._collect(*pending))

    def _submit(self, tokenized: list[list[list[str]]]):
        flat = [w for windows in tokenized for w in windows]
        if not flat:
            return [], 0
        # the decoding limit scales with the longest window so long inputs are not cut, and any output
        # that still reaches it is flagged
        max_decoding = max(16, int(max(len(w) for w in flat) * 2.5) + 10)
        return self.translator.translate_batch(
            flat, target_prefix=[self.target_prefix] * len(flat) if self.target_prefix else None,
            max_batch_size=self.max_batch_tokens, batch_type="tokens", beam_size=self.beam,
            return_scores=True, max_input_length=0, max_decoding_length=max_decoding,
            asynchronous=True), max_decoding

    def _collect(self, tokenized, submitted) -> Iterator[Hypothesis]:
        results, max_decoding = submitted
        i = 0
        for windows in tokenized:
            texts, logprob_sum, target_tokens, hit_max = [], 0.0, 0, False
            source_tokens = 0
            for window in windows:
                result = results[i].result()
                i += 1
                tokens = result.hypotheses[0]
                if self.target_prefix and tokens[:len(self.target_prefix)] == self.target_prefix:
                    tokens = tokens[len(self.target_prefix):]
                texts.append(self.sp_target.decode(tokens))
                n = max(1, len(tokens))
                logprob_sum += result.scores[0] * n
                target_tokens += len(tokens)
                source_tokens += len(window) - len(self.source_prefix) - len(self.source_suffix)
                hit_max = hit_max or len(result.hypotheses[0]) >= max_decoding
            text = " ".join(t for t in texts if t)
            flags = {"source_windows": len(windows), "hit_max_length": hit_max, "empty_output": not text.strip()}
            yield Hypothesis(text, logprob_sum / max(1, target_tokens), source_tokens, target_tokens, flags)
