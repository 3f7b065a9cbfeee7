"""Recipe for translate/data/lexicon.tsv.gz: IBM Model 1 EM over the Tatoeba ar-en training pairs.

    python tools/build_lexicon.py [--data ../shared/data] [--output translate/data/lexicon.tsv.gz]

Both directions are trained (t(en|ar) with an Arabic NULL word, t(ar|en) with an English NULL word) on
normalised stems from ``translate.lexicon``; entries below ``--min-prob`` in both directions are dropped
and each word keeps its ``--top`` best translations, which keeps the file small. Only tatoeba-train is
used, so FLORES and UD PUD stay clean for evaluation. The output is deterministic for the same input.
"""
from __future__ import annotations

import argparse
import gzip
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from translate.lexicon import LEXICON_FILE, arabic_tokens, english_tokens  # noqa: E402

NULL = "<null>"


def read_pairs(data: Path) -> list[tuple[list[str], list[str]]]:
    ar_path = data / "tatoeba-train" / "Tatoeba.ar-en.ar"
    en_path = data / "tatoeba-train" / "Tatoeba.ar-en.en"
    ar_lines = ar_path.read_text(encoding="utf-8").splitlines()
    en_lines = en_path.read_text(encoding="utf-8").splitlines()
    if len(ar_lines) != len(en_lines):
        sys.exit(f"error: {ar_path}: {len(ar_lines)} lines but {en_path} has {len(en_lines)}")
    pairs = []
    for ar, en in zip(ar_lines, en_lines):
        a, e = arabic_tokens(ar), english_tokens(en)
        if a and e:
            pairs.append((a, e))
    return pairs


def ibm1(pairs: list[tuple[list[str], list[str]]], iterations: int) -> dict[str, dict[str, float]]:
    """t(target | source) by EM, with a NULL source word; pairs are (source tokens, target tokens)."""
    # uniform start over co-occurring words
    t: dict[str, dict[str, float]] = defaultdict(dict)
    for src, tgt in pairs:
        for s in (NULL, *src):
            row = t[s]
            for w in tgt:
                row[w] = 1.0
    for _ in range(iterations):
        counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for src, tgt in pairs:
            sources = (NULL, *src)
            rows = [t[s] for s in sources]
            for w in tgt:
                probs = [row[w] for row in rows]
                total = sum(probs)
                for s, p in zip(sources, probs):
                    counts[s][w] += p / total
        t = defaultdict(dict)
        for s, row in counts.items():
            total = sum(row.values())
            t[s] = {w: c / total for w, c in row.items()}
    return t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--output", type=Path, default=LEXICON_FILE)
    parser.add_argument("--iterations", type=int, default=6)
    parser.add_argument("--min-prob", type=float, default=0.02)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()

    pairs = read_pairs(args.data)
    print(f"{len(pairs)} sentence pairs", file=sys.stderr)
    forward = ibm1(pairs, args.iterations)                                 # t(en | ar)
    backward = ibm1([(e, a) for a, e in pairs], args.iterations)           # t(ar | en)

    def best(table):
        kept = {}
        for s, row in table.items():
            if s == NULL:
                continue
            ranked = sorted(row.items(), key=lambda kv: (-kv[1], kv[0]))[:args.top]
            kept[s] = {w: p for w, p in ranked if p >= args.min_prob}
        return kept

    fwd, bwd = best(forward), best(backward)
    entries: dict[tuple[str, str], list[float]] = {}
    for ar, row in fwd.items():
        for en, p in row.items():
            entries.setdefault((ar, en), [0.0, 0.0])[0] = p
    for en, row in bwd.items():
        for ar, p in row.items():
            entries.setdefault((ar, en), [0.0, 0.0])[1] = p
    args.output.parent.mkdir(parents=True, exist_ok=True)
    # no name and mtime=0 in the gzip header: identical bytes for every build of the same data
    with open(args.output, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as gz:
        for (ar, en), (p_en, p_ar) in sorted(entries.items()):
            gz.write(f"{ar}\t{en}\t{p_en:.3f}\t{p_ar:.3f}\n".encode("utf-8"))
    print(f"{len(entries)} entries ({len(fwd)} Arabic stems, {len(bwd)} English stems) -> {args.output}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
