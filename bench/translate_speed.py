"""Translation throughput: our `translate run` against the raw engine, per-sentence calls and transformers.

One run, the same source segments, the same weights and the same beam on every path:

  (a) our pipeline end to end (``pipeline.run`` in a subprocess on a text file, fresh store: segmentation,
      length-bucketed token batches, scoring and storing included); its peak RSS is read from the child;
  (b) raw ``ctranslate2.Translator.translate_batch`` on pre-tokenised input, token-budget batches, same
      threads: the engine's ceiling;
  (c) one ``translate_batch`` call per sentence (the Argos Translate pattern), same translator;
  (d) ``transformers`` fp32 ``generate`` in batches of 16 in input order, the same weights before conversion.

The model is an OPUS-MT-sized Marian transformer (6+6 layers, d_model 512, 8 heads, FFN 2048, 32k vocabulary)
with random weights (fixed seed), built in transformers, converted to int8 by CTranslate2's
TransformersConverter into a model dir in the project's contract, and cached under work/. Random weights
make output lengths arbitrary, so every path decodes exactly ``--output-tokens`` tokens per sentence
(min = max decoding length). Throughput is source words per second.

The CTranslate2 paths (a), (b) and (c) decode with a vocabulary map (``translate models vmap``, see
translate/vocab_map.py) learnt from Tatoeba train + FLORES dev with the model's own SentencePiece, as a user
would build one for their text (FLORES dev is where the inputs come from, so the candidate lists are as long
as real ones for these sentences); ``--no-vmap`` measures without it, and (b-) always shows the raw engine
without it. (d) has no such option in transformers.

The inputs are FLORES-101 dev Arabic segments, cycled to ``--sentences`` lines with a line number in front
so that every line is distinct (deduplication cannot help path a).

  .venv/bin/python bench/translate_speed.py [--data-dir ../shared/data] [--sentences 2000] [--quick]
  .venv/bin/python bench/translate_speed.py --sentences 10000 --paths a   # peak RSS of (a) on 10k lines
  (--baseline-sentences N runs c and d on the first N sentences only, for slow shared machines)
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MODEL_DIR = REPO / "work" / "bench-marian-32k"           # int8 CTranslate2, our model-dir contract
HF_DIR = REPO / "work" / "bench-marian-32k-hf"           # the same weights as a transformers model
VOCAB_SIZE = 32000
SEED = 1234
BEAM = 4                      # the project's default beam (translate.translate.DEFAULT_BEAM), on every path
HF_BATCH = 16


class BenchError(Exception):
    """Missing data or an unusable model; one-line message."""


# -- model --------------------------------------------------------------------------------------------
def spm_training_lines(data_dir: Path) -> list[str]:
    files = [data_dir / "flores-dev" / "flores-dev.ar", data_dir / "flores-dev" / "flores-dev.en",
             data_dir / "tatoeba-train" / "Tatoeba.ar-en.ar", data_dir / "tatoeba-train" / "Tatoeba.ar-en.en"]
    lines = []
    for path in files:
        if not path.is_file():
            raise BenchError(f"{path}: training text not found (use --data-dir)")
        lines.extend(line for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return lines


def build_model(data_dir: Path, model_dir: Path = MODEL_DIR, hf_dir: Path = HF_DIR) -> Path:
    """Build (once) the random-weight Marian model: transformers dir hf_dir, int8 CTranslate2 dir model_dir."""
    if (model_dir / "manifest.json").is_file() and (hf_dir / "config.json").is_file():
        return model_dir
    import sentencepiece as spm
    import torch
    from ctranslate2.converters import TransformersConverter
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    print(f"building the bench model in {model_dir} (once)", file=sys.stderr)
    hf_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        # the text available trains a SentencePiece model of fewer than 32k pieces; the Marian vocabulary
        # is padded to 32k with unused tokens so that embeddings and output projection have OPUS-MT's size
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(spm_training_lines(data_dir)), model_prefix=f"{work}/spm",
            vocab_size=VOCAB_SIZE, model_type="unigram", character_coverage=1.0, hard_vocab_limit=False,
            minloglevel=2)
        spm_path = Path(work) / "spm.model"
        processor = spm.SentencePieceProcessor(model_file=str(spm_path))
        pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
        pieces = [p for p in pieces if p not in ("<unk>", "<s>", "</s>")]
        filler = [f"<unused{i}>" for i in range(VOCAB_SIZE - 3 - len(pieces))]
        tokens = ["</s>", "<unk>", *pieces, *filler, "<pad>"]      # OPUS-MT order: pad last
        vocab_json = Path(work) / "vocab.json"
        vocab_json.write_text(json.dumps({t: i for i, t in enumerate(tokens)}, ensure_ascii=False), encoding="utf-8")
        tokenizer = MarianTokenizer(str(spm_path), str(spm_path), str(vocab_json), source_lang="ar", target_lang="en")
        tokenizer.save_pretrained(str(hf_dir))
    pad = VOCAB_SIZE - 1
    config = MarianConfig(
        vocab_size=VOCAB_SIZE, d_model=512, encoder_layers=6, decoder_layers=6, encoder_attention_heads=8,
        decoder_attention_heads=8, encoder_ffn_dim=2048, decoder_ffn_dim=2048, activation_function="swish",
        max_position_embeddings=512, pad_token_id=pad, eos_token_id=0, decoder_start_token_id=pad,
        forced_eos_token_id=0, scale_embedding=True, share_encoder_decoder_embeddings=True)
    torch.manual_seed(SEED)
    model = MarianMTModel(config).eval()
    model.save_pretrained(str(hf_dir))
    TransformersConverter(str(hf_dir)).convert(str(model_dir), quantization="int8", force=True)
    for name in ("source.spm", "target.spm"):
        (model_dir / name).write_bytes((hf_dir / name).read_bytes())
    ct2_config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    manifest = {
        "name": "bench-marian-32k", "source_lang": "ar", "target_lang": "en", "format": "ctranslate2",
        "quantization": "int8", "source_prefix": [],
        # the Marian tokenizer ends every source with </s>; CTranslate2 adds it itself when add_source_eos
        "source_suffix": [] if ct2_config.get("add_source_eos") else ["</s>"],
        "target_prefix": [], "quality_rank": 0, "demo": True, "origin": "bench/translate_speed.py (random weights)",
        "license": "none (random weights)",
        "weights_sha256": hashlib.sha256((model_dir / "model.bin").read_bytes()).hexdigest(),
    }
    (model_dir / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return model_dir


# -- inputs -------------------------------------------------------------------------------------------
def build_vocabulary_map(data_dir: Path, model_dir: Path) -> None:
    """The bench model's vmap.txt, rebuilt every run with the project's own builder."""
    from translate import vocab_map
    from translate.models import resolve_model

    pairs = [(data_dir / "tatoeba-train" / "Tatoeba.ar-en.ar", data_dir / "tatoeba-train" / "Tatoeba.ar-en.en"),
             (data_dir / "flores-dev" / "flores-dev.ar", data_dir / "flores-dev" / "flores-dev.en")]
    sides: tuple[list[str], list[str]] = ([], [])
    for pair in pairs:
        for side, path in zip(sides, pair):
            if not path.is_file():
                raise BenchError(f"{path}: parallel text for the vocabulary map not found (use --data-dir)")
            side.extend(path.read_text(encoding="utf-8").splitlines())
    summary = vocab_map.build(resolve_model(str(model_dir)), *sides,
                              corpus=(" + ".join(str(p[0]) for p in pairs), " + ".join(str(p[1]) for p in pairs)))
    print(f"vocabulary map: {summary.pairs} pairs, {summary.always} tokens always allowed, {summary.keys} source "
          f"tokens with {summary.mean_candidates:.1f} candidates each", flush=True)


def bench_lines(data_dir: Path, count: int) -> list[str]:
    """``count`` distinct Arabic lines, each exactly one segment for our segmenter: FLORES dev sentences,
    cycled, each with its line number in front."""
    from translate.pipeline import iter_segments
    from translate.segment import DEFAULT_MAX_WORDS

    path = data_dir / "flores-dev" / "flores-dev.ar"
    if not path.is_file():
        raise BenchError(f"{path}: FLORES dev Arabic not found (use --data-dir)")
    sentences = [seg.text for line in path.read_text(encoding="utf-8").splitlines()
                 for seg in iter_segments(line)]
    # the number adds a word: keep sentences that cannot reach the clause-splitting limit with it
    sentences = [s for s in sentences if len(s.split()) < DEFAULT_MAX_WORDS - 1]
    lines = [f"{i + 1} {sentences[i % len(sentences)]}" for i in range(count)]
    if [seg.text for seg in iter_segments("\n".join(lines))] != lines or len(set(lines)) != count:
        raise BenchError(f"{path}: the numbered lines do not segment one sentence per line")
    return lines


# -- the four paths -----------------------------------------------------------------------------------
def child_pipeline(args: argparse.Namespace) -> None:
    """(a), in its own process: the project's pipeline on a text file with a fresh store; prints JSON."""
    from translate import pipeline
    from translate.models import resolve_model
    from translate.store import Store
    from translate.translate import Engine

    engine = Engine(resolve_model(str(args.model_dir)), beam=args.beam, threads=args.threads,
                    inter_threads=args.inter_threads, fixed_output_length=args.output_tokens,
                    vocabulary_map=args.vmap)
    with Store(args.db) as store:
        summary = pipeline.run([args.child_a], store, engine)
    print(json.dumps({"seconds": summary.seconds, "words": summary.words, "segments": summary.segments,
                      "translated": summary.translated, "reused": summary.reused, "threads": engine.threads}))


def run_pipeline_path(args: argparse.Namespace, lines: list[str], work: Path) -> dict:
    """(a) in a subprocess; returns its figures and its peak RSS (from wait4, this child only)."""
    source = work / "bench.txt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    command = [sys.executable, str(Path(__file__).resolve()), "--child-a", str(source),
               "--db", str(work / "bench.sqlite"), "--model-dir", str(args.model_dir),
               "--beam", str(args.beam), "--threads", str(args.threads),
               "--inter-threads", str(args.inter_threads), "--output-tokens", str(args.output_tokens),
               "--vmap" if args.vmap else "--no-vmap"]
    errors = work / "child.err"
    with open(errors, "wb") as err:
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, cwd=REPO)
        stdout = child.stdout.read()
        child.stdout.close()
        _, status, usage = os.wait4(child.pid, 0)      # reaps the child: its own rusage, peak RSS included
    if os.waitstatus_to_exitcode(status) != 0:
        last = errors.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:]
        raise BenchError(f"pipeline child failed: {last}")
    figures = json.loads(stdout.decode().strip().splitlines()[-1])
    figures["peak_rss_mb"] = usage.ru_maxrss / 1024          # Linux reports KiB
    return figures


def tokenized_inputs(model_dir: Path, lines: list[str]) -> list[list[str]]:
    """Source pieces exactly as the engine builds them (manifest prefix/suffix)."""
    import sentencepiece as spm

    manifest = json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))
    sp = spm.SentencePieceProcessor(model_file=str(model_dir / "source.spm"))
    return [manifest["source_prefix"] + sp.encode(line, out_type=str) + manifest["source_suffix"] for line in lines]


def run_raw_paths(args: argparse.Namespace, tokens: list[list[str]], threads: tuple[int, int],
                  baseline: int) -> dict[str, float]:
    """(b) one token-budget translate_batch call, (b-) the same without the vocabulary map and (c) one call
    per sentence (the first ``baseline`` sentences); seconds of each."""
    import ctranslate2

    from translate.translate import BATCH_TOKENS

    translator = ctranslate2.Translator(str(args.model_dir), device="cpu", compute_type="int8",
                                        inter_threads=threads[0], intra_threads=threads[1])
    options = dict(beam_size=args.beam, min_decoding_length=args.output_tokens,
                   max_decoding_length=args.output_tokens, max_input_length=0)
    seconds = {}
    for key, use_vmap in (("b", args.vmap), ("b-", False)) if args.vmap else (("b", False),):
        start = time.perf_counter()
        results = translator.translate_batch(tokens, max_batch_size=BATCH_TOKENS, batch_type="tokens",
                                             use_vmap=use_vmap, **options)
        seconds[key] = time.perf_counter() - start
        lengths = {len(r.hypotheses[0]) for r in results}
        if lengths != {args.output_tokens}:
            raise BenchError(f"CTranslate2 output lengths {sorted(lengths)[:5]} are not all {args.output_tokens}")
    options["use_vmap"] = args.vmap
    if "c" in args.paths:
        start = time.perf_counter()
        for sentence in tokens[:baseline]:
            translator.translate_batch([sentence], **options)
        seconds["c"] = time.perf_counter() - start
    return seconds


def run_transformers_path(args: argparse.Namespace, tokens: list[list[str]], threads: int) -> float:
    """(d) transformers fp32 generate, batches of 16 in input order, the same token ids; seconds."""
    import torch
    from transformers import MarianMTModel

    torch.set_num_threads(threads)
    vocab = json.loads((HF_DIR / "vocab.json").read_text(encoding="utf-8"))
    model = MarianMTModel.from_pretrained(str(HF_DIR)).eval()
    pad = model.config.pad_token_id
    ids = [[vocab.get(t, vocab["<unk>"]) for t in sentence] for sentence in tokens]
    start = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(ids), HF_BATCH):
            batch = ids[i:i + HF_BATCH]
            width = max(len(s) for s in batch)
            input_ids = torch.tensor([s + [pad] * (width - len(s)) for s in batch])
            mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in batch])
            out = model.generate(input_ids=input_ids, attention_mask=mask, num_beams=args.beam, do_sample=False,
                                 min_new_tokens=args.output_tokens, max_new_tokens=args.output_tokens)
            if out.shape[1] != args.output_tokens + 1:          # + the decoder start token
                raise BenchError(f"transformers produced {out.shape[1] - 1} tokens, not {args.output_tokens}")
    return time.perf_counter() - start


# -- main -----------------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--paths", default="abcd", help="which paths to run (a: ours, b: raw batch, "
                        "c: per sentence, d: transformers); e.g. --sentences 10000 --paths a for memory")
    parser.add_argument("--baseline-sentences", type=int, default=0,
                        help="run (c) and (d) on the first N of the same sentences only (0: all); their "
                        "words/s are measured on those N (for slow, shared machines)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 20 sentences, 8 output tokens")
    parser.add_argument("--beam", type=int, default=BEAM)
    parser.add_argument("--output-tokens", type=int, default=32, help="decoded tokens per sentence, every path")
    parser.add_argument("--threads", type=int, default=0, help="total threads (0: every core)")
    parser.add_argument("--vmap", action=argparse.BooleanOptionalAction, default=True,
                        help="decode (a), (b), (c) with the vocabulary map (default) or not")
    parser.add_argument("--inter-threads", type=int, default=0, help="engine replicas (0: the engine's default)")
    parser.add_argument("--model-dir", type=Path, default=MODEL_DIR, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-a", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    try:
        if args.child_a:
            child_pipeline(args)
            return 0
        from translate.translate import default_threads, split_threads

        args.threads = args.threads or default_threads()
        threads = ((args.inter_threads, max(1, args.threads // args.inter_threads)) if args.inter_threads
                   else split_threads(args.threads, "cpu"))
        if args.quick:
            args.sentences, args.output_tokens = min(args.sentences, 20), min(args.output_tokens, 8)
        build_model(args.data_dir)
        if args.vmap:
            build_vocabulary_map(args.data_dir, args.model_dir)
        lines = bench_lines(args.data_dir, args.sentences)
        words = sum(len(line.split()) for line in lines)
        print(f"{len(lines)} distinct sentences, {words} source words; beam {args.beam}; {args.output_tokens} "
              f"output tokens each; threads {args.threads} (inter {threads[0]} x intra {threads[1]}); "
              f"model {args.model_dir.name} (6+6 layers, d512, 32k vocab, int8 / fp32)", flush=True)
        seconds: dict[str, float] = {}
        figures = None
        if "a" in args.paths:
            with tempfile.TemporaryDirectory() as work:
                figures = run_pipeline_path(args, lines, Path(work))
            if figures["words"] != words or figures["translated"] != len(lines):
                raise BenchError(f"pipeline stored {figures['words']} words / translated {figures['translated']}"
                                 f" segments, expected {words} / {len(lines)}")
            seconds["a"] = figures["seconds"]
            print(f"  (a) done: {seconds['a']:.1f} s, peak RSS {figures['peak_rss_mb']:.0f} MB", flush=True)
        tokens = tokenized_inputs(args.model_dir, lines)
        baseline = args.baseline_sentences or len(lines)
        # words and sentences each path translated
        done = {"a": (words, len(lines)), "b": (words, len(lines)), "b-": (words, len(lines)),
                "c": (sum(len(line.split()) for line in lines[:baseline]), len(lines[:baseline]))}
        done["d"] = done["c"]
        if "b" in args.paths or "c" in args.paths:
            seconds.update(run_raw_paths(args, tokens, threads, baseline))
            print(f"  (b)/(c) done: {seconds}", flush=True)
        if "d" in args.paths:
            seconds["d"] = run_transformers_path(args, tokens[:baseline], args.threads)
        names = {"a": "translate run (pipeline, store, scores)", "b": "ctranslate2 translate_batch, token batches",
                 "b-": "the same without the vocabulary map",
                "c": "ctranslate2 translate_batch per sentence", "d": f"transformers fp32 generate, batch {HF_BATCH}"}
        print(f"{'path':<46}{'seconds':>9}{'words/s':>10}{'sent/s':>9}   vocabulary map: "
              f"{'on' if args.vmap else 'off'}")
        for key in ("a", "b", "b-", "c", "d"):
            if key in seconds:
                print(f"{'(' + key + ')':<5}{names[key]:<41}{seconds[key]:>9.1f}{done[key][0] / seconds[key]:>10.1f}"
                      f"{done[key][1] / seconds[key]:>9.1f}   ({done[key][1]} sentences)")
        rates = {k: done[k][0] / s for k, s in seconds.items()}
        ratios = [f"a/{k} = {rates['a'] / rates[k]:.2f}" for k in ("d", "c", "b", "b-") if "a" in rates and k in rates]
        if ratios:
            print("ratios: " + ", ".join(ratios) + "   (goals: a/d >= 4, a/c >= 2, a/b >= 0.9)")
        if figures:
            print(f"peak RSS of (a) on {len(lines)} sentences: {figures['peak_rss_mb']:.0f} MB"
                  f"   (goal on 10,000: <= 1536 MB)")
        return 0
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
