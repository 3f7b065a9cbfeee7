"""Recipe for the lexicon tables in translate/data/: IBM Model 1 EM over parallel text and a dictionary.

    python tools/build_lexicon.py [--data ../shared/data] [--freedict DIR]

Two tables, kept apart because their licences differ (see translate/data/README.md):

* ``lexicon.tsv.gz`` from parallel sentences: the Tatoeba ar-en training pairs (CC-BY 2.0 FR) and the
  1,000 UD Arabic PUD sentences with their English (CC BY-SA 3.0), so the table is CC BY-SA 3.0;
* ``lexicon-freedict.tsv.gz`` from the FreeDict Arabic-English dictionary (GPL-2+), one pair per
  headword and gloss, trained together with the Tatoeba pairs (the sentences give the dictionary's
  glosses their weights; trained apart, the dictionary table scored slightly worse on FLORES dev), so
  it is GPL-2+. UD PUD (CC BY-SA 3.0) stays out of it: the two share-alike licences cannot be
  combined. ``DIR`` holds ``freedict-ara-eng.index`` and ``freedict-ara-eng.dict.dz``:
  ``/usr/share/dictd`` after ``apt-get install dict-freedict-ara-eng``, or ``x/usr/share/dictd`` after
  ``apt-get download dict-freedict-ara-eng && dpkg-deb -x dict-freedict-ara-eng_*.deb x``. Without it,
  only the first table is rebuilt.

``translate.lexicon.load_lexicon`` merges both. Each is trained in both directions (t(en|ar) with an
Arabic NULL word, t(ar|en) with an English NULL word) on normalised stems from ``translate.lexicon``;
entries below ``--min-prob`` in both directions are dropped and each word keeps its ``--top`` best
translations, which keeps the files small. FLORES stays clean for evaluation. The output is
deterministic for the same input.
"""
from __future__ import annotations

import argparse
import gzip
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from translate.lexicon import FREEDICT_LEXICON_FILE, LEXICON_FILE, arabic_tokens, english_tokens  # noqa: E402

NULL = "<null>"
DICTD_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def tokenised(pairs) -> list[tuple[list[str], list[str]]]:
    """(Arabic stems, English stems) of each text pair; pairs with an empty side are dropped."""
    out = []
    for ar, en in pairs:
        a, e = arabic_tokens(ar), english_tokens(en)
        if a and e:
            out.append((a, e))
    return out


def read_pairs(data: Path, pud: bool = True) -> list[tuple[list[str], list[str]]]:
    """Tatoeba train and (with ``pud``) UD Arabic PUD sentence pairs, tokenised."""
    ar_path = data / "tatoeba-train" / "Tatoeba.ar-en.ar"
    en_path = data / "tatoeba-train" / "Tatoeba.ar-en.en"
    ar_lines = ar_path.read_text(encoding="utf-8").splitlines()
    en_lines = en_path.read_text(encoding="utf-8").splitlines()
    if len(ar_lines) != len(en_lines):
        sys.exit(f"error: {ar_path}: {len(ar_lines)} lines but {en_path} has {len(en_lines)}")
    pairs = list(zip(ar_lines, en_lines))
    if not pud:
        return tokenised(pairs)
    pud_path = data / "ud-arabic-pud" / "ar_pud_parallel.tsv"
    for number, line in enumerate(pud_path.read_text(encoding="utf-8").splitlines()[1:], 2):
        fields = line.split("\t")
        if len(fields) != 3:
            sys.exit(f"error: {pud_path}: line {number}: expected 3 tab-separated fields (sent_id, ar, en)")
        pairs.append((fields[1], fields[2]))
    return tokenised(pairs)


def _dictd_number(text: str) -> int:
    value = 0
    for char in text:
        value = value * 64 + DICTD_ALPHABET.index(char)
    return value


def read_freedict(directory: Path) -> list[tuple[list[str], list[str]]]:
    """(headword, gloss) pairs of the FreeDict ara-eng dictd files, one per gloss, tokenised.

    An entry reads ``HEADWORD /ipa/`` then either one gloss line or numbered ``N. gloss`` lines."""
    index_path, dict_path = directory / "freedict-ara-eng.index", directory / "freedict-ara-eng.dict.dz"
    try:
        body = gzip.open(dict_path).read()           # dictzip is gzip with a seek table
        index = index_path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        sys.exit(f"error: {directory}: cannot read the FreeDict ara-eng dictd files ({exc})")
    pairs = []
    for line in index:
        headword, offset, length = line.split("\t")
        if headword.startswith("00database"):
            continue
        start = _dictd_number(offset)
        lines = body[start:start + _dictd_number(length)].decode("utf-8").strip().splitlines()
        if len(lines) < 2:
            continue
        arabic = lines[0].split(" /")[0]
        for gloss in lines[1:]:
            pairs.append((arabic, re.sub(r"^\d+\.\s*", "", gloss.strip())))
    return tokenised(pairs)


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


def build(pairs: list[tuple[list[str], list[str]]], output: Path, iterations: int, min_prob: float,
          top: int) -> None:
    """Train both directions on ``pairs`` and write the merged table to ``output``."""
    forward = ibm1(pairs, iterations)                                 # t(en | ar)
    backward = ibm1([(e, a) for a, e in pairs], iterations)           # t(ar | en)

    def best(table):
        kept = {}
        for s, row in table.items():
            if s == NULL:
                continue
            ranked = sorted(row.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
            kept[s] = {w: p for w, p in ranked if p >= min_prob}
        return kept

    fwd, bwd = best(forward), best(backward)
    entries: dict[tuple[str, str], list[float]] = {}
    for ar, row in fwd.items():
        for en, p in row.items():
            entries.setdefault((ar, en), [0.0, 0.0])[0] = p
    for en, row in bwd.items():
        for ar, p in row.items():
            entries.setdefault((ar, en), [0.0, 0.0])[1] = p
    output.parent.mkdir(parents=True, exist_ok=True)
    # no name and mtime=0 in the gzip header: identical bytes for every build of the same data
    with open(output, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as gz:
        for (ar, en), (p_en, p_ar) in sorted(entries.items()):
            gz.write(f"{ar}\t{en}\t{p_en:.3f}\t{p_ar:.3f}\n".encode("utf-8"))
    print(f"{len(entries)} entries ({len(fwd)} Arabic stems, {len(bwd)} English stems) -> {output}",
          file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--freedict", type=Path, help="folder of the FreeDict ara-eng dictd files")
    parser.add_argument("--output", type=Path, default=LEXICON_FILE)
    parser.add_argument("--freedict-output", type=Path, default=FREEDICT_LEXICON_FILE)
    parser.add_argument("--iterations", type=int, default=6)
    parser.add_argument("--min-prob", type=float, default=0.02)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()

    pairs = read_pairs(args.data)
    print(f"{len(pairs)} sentence pairs (Tatoeba train + UD Arabic PUD)", file=sys.stderr)
    build(pairs, args.output, args.iterations, args.min_prob, args.top)
    if args.freedict:
        glosses = read_freedict(args.freedict)
        print(f"{len(glosses)} FreeDict headword-gloss pairs (with Tatoeba train)", file=sys.stderr)
        build(read_pairs(args.data, pud=False) + glosses, args.freedict_output, args.iterations, args.min_prob,
              args.top)


if __name__ == "__main__":
    main()
