"""Word frequency from wordfreq's Zipf tables (translate/data/zipf-{en,ar}.tsv.gz)."""
from __future__ import annotations

import gzip
import re
from functools import lru_cache
from pathlib import Path

# -- word frequency -------------------------------------------------------------------------------
DATA_DIR = Path(__file__).resolve().parents[1] / "data"
ZIPF_UNKNOWN = 1.0          # Zipf given to a word absent from a table (the tables stop at Zipf 2)
RARE_ZIPF = 3.0             # below this a word counts as rare (about 1 in a million words)
ENGLISH_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
ARABIC_WORD = re.compile("[\u0621-\u064a\u0671-\u06d3]+")


@lru_cache(maxsize=2)
def zipf_table(language: str) -> dict[str, float]:
    """word -> Zipf frequency from translate/data/zipf-LANG.tsv.gz (wordfreq data, tools/build_wordfreq.py);
    an empty table when the file is missing, so the scorer still works without it."""
    path = DATA_DIR / f"zipf-{language}.tsv.gz"
    table: dict[str, float] = {}
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                word, _, value = line.rstrip("\n").partition("\t")
                table[word] = float(value)
    except (OSError, ValueError):
        return {}
    return table


# (unknown share, rare share, mean Zipf) of a typical FLORES dev sentence: neutral values for a text with
# no word to look up, or when a table is missing
NEUTRAL_FREQUENCY = {"en": (0.0, 0.03, 5.7), "ar": (0.0, 0.08, 4.9)}


def frequency(words: list[str], language: str) -> tuple[float, float, float]:
    """(share of words absent from the table, share of rare words, mean Zipf) of a word list."""
    table = zipf_table(language)
    if not words or not table:
        return NEUTRAL_FREQUENCY[language]
    zipf = [table.get(w, 0.0) for w in words]
    unknown = sum(1 for z in zipf if z == 0.0)
    rare = sum(1 for z in zipf if z < RARE_ZIPF)
    mean = sum(z or ZIPF_UNKNOWN for z in zipf) / len(zipf)
    return unknown / len(words), rare / len(words), mean
