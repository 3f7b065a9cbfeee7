"""BLEU/chrF and speed of a model dir on tatoeba-dev: int8 against float32 of the same weights.

Translates exactly as the project does at runtime (source pieces + manifest source_suffix, beam 4) and
prints a table with the int8/float32 ratios. --update-manifest writes the scores into manifest.json.

  .venv/bin/python bench/demo_model_eval.py [--model-dir models/demo-ar-en-tatoeba] [--data-dir ../shared/data]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class EvalError(Exception):
    """Missing or unusable model/data; one-line message."""


def read_dev(data_dir: Path) -> tuple[list[str], list[str]]:
    src_path = data_dir / "tatoeba-dev" / "tatoeba-dev.ara"
    ref_path = data_dir / "tatoeba-dev" / "tatoeba-dev.eng"
    for path in (src_path, ref_path):
        if not path.is_file():
            raise EvalError(f"{path}: evaluation file not found (use --data-dir)")
    src = src_path.read_text(encoding="utf-8").splitlines()
    ref = ref_path.read_text(encoding="utf-8").splitlines()
    if len(src) != len(ref):
        raise EvalError(f"{src_path}: {len(src)} lines but {ref_path.name} has {len(ref)}")
    return src, ref


def translate_all(model_dir: Path, sources: list[str], compute_type: str, beam: int, threads: int):
    """(hypotheses, seconds) translating every source with the runtime's tokenisation conventions."""
    import ctranslate2
    import sentencepiece as spm
    manifest = json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))
    sp_source = spm.SentencePieceProcessor(model_file=str(model_dir / "source.spm"))
    sp_target = spm.SentencePieceProcessor(model_file=str(model_dir / "target.spm"))
    translator = ctranslate2.Translator(str(model_dir), device="cpu", compute_type=compute_type,
                                        inter_threads=1, intra_threads=threads)
    prefix, suffix = manifest.get("source_prefix", []), manifest.get("source_suffix", [])
    target_prefix = manifest.get("target_prefix", [])
    start = time.perf_counter()
    batch = [prefix + sp_source.encode(s, out_type=str) + suffix for s in sources]
    results = translator.translate_batch(
        batch, target_prefix=[target_prefix] * len(batch) if target_prefix else None, beam_size=beam,
        max_batch_size=2048, batch_type="tokens", return_scores=True, max_decoding_length=128)
    hyps = []
    for r in results:
        tokens = r.hypotheses[0]
        if target_prefix and tokens[:len(target_prefix)] == target_prefix:
            tokens = tokens[len(target_prefix):]
        hyps.append(sp_target.decode(tokens))
    return hyps, time.perf_counter() - start


def evaluate(model_dir: Path, data_dir: Path, beam: int = 4, threads: int = 2) -> dict:
    import sacrebleu
    if not (model_dir / "model.bin").is_file():
        raise EvalError(f"{model_dir}: no model.bin (not a CTranslate2 model dir)")
    sources, refs = read_dev(data_dir)
    source_words = sum(len(s.split()) for s in sources)
    scores = {"dev_set": f"tatoeba-dev ({len(sources)} pairs)", "beam": beam}
    for compute_type in ("float32", "int8"):
        hyps, seconds = translate_all(model_dir, sources, compute_type, beam, threads)
        scores[compute_type] = {
            "bleu": round(sacrebleu.corpus_bleu(hyps, [refs]).score, 2),
            "chrf": round(sacrebleu.corpus_chrf(hyps, [refs]).score, 2),
            "words_per_s": round(source_words / seconds, 1),
        }
    scores["sacrebleu"] = sacrebleu.__version__
    return scores


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-dir", type=Path, default=REPO / "models" / "demo-ar-en-tatoeba")
    ap.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--beam", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--update-manifest", action="store_true", help="write the scores into the model's manifest.json")
    args = ap.parse_args(argv)
    try:
        scores = evaluate(args.model_dir, args.data_dir, args.beam, args.threads)
    except EvalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    f32, i8 = scores["float32"], scores["int8"]
    print(f"{args.model_dir.name} on {scores['dev_set']}, beam {args.beam}, {args.threads} threads")
    print(f"{'compute':<10}{'BLEU':>8}{'chrF':>8}{'words/s':>10}")
    for name, row in (("float32", f32), ("int8", i8)):
        print(f"{name:<10}{row['bleu']:>8.2f}{row['chrf']:>8.2f}{row['words_per_s']:>10.1f}")
    print(f"{'int8-f32':<10}{i8['bleu'] - f32['bleu']:>+8.2f}{i8['chrf'] - f32['chrf']:>+8.2f}"
          f"{i8['words_per_s'] / f32['words_per_s']:>9.2f}x")
    if args.update_manifest:
        path = args.model_dir / "manifest.json"
        manifest = json.loads(path.read_text(encoding="utf-8"))
        manifest["scores"] = scores
        path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"scores written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
