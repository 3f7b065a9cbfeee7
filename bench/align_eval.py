"""Sentence and document alignment on perturbed FLORES dev news, with a weak and a strong MT bridge.

    python bench/align_eval.py [--data ../shared/data] [--system opusmt] [--articles 10] [--seed 13]
    python bench/align_eval.py --fit        # refit translate.align.WEIGHTS (on UD Arabic PUD), then measure

Sentence alignment: consecutive FLORES dev documents are joined into documents of ``--articles``
articles (Arabic side vs the English reference, 1-1 by construction); both sides are perturbed
independently at a fixed seed: 10% of sentences are merged with their next neighbour and 5% are
dropped. Bridges: the bundled demo model (``demo``: what every offline user has; its translations of
the Arabic are made here with ``translate.translate.Engine``, beam 4 as the CLI, and cached under
``work/``) and a given translation (``--system``, one of the FLORES system outputs; ``opusmt`` by
default), merged and dropped like the Arabic (the bridge of a merged unit is the MTs of its sentences
joined). Metric: precision / recall / F1 over *alignment links*
(every (Arabic unit, English unit) pair inside a predicted bead) against the gold links (units that
share an original sentence), summed over all documents. Methods: ours with each bridge, ours without
a bridge (lexicon, numbers, names, length), and a length-only Gale–Church baseline on the same search.

Document alignment: the 281 FLORES dev articles are split into folds of about 100 (every third
article), each one a pair of "folders" given to ``translate.docalign.match_documents`` in shuffled
order (it never sees file names; ``tests/test_docalign.py`` runs the CLI on real folders with
meaningless names); 20% of the English articles of each fold are removed. Reported: the share of the remaining true pairs found, wrong pairs
made, and whether the Arabic articles whose English was removed came out unmatched.

``--fit`` fits the bead weights on pseudo-documents of UD Arabic PUD (news and Wikipedia, 20 sentences
each), perturbed the same way, with the demo model as the bridge (weak there, as on news): pairwise
logistic regression of each gold bead against the candidate beads that compete with it (share a
sentence, within 3 sentences of the gold path), then the per-sentence linking bonus with the best link
F1 of the search on the same documents (``FIT_DRAWS`` perturbed copies of each). FLORES is not used
to fit. (Tatoeba dev can be added to TRAIN_SETS; its short everyday sentences made the fit worse on
news.) The fit also prints PRIOR as measured on the training documents. The shipped lexicon was trained
on UD PUD too, so the fit uses a lexicon that has not seen it: the recipe of ``tools/build_lexicon.py``
on Tatoeba train alone (built once, cached under ``work/``), merged with the FreeDict table (which
never holds PUD), exactly as ``translate.lexicon.load_lexicon`` merges the shipped ones. With the
shipped lexicon the lexical evidence looks better on PUD than it is on new text, and the weights
overfit (FLORES link F1 fell from 0.98 to 0.95).
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

aligner = importlib.import_module("translate.align")    # the module: translate.align is the API function
from translate.align import FEATURES, Problem, dynamic_align  # noqa: E402
from translate.lexicon import FREEDICT_LEXICON_FILE, Lexicon, read_lexicon  # noqa: E402
from translate.sentence_alignment.scoring import background  # noqa: E402

MERGE_RATE, DROP_RATE = 0.10, 0.05
CACHE = ROOT / "work" / "bench-cache"
TRAIN_SETS = ["pud"]
# perturbed copies of each training document: with one copy, training F1 is flat within a link or two
# over linking bonuses 4.5 to 6.5 and the pick among them is chance; four copies tell them apart
FIT_DRAWS = 4


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


def gold_beads(gold: set[tuple[int, int]]) -> set[tuple[int, int, int, int]]:
    """The linked gold beads (i, di, j, dj): connected groups of gold links."""
    groups: list[tuple[set[int], set[int]]] = []
    for a, e in sorted(gold):
        if groups and (a in groups[-1][0] or e in groups[-1][1]):
            groups[-1][0].add(a)
            groups[-1][1].add(e)
        else:
            groups.append(({a}, {e}))
    return {(min(a), len(a), min(e), len(e)) for a, e in groups}


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


# -- data -----------------------------------------------------------------------------------------
def demo_translations(lines: list[str]) -> list[str]:
    """The bundled demo model's translations of these lines (as `translate align` makes them), cached."""
    key = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()[:16]
    cached = CACHE / f"demo-{key}.en"
    if cached.is_file():
        out = cached.read_text(encoding="utf-8").split("\n")
        if len(out) == len(lines):
            return out
    from translate.models import resolve_model
    from translate.translate import Engine

    engine = Engine(resolve_model("demo-ar-en-tatoeba"))
    started = time.perf_counter()
    out = [h.text.replace("\n", " ") for h in engine.translate(lines)]
    print(f"(demo model: translated {len(lines)} lines in {time.perf_counter() - started:.0f} s; cached in {cached})",
          file=sys.stderr)
    CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_text("\n".join(out), encoding="utf-8")
    return out


def flores_articles(data: Path) -> list[dict]:
    path = data / "flores-dev" / "flores-dev.docs.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def flores_documents(data: Path, articles: int, bridges: dict[str, list[str]]) -> list[dict]:
    """Documents of `articles` consecutive FLORES articles, with each bridge's lines."""
    docs = []
    arts = flores_articles(data)
    for k in range(0, len(arts), articles):
        group = arts[k:k + articles]
        first, count = group[0]["first_line"], sum(len(a["ar"]) for a in group)
        docs.append({"ar": [s for a in group for s in a["ar"]], "en": [s for a in group for s in a["en"]],
                     "bridges": {name: lines[first:first + count] for name, lines in bridges.items()}})
    return docs


def pseudo_documents(ar: list[str], en: list[str], mt: list[str], size: int) -> list[dict]:
    return [{"ar": ar[k:k + size], "en": en[k:k + size], "bridges": {"demo": mt[k:k + size]}}
            for k in range(0, len(ar), size)]


def training_documents(data: Path) -> list[dict]:
    """UD Arabic PUD (and Tatoeba dev) as pseudo-documents, with the demo model's translations."""
    rows = [line.split("\t") for line in
            (data / "ud-arabic-pud" / "ar_pud_parallel.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    pud_ar, pud_en = [r[1] for r in rows], [r[2] for r in rows]
    tat_ar = (data / "tatoeba-dev" / "tatoeba-dev.ara").read_text(encoding="utf-8").splitlines()
    tat_en = (data / "tatoeba-dev" / "tatoeba-dev.eng").read_text(encoding="utf-8").splitlines()
    sets = {"pud": pseudo_documents(pud_ar, pud_en, demo_translations(pud_ar), 20),
            "tatoeba": pseudo_documents(tat_ar, tat_en, demo_translations(tat_ar), 20)}
    return [doc for name in TRAIN_SETS for doc in sets[name]]


def perturbed(doc: dict, rng: random.Random) -> dict:
    n = len(doc["ar"])
    ar_units, en_units = perturb(n, rng), perturb(n, rng)
    return {"ar": [" ".join(doc["ar"][o] for o in unit) for unit in ar_units],
            "en": [" ".join(doc["en"][o] for o in unit) for unit in en_units],
            "bridges": {name: [" ".join(mt[o] for o in unit) for unit in ar_units]
                        for name, mt in doc["bridges"].items()},
            "gold": gold_links(ar_units, en_units)}


# -- fitting ----------------------------------------------------------------------------------------
def fitting_lexicon(data: Path) -> Lexicon:
    """A lexicon that has not seen UD PUD: tools/build_lexicon.py's recipe with its default settings on
    Tatoeba train alone (cached; the build is deterministic), merged with the shipped FreeDict table."""
    spec = importlib.util.spec_from_file_location("build_lexicon", ROOT / "tools" / "build_lexicon.py")
    recipe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe)
    settings = {"iterations": 6, "min_prob": 0.02, "top": 12}
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode("utf-8"))
    for path in sorted((data / "tatoeba-train").glob("Tatoeba.ar-en.*")):
        digest.update(path.read_bytes())
    digest.update((ROOT / "tools" / "build_lexicon.py").read_bytes())
    digest.update((ROOT / "translate" / "lexicon.py").read_bytes())      # its tokeniser and stemmer
    cached = CACHE / f"lexicon-nopud-{digest.hexdigest()[:16]}.tsv.gz"
    if not cached.is_file():
        started = time.perf_counter()
        partial = cached.with_suffix(".partial")
        recipe.build(recipe.read_pairs(data, pud=False), partial, **settings)
        partial.replace(cached)
        print(f"(lexicon without UD PUD built in {time.perf_counter() - started:.0f} s: {cached})", file=sys.stderr)
    tables = [cached] + ([FREEDICT_LEXICON_FILE] if FREEDICT_LEXICON_FILE.is_file() else [])
    return read_lexicon(*tables)


def contrasts(doc: dict, bridge: str | None) -> list[list[float]]:
    """Feature differences between each gold bead and every candidate bead that competes with it (shares
    a sentence with it) within 3 sentences of the gold path: the search must prefer the gold bead."""
    problem = Problem(doc["bridges"][bridge] if bridge else None, doc["en"], doc["ar"])
    out = []
    for gi, gdi, gj, gdj in gold_beads(doc["gold"]):
        if gdi > 2 or gdj > 2:
            continue
        gold = np.array(problem.features(gi, gdi, gj, gdj))
        for i in range(max(0, gi - 2), min(problem.n, gi + gdi + 1)):
            for di in (1, 2):
                for j in range(max(0, gj - 2), min(problem.m, gj + gdj + 1)):
                    for dj in (1, 2):
                        if (i, di, j, dj) == (gi, gdi, gj, gdj) or i + di > problem.n or j + dj > problem.m:
                            continue
                        if i < gi + gdi and gi < i + di or j < gj + gdj and gj < j + dj:
                            out.append(gold - np.array(problem.features(i, di, j, dj)))
    return out


def fit_calibration(gain: np.ndarray, right: np.ndarray, l2: float = 1e-2, steps: int = 50) -> tuple[float, float]:
    """P(right) = sigmoid(scale * gain + offset), by Newton's method (L2 on the scale)."""
    z = np.vstack([gain, np.ones(len(gain))]).T
    w = np.array([0.1, 0.0])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w)))
        grad = z.T @ (p - right) / len(right) + np.array([l2 * w[0], 0.0])
        hessian = (z.T * (p * (1 - p))) @ z / len(right) + np.diag([l2, 1e-6])
        w -= np.linalg.solve(hessian, grad)
    return float(w[0]), float(w[1])


def fit_pairwise(d: np.ndarray, l2: float = 1e-3, steps: int = 30) -> np.ndarray:
    """Weights w with P(gold preferred) = sigmoid(w . (x_gold - x_other)): logistic regression without
    intercept on the contrasts and their negations, by Newton's method (L2-regularised)."""
    scale = np.abs(d).mean(axis=0) + 1e-9
    z = np.vstack([d, -d]) / scale
    y = np.r_[np.ones(len(d)), np.zeros(len(d))]
    w = np.zeros(z.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w)))
        grad = z.T @ (p - y) / len(y) + l2 * w
        hessian = (z.T * (p * (1 - p))) @ z / len(y) + l2 * np.eye(len(w))
        w -= np.linalg.solve(hessian, grad)
    return w / scale


def measured_priors(docs: list[dict]) -> dict[str, tuple[float, float]]:
    """translate.align.PRIOR as measured on the (unperturbed) training documents: the spread of the
    wrong similarities and the mean gap of the best one, pooled over both sides of every document."""
    out = {}
    for name, measure, bridge in (("bridge", aligner.bridge_similarity, "demo"),
                                  ("lexical", aligner.lexical_similarity, None)):
        squares = count = gaps = sentences = 0.0
        for doc in docs:
            problem = Problem(doc["bridges"][bridge] if bridge else None, doc["en"], doc["ar"])
            ar, en = problem.ar[1], problem.en[1]
            for b in (background(ar, en, measure), background(en, ar, lambda x, y: measure(y, x))):
                squares, count, gaps, sentences = (squares + b.squares, count + b.count, gaps + b.gaps,
                                                   sentences + b.sentences)
        out[name] = (round(math.sqrt(squares / count), 2), round(gaps / sentences, 2))
    return out


def fit(data: Path, seed: int) -> dict:
    """Feature weights by pairwise logistic regression (gold beads against their competitors); then the
    per-sentence linking bonus (which contrasts between beads cannot tell) that gives the best link F1
    of the search on the same training documents; then the calibration of a chosen bead's gain into the
    probability that all its links are right (its ``score``)."""
    docs = training_documents(data)
    print(f"PRIOR measured on the training documents: {measured_priors(docs)} (translate.align.PRIOR: "
          f"{aligner.PRIOR})", file=sys.stderr)
    weights = {}
    for mode in ("bridge", "none"):
        bridge = "demo" if mode == "bridge" else None
        rng = random.Random(seed)
        train = [perturbed(doc, rng) for _ in range(FIT_DRAWS) for doc in docs]
        d = np.array([row for doc in train for row in contrasts(doc, bridge)])
        w = fit_pairwise(d)
        fitted = {f: round(float(v), 3) for f, v in zip(FEATURES, w)}
        best = None
        for intercept in np.arange(-1.0, 8.01, 0.5):
            aligner.WEIGHTS[mode] = {"intercept": round(float(intercept), 3), **fitted}
            f1 = evaluate_sentences(train, {"ours": ours(bridge)})["ours"][2]
            if best is None or f1 > best[0]:
                best = (f1, aligner.WEIGHTS[mode])
        aligner.WEIGHTS[mode] = best[1]
        gains, right = [], []
        for doc in train:
            problem = Problem(doc["bridges"][bridge] if bridge else None, doc["en"], doc["ar"])
            for i, di, j, dj in dynamic_align(problem.n, problem.m, problem.gain):
                if di and dj:
                    gains.append(problem.gain(i, di, j, dj))
                    right.append(float(links([(list(range(i, i + di)), list(range(j, j + dj)))]) <= doc["gold"]))
        scale, offset = fit_calibration(np.array(gains), np.array(right))
        weights[mode] = {**best[1], "link_scale": round(scale, 4), "link_offset": round(offset, 4)}
        print(f"{mode}: {len(d)} contrasts; training link F1 {best[0]:.4f} at intercept {best[1]['intercept']}; "
              f"{len(right)} linked beads, {int(sum(right))} right", file=sys.stderr)
    return weights


# -- sentence alignment ---------------------------------------------------------------------------
def evaluate_sentences(docs: list[dict], methods: dict) -> dict[str, tuple]:
    counts = {name: [0, 0, 0, 0.0] for name in methods}     # hits, predicted, gold, seconds
    for doc in docs:
        for name, method in methods.items():
            started = time.perf_counter()
            predicted = links(method(doc))
            counts[name][3] += time.perf_counter() - started
            counts[name][0] += len(predicted & doc["gold"])
            counts[name][1] += len(predicted)
            counts[name][2] += len(doc["gold"])
    return {name: (*prf(*c[:3]), c[3]) for name, c in counts.items()}


def ours(bridge: str | None):
    def method(doc: dict):
        mt = doc["bridges"][bridge] if bridge else None
        return [(b.ar, b.en) for b in aligner.align(mt, doc["en"], doc["ar"])]
    return method


# -- document alignment ---------------------------------------------------------------------------
def evaluate_documents(data: Path, seed: int, folds: int = 3, removed: float = 0.2) -> list[dict]:
    from translate.docalign import match_documents

    arts = flores_articles(data)
    rng = random.Random(seed)
    results = []
    for fold in range(folds):
        chosen = arts[fold::folds]
        ar_order = list(range(len(chosen)))
        en_kept = sorted(rng.sample(range(len(chosen)), round(len(chosen) * (1 - removed))))
        rng.shuffle(ar_order)
        en_order = en_kept[:]
        rng.shuffle(en_order)
        ar_texts = ["\n".join(chosen[k]["ar"]) for k in ar_order]
        en_texts = ["\n".join(chosen[k]["en"]) for k in en_order]
        started = time.perf_counter()
        pairs = match_documents(ar_texts, en_texts)
        seconds = time.perf_counter() - started
        truth = {a: en_order.index(ar_order[a]) for a in range(len(ar_order)) if ar_order[a] in en_kept}
        found = {a: e for a, e, _ in pairs}
        right = sum(1 for a, e in found.items() if truth.get(a) == e)
        wrong = len(found) - right
        orphans = [a for a in range(len(ar_order)) if a not in truth]
        results.append({"articles": len(chosen), "english": len(en_kept), "pairs": len(truth), "found": right,
                        "wrong": wrong, "orphans": len(orphans),
                        "orphans_unmatched": sum(1 for a in orphans if a not in found), "seconds": seconds})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--system", default="opusmt", help="whose FLORES output is the given (strong) bridge")
    parser.add_argument("--articles", type=int, default=10, help="FLORES articles joined into one document")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--fit", action="store_true", help="print WEIGHTS fitted on UD Arabic PUD")
    parser.add_argument("--no-docs", action="store_true", help="skip the document-alignment bench")
    args = parser.parse_args()
    flores = args.data / "flores-dev"
    if not flores.is_dir():
        sys.exit(f"error: {flores}: FLORES dev data not found (pass --data)")
    if args.fit:
        with aligner.using_lexicon(fitting_lexicon(args.data)):
            weights = fit(args.data, args.seed)
        print("WEIGHTS: dict[str, dict[str, float]] = " + json.dumps(weights, indent=4))
        aligner.WEIGHTS.update(weights)            # and measure them below
    arabic = (flores / "flores-dev.ar").read_text(encoding="utf-8").splitlines()
    given = (flores / f"flores-dev.{args.system}.en").read_text(encoding="utf-8").splitlines()
    bridges = {"demo": demo_translations(arabic), args.system: given}
    rng = random.Random(args.seed)
    docs = [perturbed(doc, rng) for doc in flores_documents(args.data, args.articles, bridges)]
    methods = {"ours, bridge demo model": ours("demo"), f"ours, bridge {args.system}": ours(args.system),
               "ours, no bridge": ours(None),
               "gale-church (length)": lambda doc: gale_church(doc["ar"], doc["en"])}
    results = evaluate_sentences(docs, methods)
    sentences = sum(len(d["ar"]) for d in docs)
    print(f"sentence alignment: FLORES dev, {len(docs)} documents of {args.articles} articles "
          f"({sentences} Arabic units after perturbation); merges {MERGE_RATE:.0%}, drops {DROP_RATE:.0%} "
          f"per side (seed {args.seed}); weights fitted on {' + '.join(TRAIN_SETS)}")
    for name, (p, r, f1, seconds) in results.items():
        print(f"  {name:28s} precision {p:.4f}  recall {r:.4f}  F1 {f1:.4f}  ({seconds:.2f} s)")
    if args.no_docs:
        return
    print("document alignment: FLORES dev articles in 3 folders of ~94 per side, 20% of the English removed")
    total = {"pairs": 0, "found": 0, "wrong": 0, "orphans": 0, "orphans_unmatched": 0}
    for fold, result in enumerate(evaluate_documents(args.data, args.seed)):
        print(f"  fold {fold}: {result['articles']} Arabic, {result['english']} English: "
              f"{result['found']}/{result['pairs']} pairs found, {result['wrong']} wrong pairs, "
              f"{result['orphans_unmatched']}/{result['orphans']} without counterpart left unmatched "
              f"({result['seconds']:.1f} s)")
        for key in total:
            total[key] += result[key]
    print(f"  all: {total['found'] / total['pairs']:.2%} of pairs found, {total['wrong']} wrong, "
          f"{total['orphans_unmatched']}/{total['orphans']} unmatched as they should be")


if __name__ == "__main__":
    main()
