"""What a vocabulary map (translate/vocab_map.py) costs in quality and gains in speed, on a trained model.

The only trained Arabic->English model here is the bundled demo model. CTranslate2 cannot use a map with
it as shipped (its decoder starts from <pad>, see vocab_map.usable), so this script evaluates a copy whose
decoder starts from </s> instead: that copy loses a few BLEU on both sides of the comparison alike, and the
difference between them is the map's cost. The map is learnt from Tatoeba train with the default settings;
the test set is Tatoeba dev (1,000 pairs, beam 4, 2 threads, int8). Also printed: the share of the
reference's target tokens that are among a sentence's candidates (always-allowed tokens plus those of its
source tokens), on Tatoeba dev and on FLORES dev (news-like text the corpus does not cover well).

  .venv/bin/python bench/vocab_map_eval.py [--data-dir ../shared/data]
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def read_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise SystemExit(f"{path}: not found (use --data-dir)")
    return path.read_text(encoding="utf-8").splitlines()


def coverage(model_dir: Path, sources: list[str], references: list[str]) -> float:
    import sentencepiece as spm

    lines = (model_dir / "vmap.txt").read_text(encoding="utf-8").splitlines()
    always = set(lines[0][1:].split(" "))
    entries = {key: set(values.split(" ")) for key, values in (line.split("\t") for line in lines[1:])}
    sp_source = spm.SentencePieceProcessor(model_file=str(model_dir / "source.spm"))
    sp_target = spm.SentencePieceProcessor(model_file=str(model_dir / "target.spm"))
    covered = total = 0
    for source, reference in zip(sources, references):
        candidates = set(always)
        for token in sp_source.encode(source, out_type=str):
            candidates |= entries.get(token, set())
        pieces = sp_target.encode(reference, out_type=str)
        covered += sum(1 for p in pieces if p in candidates)
        total += len(pieces)
    return covered / max(1, total)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--beam", type=int, default=4)
    args = parser.parse_args()
    import sacrebleu

    from translate import vocab_map
    from translate.models import bundled_models, resolve_model
    from translate.translate import Engine

    demo = next((m for m in bundled_models() if m.name == "demo-ar-en-tatoeba"), None)
    if demo is None:
        raise SystemExit("the bundled demo model is missing")
    train = args.data_dir / "tatoeba-train"
    sources = read_lines(args.data_dir / "tatoeba-dev" / "tatoeba-dev.ara")
    references = read_lines(args.data_dir / "tatoeba-dev" / "tatoeba-dev.eng")
    flores_sources = read_lines(args.data_dir / "flores-dev" / "flores-dev.ar")
    flores_references = read_lines(args.data_dir / "flores-dev" / "flores-dev.en")
    with tempfile.TemporaryDirectory() as work:
        model_dir = Path(work) / "demo-eos-start"
        shutil.copytree(demo.path, model_dir)
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        config["decoder_start_token"] = config["eos_token"]
        (model_dir / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
        model = resolve_model(str(model_dir))
        corpus = (train / "Tatoeba.ar-en.ar", train / "Tatoeba.ar-en.en")
        summary = vocab_map.build(model, read_lines(corpus[0]), read_lines(corpus[1]), tuple(map(str, corpus)))
        print(f"map from Tatoeba train: {summary.pairs} pairs, {summary.always} tokens always allowed, "
              f"{summary.keys} source tokens with {summary.mean_candidates:.1f} candidates each "
              f"(target vocabulary {len(json.loads((model_dir / 'shared_vocabulary.json').read_text()))})")
        print(f"reference tokens among the candidates: Tatoeba dev {coverage(model_dir, sources, references):.2%}, "
              f"FLORES dev {coverage(model_dir, flores_sources, flores_references):.2%}")
        results = {}
        for use_map in (False, True, False, True):          # twice each, interleaved: the best time counts
            engine = Engine(model, beam=args.beam, threads=2, vocabulary_map=use_map)
            engine.translate(sources[:20])                   # warm-up
            start = time.perf_counter()
            hypotheses = [h.text for h in engine.translate(sources)]
            seconds = time.perf_counter() - start
            best = min(seconds, results.get(use_map, (None, float("inf")))[1])
            results[use_map] = (hypotheses, best)
    words = sum(len(s.split()) for s in sources)
    print(f"{'Tatoeba dev, beam ' + str(args.beam):<28}{'BLEU':>7}{'chrF':>7}{'words/s':>9}")
    for use_map, label in ((False, "without the map"), (True, "with the map")):
        hypotheses, seconds = results[use_map]
        bleu = sacrebleu.corpus_bleu(hypotheses, [references]).score
        chrf = sacrebleu.corpus_chrf(hypotheses, [references]).score
        print(f"{label:<28}{bleu:7.2f}{chrf:7.2f}{words / seconds:9.1f}")
    print(f"speed-up with the map: {results[False][1] / results[True][1]:.2f}x "
          f"(a 5k vocabulary; OPUS-MT's 32k+ gains more: bench/translate_speed.py)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
