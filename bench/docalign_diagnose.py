"""Why document alignment errs on a synthetic archive: every wrong pair and every missed true pair of
``bench/docalign_scale.py``'s archive, classified.

    python bench/docalign_diagnose.py [--kind news] [--size 10000] [--seed 7] [--examples 3]

Missed true pairs (Arabic document a, its English e):
- ``not a candidate``: e is not among a's candidates nor a among e's (candidate generation lost it);
- ``taken by a wrong pair``: a or e went into a wrong pair (assignment, or a rival's higher confidence);
- ``below threshold``: a candidate, both documents left free, its confidence (first round) too low.
Wrong pairs (a, e'):
- ``orphan matched``: a has no English in the archive;
- ``near copy``: a has its English e, but e' (another document's English) was preferred; the share of
  sentences the two documents have in common says how alike they are (1.0: the same sentences, which
  no aligner can tell apart).
For each, the share of sentences the documents involved have in common is summarised, so that errors
between near copies (which an archive built from a small pool of sentences produces) are told from
errors between documents that differ.
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from docalign_scale import Archive, Pools, lexicon_for, sentence_overlap  # noqa: E402

from translate import docalign  # noqa: E402


def bands(values: list[float]) -> str:
    if not values:
        return "-"
    edges = ((0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 0.999), (0.999, 1.01))
    counts = [sum(lo <= v < hi for v in values) for lo, hi in edges]
    return ", ".join(f"{lo:.2f}-{min(hi, 1):.2f}: {c}" for (lo, hi), c in zip(edges, counts) if c)


def diagnose(data: Path, kind: str, size: int, seed: int, examples: int) -> None:
    pools = Pools(data)
    archive = Archive(pools, kind, size, seed)
    with lexicon_for(kind):
        indexed = docalign.index_documents(archive.texts("ar"), archive.texts("en"))
        found = docalign.find_candidates(indexed)
        pairs = docalign.match_indexed(indexed)
    confidence = docalign.confidence_of(docalign.pair_features(found, indexed))
    first_round = {(int(a), int(e)): float(c) for a, e, c in zip(found.ar, found.en, confidence)}
    truth = archive.truth                                   # Arabic index -> English index
    ar_doc, en_doc = archive.ar_order, archive.en_order     # index -> archive document
    made_ar = {p.ar: p for p in pairs}
    made_en = {p.en: p for p in pairs}
    wrong = [p for p in pairs if truth.get(p.ar) != p.en]
    right = len(pairs) - len(wrong)
    print(f"{kind} {size:,} a side, seed {seed}: {len(pairs):,} pairs, {right:,} right, {len(wrong):,} wrong, "
          f"{len(truth) - right:,} of {len(truth):,} true pairs missed; "
          f"{len(found.ar):,} candidate pairs ({len(found.ar) / size:.1f} per Arabic document)")

    print("\nwrong pairs:")
    orphans = [p for p in wrong if p.ar not in truth]
    copies = [p for p in wrong if p.ar in truth]
    print(f"  orphan matched: {len(orphans)}; overlap with the English's own document: "
          f"{bands([sentence_overlap(archive, ar_doc[p.ar], en_doc[p.en]) for p in orphans])}")
    print(f"  near copy preferred: {len(copies)}; overlap of the two documents: "
          f"{bands([sentence_overlap(archive, ar_doc[p.ar], en_doc[p.en]) for p in copies])}")
    in_candidates = sum((p.ar, truth[p.ar]) in first_round for p in copies)
    print(f"    the true English was a candidate for {in_candidates} of them")

    print("\nmissed true pairs:")
    reasons: dict[str, list[tuple[int, int]]] = {"not a candidate": [], "taken by a wrong pair": [],
                                                 "below threshold": []}
    for a, e in truth.items():
        made = made_ar.get(a)
        if made is not None and made.en == e:
            continue
        if (a, e) not in first_round:
            reasons["not a candidate"].append((a, e))
        elif a in made_ar or e in made_en:
            reasons["taken by a wrong pair"].append((a, e))
        else:
            reasons["below threshold"].append((a, e))
    for reason, missed in reasons.items():
        print(f"  {reason}: {len(missed)}")
    below = [first_round[k] for k in reasons["below threshold"]]
    if below:
        print(f"    first-round confidence: median {np.median(below):.3f}; "
              + ", ".join(f">= {t}: {sum(c >= t for c in below)}" for t in (0.5, 0.8, 0.9)))
        # how alike is the strongest rival of each missed pair (the best other candidate of either side)?
        rivals = []
        by_ar: dict[int, list[tuple[float, int]]] = {}
        by_en: dict[int, list[tuple[float, int]]] = {}
        for (a, e), c in first_round.items():
            by_ar.setdefault(a, []).append((c, e))
            by_en.setdefault(e, []).append((c, a))
        for a, e in reasons["below threshold"]:
            others = [(c, en_doc[x]) for c, x in by_ar.get(a, []) if x != e]
            others += [(c, ar_doc[x]) for c, x in by_en.get(e, []) if x != a]
            if others:
                rivals.append(sentence_overlap(archive, ar_doc[a], max(others)[1]))
        print(f"    overlap with the strongest rival document: {bands(rivals)}")
    text_ar = list(archive.texts("ar"))
    text_en = list(archive.texts("en"))
    rng = random.Random(seed)
    for p in rng.sample(copies, min(examples, len(copies))):
        print(f"\nexample wrong pair (confidence {p.confidence:.3f}, overlap "
              f"{sentence_overlap(archive, ar_doc[p.ar], en_doc[p.en]):.2f}):\n  AR true English:\n    "
              + text_en[truth[p.ar]].replace("\n", "\n    ")[:600] + "\n  chosen English:\n    "
              + text_en[p.en].replace("\n", "\n    ")[:600])
    del text_ar


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--kind", default="news", choices=("news", "weak", "short"))
    parser.add_argument("--size", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--examples", type=int, default=2)
    args = parser.parse_args()
    if not (args.data / "flores-dev").is_dir():
        sys.exit(f"error: {args.data}: FLORES dev data not found (pass --data)")
    diagnose(args.data, args.kind, args.size, args.seed, args.examples)


if __name__ == "__main__":
    main()
