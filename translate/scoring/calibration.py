"""The bounded features the score weighs, their weights (fitted by ``bench/quality_eval.py --fit``, plus
hand-set guards) and the labels' thresholds."""
from __future__ import annotations

import math

GOOD_THRESHOLD = 0.60
BAD_THRESHOLD = 0.30
LOST_TEXT_CAP = 0.05

# logistic calibration: logit = intercept + sum(weight * feature). The guards are hand-set penalties for
# failures too rare in the dev data to fit (untranslated Arabic, decoder loops, dropped numbers and names);
# the other weights are fitted by bench/quality_eval.py --fit with the guards as a fixed offset.
GUARDS = {
    "numbers_missing": -0.8,
    "latin_missing": -0.5,
    "arabic_left": -6.0,
    "repetition": -6.0,
}
CALIBRATION = {
    "intercept": 0.943,
    "length_z2": -0.068,
    "log_length": 0.262,
    "numbers_extra": -0.406,
    "capitalised": 1.108,
    "long_words": 0.922,
    "word_length": 0.168,
    "src_coverage": 0.325,
    "tgt_coverage": 0.0,
    "src_unknown": -0.157,
    "tgt_unknown": 1.261,
    "ibm1_forward": 0.0,
    "ibm1_backward": 0.118,
    "ibm1_backward_floored": 0.381,
    "length_short": -0.116,
    "sentence_coverage_min": 0.336,
    "omission": -0.582,
    "glued_sentences": -0.045,
    "tgt_oov": -7.194,
    "tgt_rare": 1.015,
    "tgt_zipf": -0.345,
    "src_oov": -1.1,
    "src_rare": -1.122,
    "src_zipf": 0.174,
    "log_source_length": 0.211,
    "soft_coverage": 1.886,
    "src_ambiguity": -0.051,
    "punctuation_mismatch": -1.498,
    "names_mismatch": -0.304,
    "fluency": 0.0,
    "disfluent": -0.189,
}
IBM1_FLOOR = -5.0           # below this, further drops of the backward likelihood count less (a noisier tail)
# hand-set (not fitted): a mean token log-probability of -0.6 is neutral; each nat lower costs 1.5 logits
LOGPROB_NEUTRAL = -0.6
LOGPROB_WEIGHT = 1.5
# with a reference, the score is mostly sigmoid((chrF - 50) / 8)
CHRF_WEIGHT = 0.75


def features(signals: dict) -> dict[str, float]:
    """The bounded numeric features the calibration weighs, from the signals."""
    return {
        "length_z2": min(signals["length_z"] ** 2, 16.0),
        "log_length": math.log1p(signals["target_chars"]),
        "numbers_missing": min(signals["numbers_missing"], 3),
        "numbers_extra": min(signals["numbers_extra"], 3),
        "latin_missing": min(signals["latin_missing"], 3),
        "arabic_left": signals["arabic_left"],
        "repetition": signals["repetition"],
        "capitalised": signals["capitalised"],
        "long_words": signals["long_words"],
        "word_length": min(signals["word_length"], 12.0),
        "src_coverage": signals["src_coverage"],
        "tgt_coverage": signals["tgt_coverage"],
        "src_unknown": signals["src_unknown"],
        "tgt_unknown": signals["tgt_unknown"],
        "ibm1_forward": signals["ibm1_forward"],
        "ibm1_backward": signals["ibm1_backward"],
        # with ibm1_backward, a piecewise-linear term: steeper in the usual range, flatter in the tail
        "ibm1_backward_floored": max(signals["ibm1_backward"], IBM1_FLOOR),
        "length_short": min(max(0.0, -signals["length_z"]), 4.0),
        "sentence_coverage_min": signals["sentence_coverage_min"],
        "omission": min(signals["omission"], 2),
        "glued_sentences": min(signals["glued_sentences"], 2),
        "tgt_oov": signals["tgt_oov"],
        "tgt_rare": signals["tgt_rare"],
        "tgt_zipf": signals["tgt_zipf"],
        "src_oov": signals["src_oov"],
        "src_rare": signals["src_rare"],
        "src_zipf": signals["src_zipf"],
        "log_source_length": math.log1p(signals["source_chars"]),
        "soft_coverage": signals["soft_coverage"],
        "src_ambiguity": min(signals["src_ambiguity"], 30.0),
        "punctuation_mismatch": signals["punctuation_mismatch"],
        "names_mismatch": signals["names_mismatch"],
        "fluency": signals["fluency"],
        "disfluent": signals["disfluent"],
    }


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, x))))


def label_for(score: float) -> str:
    return "good" if score >= GOOD_THRESHOLD else "bad" if score < BAD_THRESHOLD else "check"
