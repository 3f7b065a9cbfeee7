"""Recipe for translate/data/zipf-en.tsv.gz and zipf-ar.tsv.gz: word-frequency tables from `wordfreq`.

    pip install 'wordfreq>=3.1'      # only this recipe needs it (the package is ~60 MB with every language)
    python tools/build_wordfreq.py [--min-zipf 2.0] [--output-dir translate/data]

Each table holds ``word<TAB>zipf`` (Zipf = log10 of occurrences per billion words, 2 decimals) for every
word of wordfreq's ``best`` list at or above ``--min-zipf``, keyed the way ``translate.score`` looks words
up: English lower-cased ASCII words (apostrophes kept); Arabic words normalised by
``translate.lexicon.normalize_arabic`` (forms that fold together have their frequencies summed). Tokens
that are not words of the language (numbers, emoji, other scripts) are left out. The scorer then needs
neither the package nor its data at run time, and a lookup is one dict access.

The word lists are wordfreq's data (CC BY-SA 4.0, Robyn Speer and contributors); see
translate/data/README.md. The output is deterministic for the same wordfreq version.
"""
from __future__ import annotations

import argparse
import gzip
import math
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from translate.lexicon import normalize_arabic  # noqa: E402

DATA = ROOT / "translate" / "data"
ENGLISH_KEY = re.compile(r"[a-z]+(?:'[a-z]+)?")
ARABIC_KEY = re.compile("[\u0621-\u064a\u0671-\u06d3]+")


def table(language: str, min_zipf: float, frequencies: dict[str, float] | None = None) -> dict[str, float]:
    """word -> Zipf frequency, folded to the scorer's keys; ``frequencies`` (word -> share of all words)
    defaults to wordfreq's ``best`` list for ``language``."""
    if frequencies is None:
        import wordfreq

        frequencies = wordfreq.get_frequency_dict(language, "best")
    folded: dict[str, float] = defaultdict(float)
    for word, freq in frequencies.items():
        if language == "en":
            key = word if ENGLISH_KEY.fullmatch(word) else None
        else:
            key = normalize_arabic(word)
            key = key if ARABIC_KEY.fullmatch(key) else None
        if key:
            folded[key] += freq
    zipf = {w: math.log10(f * 1e9) for w, f in folded.items()}
    return {w: z for w, z in zipf.items() if z >= min_zipf}


def write(path: Path, zipf: dict[str, float]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # no name and mtime=0 in the gzip header: identical bytes for every build of the same data
    with open(path, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as gz:
        for word, z in sorted(zipf.items(), key=lambda kv: (-round(kv[1], 2), kv[0])):
            gz.write(f"{word}\t{z:.2f}\n".encode("utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-zipf", type=float, default=2.0)
    parser.add_argument("--output-dir", type=Path, default=DATA)
    args = parser.parse_args()
    try:
        from importlib.metadata import version

        import wordfreq  # noqa: F401
    except ImportError:
        sys.exit("error: this recipe needs the wordfreq package: pip install 'wordfreq>=3.1'")
    for language in ("en", "ar"):
        zipf = table(language, args.min_zipf)
        path = args.output_dir / f"zipf-{language}.tsv.gz"
        write(path, zipf)
        print(f"{language}: {len(zipf)} words (Zipf >= {args.min_zipf:g}, wordfreq {version('wordfreq')}) -> {path}",
              file=sys.stderr)


if __name__ == "__main__":
    main()
