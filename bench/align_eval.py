"""MT-bridged sentence alignment vs a length-only Gale–Church baseline, on perturbed FLORES dev documents.

    python bench/align_eval.py [--data ../shared/data] [--system opusmt] [--seed 13]

Each FLORES dev document (Arabic side vs the English reference, 1-1 by construction) is perturbed on
both sides independently at a fixed seed: 10% of sentences are merged with their next neighbour and 5%
are dropped. The bridge MT is one system's output for the Arabic lines, merged and dropped the same way
as the Arabic. Metric: precision / recall / F1 over *alignment links* — every (Arabic unit, English unit)
pair inside a predicted bead, against the gold links (units that share an original sentence); summed
over all documents. The same DP search is used for both methods; only the bead scores differ.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from translate.align import align, dynamic_align  # noqa: E402

MERGE_RATE, DROP_RATE = 0.10, 0.05


def perturb(count: int, rng: random.Random) -> list[list[int]]:
    """Units of original sentence indices: some merged with the next sentence, some dropped."""
    units: list[list[int]] = []
    i = 0
    while i < count:
        r = rng.random()
        if r < DROP_RATE:
            i += 1
        elif r < DROP_RATE + MERGE_RATE and i + 1 < count:
            units.append([i, i + 1])
            i += 2
        else:
            units.append([i])
            i += 1
    return units


def links(beads: list[tuple[list[int], list[int]]]) -> set[tuple[int, int]]:
    return {(a, e) for ar, en in beads for a in ar for e in en}


def gold_links(ar_units: list[list[int]], en_units: list[list[int]]) -> set[tuple[int, int]]:
    where = {}
    for j, unit in enumerate(en_units):
        for original in unit:
            where[original] = j
    return {(i, where[o]) for i, unit in enumerate(ar_units) for o in unit if o in where}


# -- Gale & Church (1993), length only ------------------------------------------------------------
GC_RATIO = math.exp(0.17)     # expected English chars per Arabic char (as translate.score)
GC_VARIANCE = 6.8             # Gale & Church's variance per character
GC_PRIOR = {(1, 1): 0.89, (1, 0): 0.0099, (0, 1): 0.0099, (2, 1): 0.089, (1, 2): 0.089, (2, 2): 0.011}


def gale_church(ar: list[str], en: list[str]) -> list[tuple[list[int], list[int]]]:
    ar_len = [len(s) for s in ar]
    en_len = [len(s) for s in en]

    def cost(i: int, di: int, j: int, dj: int) -> float:
        la, le = sum(ar_len[i:i + di]), sum(en_len[j:j + dj])
        mean = (la + le / GC_RATIO) / 2
        z = (GC_RATIO * la - le) / math.sqrt(max(mean, 1) * GC_VARIANCE)
        tail = max(1e-12, math.erfc(abs(z) / math.sqrt(2)))           # two-sided P(|Z| >= |z|)
        return math.log(GC_PRIOR[di, dj]) + math.log(tail)           # log-probability: higher is better

    path = dynamic_align(len(ar), len(en), cost, skip_gain=math.log(GC_PRIOR[1, 0]))
    return [(list(range(i, i + di)), list(range(j, j + dj))) for i, di, j, dj in path]


def prf(hits: int, predicted: int, gold: int) -> tuple[float, float, float]:
    p = hits / predicted if predicted else 0.0
    r = hits / gold if gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--system", default="opusmt", help="whose FLORES output is the bridge MT")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--mt-keep", type=float, default=1.0,
                        help="keep only this share of the bridge MT's words (simulates a weak bridge model)")
    parser.add_argument("--whole", action="store_true",
                        help="align all of FLORES dev as one long document (tests the banded search)")
    args = parser.parse_args()
    flores = args.data / "flores-dev"
    if not flores.is_dir():
        sys.exit(f"error: {flores}: FLORES dev data not found (pass --data)")
    mt_lines = (flores / f"flores-dev.{args.system}.en").read_text(encoding="utf-8").splitlines()
    docs = [json.loads(line) for line in (flores / "flores-dev.docs.jsonl").read_text(encoding="utf-8").splitlines()]
    if args.whole:
        docs = [{"ar": [a for d in docs for a in d["ar"]], "en": [e for d in docs for e in d["en"]], "first_line": 0}]
    rng = random.Random(args.seed)
    word_rng = random.Random(args.seed + 1)
    if args.mt_keep < 1:
        mt_lines = [" ".join(w for w in line.split() if word_rng.random() < args.mt_keep) for line in mt_lines]
    counts = {"ours": [0, 0, 0], "gale-church": [0, 0, 0]}   # hits, predicted, gold
    seconds = {"ours": 0.0, "gale-church": 0.0}
    sentences = 0
    for doc in docs:
        n = len(doc["ar"])
        mt = mt_lines[doc["first_line"]:doc["first_line"] + n]
        ar_units, en_units = perturb(n, rng), perturb(n, rng)
        ar = [" ".join(doc["ar"][o] for o in unit) for unit in ar_units]
        bridge = [" ".join(mt[o] for o in unit) for unit in ar_units]
        en = [" ".join(doc["en"][o] for o in unit) for unit in en_units]
        gold = gold_links(ar_units, en_units)
        sentences += n
        for method in counts:
            started = time.perf_counter()
            if method == "ours":
                beads = [(b.ar, b.en) for b in align(bridge, en, ar)]
            else:
                beads = gale_church(ar, en)
            seconds[method] += time.perf_counter() - started
            predicted = links(beads)
            counts[method][0] += len(predicted & gold)
            counts[method][1] += len(predicted)
            counts[method][2] += len(gold)
    print(f"FLORES dev: {len(docs)} document{'s' if len(docs) > 1 else ''}, {sentences} sentences; "
          f"merges {MERGE_RATE:.0%}, drops {DROP_RATE:.0%} per side (seed {args.seed}); bridge MT: {args.system}"
          f"{f' with only {args.mt_keep:.0%} of its words kept' if args.mt_keep < 1 else ''}")
    print("link-level scores over all documents:")
    f1 = {}
    for method, (hits, predicted, gold) in counts.items():
        p, r, f1[method] = prf(hits, predicted, gold)
        print(f"  {method:12s} precision {p:.4f}  recall {r:.4f}  F1 {f1[method]:.4f}  ({seconds[method]:.2f} s)")
    error_ratio = (1 - f1["ours"]) / (1 - f1["gale-church"]) if f1["gale-church"] < 1 else float("nan")
    print(f"link errors (1 - F1) relative to Gale-Church: {error_ratio:.3f}")


if __name__ == "__main__":
    main()
