"""Build translate/data/bigram-en.tsv.gz, the English word-bigram counts of the scorer's fluency signal.

    python tools/build_fluency_lm.py [--data ../shared/data] [--min-count 1]

From the English side of OPUS Tatoeba ar-en (tatoeba-train, CC-BY 2.0 FR) and of UD Arabic PUD (CC BY-SA
3.0): no FLORES text (its reference is what the quality bench measures against). One line per bigram,
``previous<TAB>word<TAB>count``, sorted, bigrams seen fewer than ``--min-count`` times left out (they add
size, not evidence); words as ``translate.scoring.fluency.fluency_words`` makes them, each line opening
with ``<s>``. The output is deterministic for the same input.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from translate.scoring.fluency import MODEL_FILE, START, fluency_words  # noqa: E402


def english_lines(data: Path) -> list[str]:
    tatoeba = data / "tatoeba-train" / "Tatoeba.ar-en.en"
    pud = data / "ud-arabic-pud" / "ar_pud_parallel.tsv"
    for path in (tatoeba, pud):
        if not path.is_file():
            sys.exit(f"error: {path}: missing (see --data)")
    lines = tatoeba.read_text(encoding="utf-8").splitlines()
    with pud.open(encoding="utf-8", newline="") as f:
        lines += [row["en"] for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--min-count", type=int, default=1)
    parser.add_argument("--out", type=Path, default=MODEL_FILE)
    args = parser.parse_args()
    counts: Counter = Counter()
    lines = english_lines(args.data)
    for line in lines:
        words = fluency_words(line)
        counts.update(zip([START, *words[:-1]], words))
    kept = sorted((pair, n) for pair, n in counts.items() if n >= args.min_count)
    with gzip.GzipFile(args.out, "wb", mtime=0) as raw:
        raw.write("".join(f"{p}\t{w}\t{n}\n" for (p, w), n in kept).encode("utf-8"))
    print(f"{len(lines)} lines, {len(counts)} bigrams, {len(kept)} kept (count >= {args.min_count}) -> {args.out} "
          f"({args.out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
