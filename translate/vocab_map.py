"""Vocabulary maps (target shortlists) that make CPU decoding faster.

Most of a Marian decoder step on the CPU goes into the output layer: one dot product per target
token (32k or more for OPUS-MT) for every beam of every sentence. CTranslate2 can restrict that layer
to the tokens that can plausibly appear in the translations of the current batch (``use_vmap``),
read from ``vmap.txt`` in the model directory: one line per source token, ``source<TAB>target
candidates``, and a line with an empty key for the tokens that are always candidates.

``build`` learns such a map from a line-aligned parallel corpus, tokenised with the model's own
SentencePiece models: the ``always`` most frequent target tokens (plus the model's target prefix), and
for each source token up to ``per_token`` target tokens that co-occur with it in at least
``min_count`` sentence pairs, ranked by co-occurrence / sqrt(target frequency) so that common tokens
(already in the always list) do not crowd out the real translations. The map only narrows the
search: a sentence whose right translation needs a token outside its candidates is translated with a
near miss, so build it from text like the one you translate (see ``bench/vocab_map_eval.py`` for the
measured cost).
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sentencepiece as spm

from .models import ModelInfo

FILE_NAME = "vmap.txt"
DEFAULT_ALWAYS = 1500
DEFAULT_PER_TOKEN = 10
DEFAULT_MIN_COUNT = 2
DEFAULT_MAX_PAIRS = 200_000      # counting co-occurrences in Python takes about a minute per 100k pairs


class VocabMapError(Exception):
    """A corpus or model that cannot give a vocabulary map; one-line message naming the file."""


@dataclass
class VocabMapSummary:
    path: Path
    pairs: int
    keys: int
    always: int
    mean_candidates: float


def usable(model: ModelInfo) -> str | None:
    """Why CTranslate2 cannot decode this model with a vocabulary map, or None if it can.

    CTranslate2 4.x always keeps the unknown, start-of-sentence and end-of-sentence tokens as
    candidates; a model whose decoder starts from another token (the bundled demo model starts from
    <pad>) fails on the second batch with an index error, whatever the map holds.
    """
    try:
        config = json.loads((model.path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"{model.path / 'config.json'}: unreadable ({exc})"
    start = config.get("decoder_start_token")
    fixed = {config.get("bos_token"), config.get("eos_token"), config.get("unk_token")}
    if start is not None and start not in fixed:
        return (f"model {model.name} starts decoding from {start!r}, which CTranslate2 cannot keep among "
                f"a vocabulary map's candidates")
    return None


def build(model: ModelInfo, sources: list[str], targets: list[str], corpus: tuple[str, str],
          always: int = DEFAULT_ALWAYS, per_token: int = DEFAULT_PER_TOKEN, min_count: int = DEFAULT_MIN_COUNT,
          max_pairs: int = DEFAULT_MAX_PAIRS) -> VocabMapSummary:
    """Learn a vocabulary map from a parallel corpus (line-aligned ``sources`` and ``targets``, from the
    files ``corpus`` names) and install it in the model directory.

    The map file and the manifest are each replaced atomically; a failure leaves the model as it was.
    """
    if model.bundled:
        raise VocabMapError(f"model {model.name} is bundled with the package: import a copy "
                            f"(translate models import DIR --name NAME) and build the map for that")
    problem = usable(model)
    if problem:
        raise VocabMapError(problem)
    if always < 0 or per_token < 1 or min_count < 1 or max_pairs < 1:
        raise VocabMapError("--always must be >= 0, --per-token, --min-count and --max-pairs >= 1")
    source_file, target_file = corpus
    if len(sources) != len(targets):
        raise VocabMapError(f"{source_file}: {len(sources)} lines but {target_file} has {len(targets)}; "
                            f"the corpus must be line-aligned")
    pairs = [(s, t) for s, t in zip(sources, targets) if s.strip() and t.strip()][:max_pairs]
    if not pairs:
        raise VocabMapError(f"{source_file}: no non-empty sentence pairs")

    sp_source = spm.SentencePieceProcessor(model_file=str(model.path / "source.spm"))
    sp_target = spm.SentencePieceProcessor(model_file=str(model.path / "target.spm"))
    target_frequency: Counter = Counter()
    cooccurrence: dict[str, Counter] = defaultdict(Counter)
    for source, target in pairs:
        target_tokens = set(sp_target.encode(target, out_type=str))
        target_frequency.update(target_tokens)
        for token in set(sp_source.encode(source, out_type=str)):
            cooccurrence[token].update(target_tokens)

    fixed = list(dict.fromkeys(model.manifest.get("target_prefix", [])))
    fixed += [t for t, _ in target_frequency.most_common(always) if t not in fixed]
    fixed_set = set(fixed)
    lines = ["\t" + " ".join(fixed)]
    sizes = []
    for token in sorted(cooccurrence):
        counts = cooccurrence[token]
        ranked = sorted((t for t, n in counts.items() if n >= min_count and t not in fixed_set),
                        key=lambda t: (-counts[t] / math.sqrt(target_frequency[t]), t))[:per_token]
        if ranked and token.strip() and "\t" not in token:
            lines.append(token + "\t" + " ".join(ranked))
            sizes.append(len(ranked))
    path = model.path / FILE_NAME
    _write_atomic(path, "\n".join(lines) + "\n")
    manifest = dict(model.manifest)
    manifest["vocabulary_map"] = {
        "file": FILE_NAME, "source": source_file, "target": target_file, "pairs": len(pairs),
        "always": len(fixed), "per_token": per_token, "min_count": min_count, "keys": len(sizes),
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    _write_atomic(model.path / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    model.manifest.clear()
    model.manifest.update(manifest)
    return VocabMapSummary(path, len(pairs), len(sizes), len(fixed), sum(sizes) / max(1, len(sizes)))


def _write_atomic(path: Path, text: str) -> None:
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise VocabMapError(f"{path}: cannot write ({exc.strerror or exc})") from None
    finally:
        if tmp is not None and Path(tmp).exists():
            Path(tmp).unlink()
