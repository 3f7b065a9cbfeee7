"""Document alignment at archive scale: time, peak memory, precision and recall of
``translate.docalign.match_documents`` on synthetic archives of 1,000 to 100,000 documents a side.

    python bench/docalign_scale.py [--data ../shared/data] [--sizes 1000,10000,100000] [--weak 1000,10000]
    python bench/docalign_scale.py --fit      # refit docalign.CALIBRATION (other seeds than the measure)
    python bench/docalign_scale.py --short    # documents of 1-2 sentences (news briefs)

Archives are built from open data that is not held out: FLORES dev articles (news; ``topic`` groups
them) and Tatoeba train sentence pairs (everyday sentences, in which a few names, Tom and Mary above
all, recur endlessly). ``news``: a document opens with a run of one to three consecutive sentences of
one FLORES article (every article leads many documents, so topics and names recur as stories do in an
archive) and is filled up with sentences of other articles of the same topic (25%) and Tatoeba sentences,
3 to 30 sentences in all (log-uniform: most documents are short; no sentence twice). With ~22,000 sentences to draw from,
the 100,000-document archive uses every sentence in dozens of documents: documents are told apart by
their combination of sentences, as agency copy reused across articles is; no two
documents have the same sentences. ``weak``: the evidence is
made weak on purpose: documents of 3 to 10 Tatoeba sentences that open alike (one of three formulaic
openings), aligned with a lexicon cut to 10% of its Arabic entries (a domain the lexicon barely
covers: most words become unknown). ``short``: news documents of one or two sentences.

The Arabic side has every document, the English side 80% of them (20% of the Arabic documents are
orphans), both in their own shuffled order; the matcher sees only the texts. Wrong pairs between near
copies (the two documents share at least NEAR_COPY of their sentences: the same story with a different
tail, which the small pool of open sentences makes far more common at 100,000 than a real archive would
have) are counted apart, as part of the wrong pairs, not excused. Texts are generated on the fly from
the seed and never held as a collection (the matcher reads them once). Each archive runs in its own
process, which reports its peak RSS (``ru_maxrss``); time is wall-clock of match_documents, text
generation included (measured alone too: ``texts s``). Growth exponent: log(time ratio) / log(size
ratio) between consecutive sizes of the same run.

``--fit``: logistic regressions of right (the candidate pair is the true pair), on its own evidence
first (PAIR_WEIGHTS), then on its contrasts on top of that score (CONTRAST_WEIGHTS, over the pairs that
have a contrast), then on its score against its rivals' (CALIBRATION), over every candidate pair of
a news archive of 5,000 documents, a weak one and a short one of 2,000 (seeds not used by the measure)
and UD PUD's real articles (RealArchive; they weigh REAL_WEIGHT times one synthetic archive); a third
(LATER_CALIBRATION) on the same features of the candidate pairs a first round of decisions leaves with
both documents free (the population later rounds decide among); prints them, the observed share of right pairs per confidence band and the right and wrong candidates above
several thresholds per archive.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import resource
import subprocess
import sys
import time
from collections import Counter
from contextlib import nullcontext
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from translate import docalign  # noqa: E402
from translate.align import using_lexicon  # noqa: E402
from translate.lexicon import Lexicon, load_lexicon  # noqa: E402

ORPHANS = 0.2
NEAR_COPY = 0.75     # documents sharing this share of their sentences are near copies (reported apart)
REAL_WEIGHT = 8.0    # the real articles count eight times as much as one synthetic archive in the fit
OPENINGS = [("بسم الله الرحمن الرحيم", "In the name of God, the Most Gracious, the Most Merciful."),
            ("السلام عليكم ورحمة الله وبركاته", "Peace be upon you, and the mercy of God and His blessings."),
            ("قال الراوي: حدثنا صاحبنا قال", "The narrator said: our companion told us, saying")]


class Pools:
    def __init__(self, data: Path):
        lines = (data / "flores-dev" / "flores-dev.docs.jsonl").read_text(encoding="utf-8").splitlines()
        self.articles = [json.loads(line) for line in lines]
        by_topic: dict[str, list[int]] = {}
        for k, article in enumerate(self.articles):
            by_topic.setdefault(article["topic"], []).append(k)
        self.same_topic = [by_topic[a["topic"]] for a in self.articles]
        train = data / "tatoeba-train"
        ar = (train / "Tatoeba.ar-en.ar").read_text(encoding="utf-8").splitlines()
        en = (train / "Tatoeba.ar-en.en").read_text(encoding="utf-8").splitlines()
        self.tatoeba = [(a, e) for a, e in zip(ar, en) if a.strip() and e.strip()]


def document_plan(pools: Pools, kind: str, rng: random.Random) -> list[tuple[int, int, int]]:
    """The sentences of one document: (pool, item, sentence) with pool 0 FLORES, 1 Tatoeba, 2 openings."""
    if kind == "weak":
        plan = [(2, rng.randrange(len(OPENINGS)), 0)]
        plan += [(1, rng.randrange(len(pools.tatoeba)), 0) for _ in range(rng.randint(2, 9))]
        return plan
    size = rng.randint(1, 2) if kind == "short" else round(math.exp(rng.uniform(math.log(3), math.log(30))))
    # the story: every FLORES article is the lead of many documents (hundreds at 100,000), so its names
    # and topic recur; a run of one to three of its sentences, the rest drawn from its topic and Tatoeba
    article = rng.randrange(len(pools.articles))
    sentences = pools.articles[article]["ar"]
    run = min(len(sentences), rng.randint(1, 3), size)
    start = rng.randrange(len(sentences) - run + 1)
    plan = [(0, article, s) for s in range(start, start + run)]
    while len(plan) < size:
        if rng.random() < 0.25:
            other = rng.choice(pools.same_topic[article])
            item = (0, other, rng.randrange(len(pools.articles[other]["ar"])))
        else:
            item = (1, rng.randrange(len(pools.tatoeba)), 0)
        if item not in plan:        # an article does not say the same sentence twice
            plan.append(item)
    return plan


def sentence(pools: Pools, item: tuple[int, int, int], side: str) -> str:
    pool, k, s = item
    if pool == 0:
        return pools.articles[k][side][s]
    pair = pools.tatoeba[k] if pool == 1 else OPENINGS[k]
    return pair[0] if side == "ar" else pair[1]


class Archive:
    """A synthetic archive: the plan of every document (small), the English kept and both orders."""

    def __init__(self, pools: Pools, kind: str, size: int, seed: int):
        rng = random.Random(seed)
        self.pools, self.kind = pools, kind
        # no two documents alike (an Arabic document and its exact copy cannot be told apart by any means)
        self.plans, seen = [], set()
        while len(self.plans) < size:
            plan = document_plan(pools, kind, rng)
            if tuple(sorted(plan)) not in seen:
                seen.add(tuple(sorted(plan)))
                self.plans.append(plan)
        self.ar_order = list(range(size))
        rng.shuffle(self.ar_order)
        kept = rng.sample(range(size), round(size * (1 - ORPHANS)))
        rng.shuffle(kept)
        self.en_order = kept
        position = {doc: a for a, doc in enumerate(self.ar_order)}
        self.truth = {position[doc]: e for e, doc in enumerate(kept)}     # Arabic index -> English index

    def texts(self, side: str):
        for doc in (self.ar_order if side == "ar" else self.en_order):
            yield "\n".join(sentence(self.pools, item, side) for item in self.plans[doc])


class RealArchive:
    """The documents of UD Arabic PUD as they are (397 news and Wikipedia articles of 1 to 5 sentences,
    grouped by sentence id), 20% of the English removed: real articles for the fit, which the synthetic
    archives are not. Aligned with a lexicon that has not seen PUD (the shipped one has)."""

    def __init__(self, data: Path, seed: int):
        rows = (data / "ud-arabic-pud" / "ar_pud_parallel.tsv").read_text(encoding="utf-8").splitlines()[1:]
        documents: dict[str, tuple[list[str], list[str]]] = {}
        for row in rows:
            sent_id, ar, en = row.split("\t")
            documents.setdefault(sent_id[:6], ([], []))
            documents[sent_id[:6]][0].append(ar)
            documents[sent_id[:6]][1].append(en)
        self.documents = list(documents.values())
        rng = random.Random(seed)
        size = len(self.documents)
        self.ar_order = list(range(size))
        rng.shuffle(self.ar_order)
        self.en_order = rng.sample(range(size), round(size * (1 - ORPHANS)))
        position = {doc: a for a, doc in enumerate(self.ar_order)}
        self.truth = {position[doc]: e for e, doc in enumerate(self.en_order)}

    def texts(self, side: str):
        for doc in (self.ar_order if side == "ar" else self.en_order):
            yield "\n".join(self.documents[doc][0 if side == "ar" else 1])


def sentence_overlap(archive: Archive, one: int, other: int) -> float:
    """Share of sentences two documents (archive ids) have in common, of the longer one."""
    a, b = Counter(archive.plans[one]), Counter(archive.plans[other])
    return sum((a & b).values()) / max(sum(a.values()), sum(b.values()))


def weak_lexicon(seed: int) -> Lexicon:
    """The shipped lexicon with 10% of its Arabic stems (and only their entries) kept."""
    full = load_lexicon()
    rng = random.Random(seed)
    kept = {ar for ar in sorted(full.forward) if rng.random() < 0.1}
    backward: dict[str, dict[str, float]] = {}
    for en, options in full.backward.items():
        chosen = {ar: p for ar, p in options.items() if ar in kept}
        if chosen:
            backward[en] = chosen
    return Lexicon({ar: full.forward[ar] for ar in kept}, backward)


def lexicon_for(kind: str, data: Path | None = None):
    if kind == "pud":
        from align_eval import fitting_lexicon      # bench/align_eval.py: Tatoeba-only recipe + FreeDict
        return using_lexicon(fitting_lexicon(data))
    return using_lexicon(weak_lexicon(1)) if kind == "weak" else nullcontext()


def measure_one(data: Path, kind: str, size: int, seed: int, threshold: float) -> dict:
    pools = Pools(data)
    archive = Archive(pools, kind, size, seed)
    started = time.perf_counter()
    for side in ("ar", "en"):
        for _ in archive.texts(side):
            pass
    generation = time.perf_counter() - started
    with lexicon_for(kind):
        started = time.perf_counter()
        pairs = docalign.match_documents(archive.texts("ar"), archive.texts("en"), threshold=threshold)
        seconds = time.perf_counter() - started
    right = sum(1 for p in pairs if archive.truth.get(p.ar) == p.en)
    # wrong pairs between near copies: the Arabic's document and the English's share most sentences
    near_copies = sum(1 for p in pairs if archive.truth.get(p.ar) != p.en
                      and sentence_overlap(archive, archive.ar_order[p.ar], archive.en_order[p.en]) >= NEAR_COPY)
    return {"kind": kind, "size": size, "seconds": round(seconds, 2), "texts_seconds": round(generation, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "pairs": len(pairs), "right": right, "wrong_near_copies": near_copies, "true_pairs": len(archive.truth),
            "precision": right / len(pairs) if pairs else 1.0, "recall": right / len(archive.truth),
            "mean_sentences": sum(map(len, archive.plans)) / size}


def run_child(data: Path, kind: str, size: int, seed: int, threshold: float) -> dict:
    out = subprocess.run([sys.executable, __file__, "--data", str(data), "--threshold", str(threshold),
                          "--one", kind, str(size), str(seed)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def logistic(x: np.ndarray, y: np.ndarray, weight: np.ndarray, l2: float = 1e-3,
             given: np.ndarray | float = 0.0, intercept: bool = True) -> np.ndarray:
    """Weights and offset of an L2-regularised, weighted logistic regression (Newton steps); ``given``:
    log-odds each example already has (its weights are fitted on top of them); without ``intercept``
    no offset is fitted (nor returned)."""
    design = np.c_[x, np.ones(len(x))] if intercept else x
    w = np.zeros(design.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(design @ w + given, -30, 30)))
        gradient = design.T @ (weight * (p - y)) + l2 * w
        hessian = design.T @ (design * (weight * p * (1 - p))[:, None]) + l2 * np.eye(len(w))
        w -= np.linalg.solve(hessian, gradient)
    return w


def fit(data: Path) -> None:
    pools = Pools(data)
    found, indexes, right, kinds = [], [], [], []
    for kind, seed, size in (("news", 1001, 5000), ("weak", 1002, 2000), ("short", 1003, 2000), ("pud", 1004, 0)):
        archive = RealArchive(data, seed) if kind == "pud" else Archive(pools, kind, size, seed)
        with lexicon_for(kind, data):
            indexed = docalign.index_documents(archive.texts("ar"), archive.texts("en"))
            candidates = docalign.find_candidates(indexed)
        found.append(candidates)
        indexes.append(indexed)
        right.append(np.array([archive.truth.get(int(a)) == int(e) for a, e in zip(candidates.ar, candidates.en)],
                              dtype=float))
        kinds.extend([kind] * len(candidates.ar))
    y, kinds = np.concatenate(right), np.array(kinds)
    # each archive weighs the same in the fit (the news archive has more candidates than the others)
    weight = np.zeros(len(y))
    for kind in set(kinds):
        share = len(y) / (len(set(kinds)) * (kinds == kind).sum())
        weight[kinds == kind] = share * (REAL_WEIGHT if kind == "pud" else 1.0)
    first = logistic(np.concatenate([docalign.pair_evidence(c) for c in found]), y, weight)
    docalign.confidence.PAIR_WEIGHTS = tuple(first)      # the stage module reads them
    docalign.confidence.CONTRAST_WEIGHTS = (0.0, 0.0)
    # the contrasts' weights, on top of the pair scores (the pairs that have a contrast)
    scores = np.concatenate([docalign.pair_scores(c) for c in found])
    contrasts = np.concatenate([docalign.contrasted_scores(c, indexed)[1] for c, indexed in zip(found, indexes)])
    contrasted = (contrasts != 0).any(axis=1)
    weights_of_contrast = logistic(contrasts[contrasted], y[contrasted], weight[contrasted],
                                   given=scores[contrasted], intercept=False)
    docalign.confidence.CONTRAST_WEIGHTS = tuple(weights_of_contrast)
    features = np.concatenate([docalign.pair_features(c, indexed) for c, indexed in zip(found, indexes)])
    rivalled = features[:, -1] == 0           # pairs alone keep their first-stage probability
    second = logistic(features[rivalled, :-1], y[rivalled], weight[rivalled])
    print(f"PAIR_WEIGHTS = ({', '.join(f'{v:.3f}' for v in first)})   # {docalign.PAIR_FEATURES} and offset")
    print(f"CONTRAST_WEIGHTS = ({', '.join(f'{v:.3f}' for v in weights_of_contrast)})   # en_contrast, ar_contrast "
          f"(added to the pair score; {int(contrasted.sum())} pairs with a contrast)")
    print(f"CALIBRATION = ({', '.join(f'{v:.3f}' for v in second)})   # {docalign.CALIBRATED_FEATURES} and offset; "
          f"{len(y)} candidate pairs, {int(y.sum())} right")
    docalign.confidence.CALIBRATION = tuple(second)
    # the pairs left free by a first round of decisions, with the confidence just fitted: their own
    # calibration (LATER_CALIBRATION), every pair of them included (alone or not)
    later_x, later_y, later_w = [], [], []
    start = 0
    for candidates, indexed in zip(found, indexes):
        part = slice(start, start + len(candidates.ar))
        start += len(candidates.ar)
        _, free = docalign.decide_round(indexed, candidates, np.zeros(len(candidates.ar)),
                                        docalign.CONFIDENCE_THRESHOLD)
        later_x.append(docalign.pair_features(candidates.subset(free), indexed)[:, :-1])
        later_y.append(y[part][free])
        later_w.append(weight[part][free])
    later_x, later_y, later_w = np.concatenate(later_x), np.concatenate(later_y), np.concatenate(later_w)
    third = logistic(later_x, later_y, later_w)
    docalign.confidence.LATER_CALIBRATION = tuple(third)
    print(f"LATER_CALIBRATION = ({', '.join(f'{v:.3f}' for v in third)})   # the same features, pairs left free "
          f"by a first round: {len(later_y)} candidate pairs, {int(later_y.sum())} right")
    later_confidence = docalign.confidence_of(np.c_[later_x, np.zeros(len(later_x))], later=True)
    for threshold in (0.9, 0.95, 0.98):
        above = later_confidence >= threshold
        print(f"  later rounds >= {threshold}: {int(later_y[above].sum())} right, {int((1 - later_y[above]).sum())} wrong")
    confidence = docalign.confidence_of(features)
    for lo, hi in ((0.5, 0.8), (0.8, 0.9), (0.9, 0.95), (0.95, 0.99), (0.99, 1.01)):
        band = (confidence >= lo) & (confidence < hi)
        if band.any():
            print(f"  confidence {lo:.2f}-{min(hi, 1):.2f}: {band.sum()} pairs, {y[band].mean():.3f} right")
    for kind in ("news", "weak", "short", "pud"):
        mine = kinds == kind
        for threshold in (0.5, 0.8, 0.9, 0.95, 0.98):
            above = mine & (confidence >= threshold)
            print(f"  {kind} >= {threshold}: {int(y[above].sum())} right, {int((1 - y[above]).sum())} wrong "
                  f"of {int(y[mine].sum())} right candidates")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--weak", default="1000,10000")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fit", action="store_true")
    parser.add_argument("--threshold", type=float, default=docalign.CONFIDENCE_THRESHOLD)
    parser.add_argument("--short", action="store_true", help="only the archive of 1-2 sentence documents")
    parser.add_argument("--one", nargs=3, metavar=("KIND", "SIZE", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not (args.data / "flores-dev").is_dir():
        sys.exit(f"error: {args.data}: FLORES dev data not found (pass --data)")
    if args.one:
        print(json.dumps(measure_one(args.data, args.one[0], int(args.one[1]), int(args.one[2]), args.threshold)))
        return
    if args.fit:
        fit(args.data)
        return
    runs = [("short", 1000)] if args.short else (
        [("news", int(n)) for n in args.sizes.split(",") if n] + [("weak", int(n)) for n in args.weak.split(",") if n])
    print(f"threshold {args.threshold}, k {docalign.CANDIDATES}, {ORPHANS:.0%} orphans, seed {args.seed}")
    previous: dict[str, dict] = {}
    for kind, size in runs:
        r = run_child(args.data, kind, size, args.seed, args.threshold)
        growth = ""
        if kind in previous:
            p = previous[kind]
            growth = (f"  growth exponent {math.log(r['seconds'] / p['seconds']) / math.log(size / p['size']):.2f}"
                      f" (time x{r['seconds'] / p['seconds']:.1f} for size x{size / p['size']:.0f})")
        previous[kind] = r
        print(f"{kind:5s} {size:>7,} a side ({r['mean_sentences']:.1f} sentences/doc): {r['seconds']:8.1f} s "
              f"(texts {r['texts_seconds']:.1f} s), peak RSS {r['peak_rss_mb']:,} MB, "
              f"{r['pairs']:,} pairs, precision {r['precision']:.4f}, recall {r['recall']:.4f} "
              f"({r['right']:,}/{r['true_pairs']:,}); wrong pairs between near copies "
              f"{r['wrong_near_copies']} of {r['pairs'] - r['right']}{growth}", flush=True)


if __name__ == "__main__":
    main()
