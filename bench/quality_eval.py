"""How well does the model-free quality score track real translation quality? (FLORES-101 dev)

    python bench/quality_eval.py [--data ../shared/data] [--fit]

For the seven systems' outputs on FLORES dev (no model, no reference given to the scorer):

1. Spearman correlation, pooled over all systems, between the score and sentence chrF against the
   human reference: the shipped calibration (``translate.score.score_pair``), the same features refitted
   with 2-fold cross-validation over documents (honest: each half is scored by weights fitted on the
   other), and the baseline "length ratio + numbers only" fitted the same way, all in this run.
2. Systems ranked by mean score vs their COMET ranking: Kendall tau (rankings printed).

``--fit`` fits the calibration on all of FLORES dev and prints the ``CALIBRATION`` dict for
``translate/score.py``: least squares to the rank of sentence chrF, then a logistic squash of that
linear score to chrF >= threshold (see ``fit_calibration``). The fit is constrained to the expected
sign of each feature (more coverage never lowers the score, more missing numbers never raises it),
with an L2 penalty, so it stays monotone and does not chase noise.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from translate import score as scoring  # noqa: E402

SYSTEMS = ("argos", "bergamot-base", "bergamot-base-memory", "google", "microsoft", "nllb", "opusmt")
FEATURES = list(scoring.CALIBRATION)[1:]          # the fitted features (the guards are a fixed offset)
GUARDS = list(scoring.GUARDS)
BASELINE = ["length_z2", "numbers_extra"]         # + numbers_missing, a guard: length ratio + numbers only
# the side of zero each weight must stay on, so the score is monotone in every signal
SIGN = {"length_z2": -1, "log_length": 1, "numbers_extra": -1, "capitalised": 1, "long_words": 1,
        "word_length": 1, "src_coverage": 1,
        "tgt_coverage": 1, "src_unknown": -1, "tgt_unknown": 1, "ibm1_forward": 1, "ibm1_backward": 1,
        "ibm1_backward_floored": 1}


# -- statistics (no scipy needed) ---------------------------------------------------------------
def ranks(values) -> np.ndarray:
    """Average ranks (ties share the mean rank), as Spearman needs."""
    values = np.asarray(values, dtype=float)
    order = np.argsort(values, kind="mergesort")
    ranked = np.empty(len(values))
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[order[j + 1]] == values[order[i]]:
            j += 1
        ranked[order[i:j + 1]] = (i + j) / 2.0
        i = j + 1
    return ranked


def spearman(a, b) -> float:
    ra, rb = ranks(a), ranks(b)
    return float(np.corrcoef(ra, rb)[0, 1])


def kendall_tau(a, b) -> float:
    """Kendall tau-b."""
    concordant = discordant = ties_a = ties_b = 0
    for i in range(len(a)):
        for j in range(i + 1, len(a)):
            da, db = np.sign(a[i] - a[j]), np.sign(b[i] - b[j])
            if da == 0 and db == 0:
                continue
            if da == 0:
                ties_a += 1
            elif db == 0:
                ties_b += 1
            elif da == db:
                concordant += 1
            else:
                discordant += 1
    denominator = np.sqrt((concordant + discordant + ties_a) * (concordant + discordant + ties_b))
    return float((concordant - discordant) / denominator) if denominator else 0.0


# -- calibration fit ----------------------------------------------------------------------------
def fit_logistic(x: np.ndarray, y: np.ndarray, signs: list[int], offset: np.ndarray | float = 0.0,
                 l2: float = 0.01, steps: int = 2000, rate: float = 0.5) -> tuple[float, np.ndarray]:
    """Sign-constrained L2 logistic regression by projected gradient descent on standardised features."""
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mean) / std
    signs = np.asarray(signs, dtype=float)
    w, b = np.zeros(x.shape[1]), float(np.log((y.mean() + 1e-6) / (1 - y.mean() + 1e-6)))
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w + b + offset)))
        grad_w = z.T @ (p - y) / len(y) + l2 * w
        grad_b = float(np.mean(p - y))
        w -= rate * grad_w
        b -= rate * grad_b
        w = np.where(w * signs < 0, 0.0, w)      # keep each weight on its expected side of zero
    # back to raw feature units
    raw_w = w / std
    return b - float(raw_w @ mean), raw_w


def fit_rank_least_squares(x: np.ndarray, target: np.ndarray, signs: list[int], l2: float = 0.01,
                           steps: int = 3000, rate: float = 0.3) -> tuple[float, np.ndarray]:
    """Sign-constrained L2 least squares of the standardised ranks of ``target`` on standardised features."""
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mean) / std
    goal = ranks(target)
    goal = (goal - goal.mean()) / (goal.std() + 1e-9)
    signs = np.asarray(signs, dtype=float)
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        w -= rate * (z.T @ (z @ w - goal) / len(goal) + l2 * w)
        w = np.where(w * signs < 0, 0.0, w)
    raw_w = w / std
    return -float(raw_w @ mean), raw_w


def fit_calibration(x: np.ndarray, chrf_scores: np.ndarray, threshold: float, signs: list[int],
                    offset: np.ndarray | float = 0.0) -> tuple[float, np.ndarray]:
    """Weights that order pairs like sentence chrF, squashed to P(chrF >= threshold).

    Fitting the ranking to chrF itself (not to a yes/no threshold) uses all of its information; the
    one-dimensional logistic step then only sets the scale and the intercept, so the labels' thresholds
    keep their meaning."""
    intercept, weights = fit_rank_least_squares(x, chrf_scores, signs)
    linear = x @ weights + intercept
    y = (chrf_scores >= threshold).astype(float)
    a, scale = fit_logistic(linear[:, None], y, [1], offset)
    return a + float(scale[0]) * intercept, float(scale[0]) * weights


def predict(x: np.ndarray, intercept: float, weights: np.ndarray, offset: np.ndarray | float = 0.0) -> np.ndarray:
    return 1 / (1 + np.exp(-(x @ weights + intercept + offset)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--threshold", type=float, default=60.0, help="chrF that counts as acceptable")
    parser.add_argument("--fit", action="store_true", help="print a CALIBRATION fitted on all of FLORES dev")
    args = parser.parse_args()
    from sacrebleu.metrics import CHRF

    flores = args.data / "flores-dev"
    if not flores.is_dir():
        sys.exit(f"error: {flores}: FLORES dev data not found (pass --data)")
    source = (flores / "flores-dev.ar").read_text(encoding="utf-8").splitlines()
    reference = (flores / "flores-dev.en").read_text(encoding="utf-8").splitlines()
    # document of each line, for cross-validation folds that never split a document
    document = np.zeros(len(source), dtype=int)
    for number, line in enumerate((flores / "flores-dev.docs.jsonl").read_text(encoding="utf-8").splitlines()):
        doc = json.loads(line)
        document[doc["first_line"]:doc["first_line"] + len(doc["ar"])] = number
    fold = document % 2

    chrf = CHRF()
    rows, targets, shipped, system_of, comet, guard_offset = [], [], [], [], {}, []
    for system in SYSTEMS:
        output = (flores / f"flores-dev.{system}.en").read_text(encoding="utf-8").splitlines()
        comet[system] = float((flores / f"flores-dev.{system}.en.comet").read_text().strip())
        for src, hyp, ref in zip(source, output, reference):
            quality = scoring.score_pair(src, hyp)
            feats = scoring.features(quality.signals)
            rows.append([feats[name] for name in FEATURES])
            guard_offset.append(sum(scoring.GUARDS[name] * feats[name] for name in GUARDS))
            targets.append(chrf.sentence_score(hyp, [ref]).score)
            shipped.append(quality.score)
            system_of.append(system)
    x, chrf_scores, offset = np.array(rows), np.array(targets), np.array(guard_offset)
    y = (chrf_scores >= args.threshold).astype(float)
    folds = np.tile(fold, len(SYSTEMS))
    system_of = np.array(system_of)
    shipped = np.array(shipped)

    def cross_validated(columns: list[str]) -> np.ndarray:
        idx = [FEATURES.index(c) for c in columns]
        out = np.zeros(len(y))
        for held in (0, 1):
            train, test = folds != held, folds == held
            b, w = fit_calibration(x[train][:, idx], chrf_scores[train], args.threshold, [SIGN[c] for c in columns],
                                   offset[train])
            out[test] = predict(x[test][:, idx], b, w, offset[test])
        return out

    cv_all = cross_validated(FEATURES)
    cv_base = cross_validated(BASELINE)
    print(f"FLORES dev: {len(source)} sentences x {len(SYSTEMS)} systems = {len(y)} pairs; "
          f"acceptable (chrF >= {args.threshold:g}): {y.mean():.1%}")
    print("Spearman(score, sentence chrF), pooled over systems:")
    print(f"  baseline length + numbers (2-fold CV)   {spearman(cv_base, chrf_scores):.3f}")
    print(f"  all signals (2-fold CV)                 {spearman(cv_all, chrf_scores):.3f}")
    print(f"  shipped calibration (score_pair)        {spearman(shipped, chrf_scores):.3f}")
    for name in FEATURES:
        column = x[:, FEATURES.index(name)]
        if column.std() > 0:
            print(f"    feature {name:22s} {spearman(column, chrf_scores):+.3f}")

    by_comet = sorted(SYSTEMS, key=lambda s: -comet[s])
    for label, values in (("shipped", shipped), ("CV", cv_all), ("baseline CV", cv_base)):
        mean = {s: float(values[system_of == s].mean()) for s in SYSTEMS}
        tau = kendall_tau([mean[s] for s in SYSTEMS], [comet[s] for s in SYSTEMS])
        print(f"system ranking, {label}: Kendall tau vs COMET = {tau:.3f}")
        print("  by score: " + ", ".join(f"{s} {mean[s]:.3f}" for s in sorted(SYSTEMS, key=lambda s: -mean[s])))
    print("  by COMET: " + ", ".join(f"{s} {comet[s]:.4f}" for s in by_comet))

    if args.fit:
        b, w = fit_calibration(x, chrf_scores, args.threshold, [SIGN[c] for c in FEATURES], offset)
        calibration = {"intercept": round(b, 3), **{n: round(float(v), 3) for n, v in zip(FEATURES, w)}}
        print("CALIBRATION = " + json.dumps(calibration, indent=4))


if __name__ == "__main__":
    main()
