"""Plain words for a pair's score: the legend of the labels and the main reasons from its signals.

The reasons name what a reviewer can check in the text (a missing number, a length mismatch, Arabic left
in the output), most serious first; the raw signals stay available behind a toggle on the page.
"""
from __future__ import annotations

import math
from collections import Counter

from ..score import BAD_THRESHOLD, GOOD_THRESHOLD, numbers, punctuation_counts

LEGEND = [
    ("good", f"≥ {GOOD_THRESHOLD:.2f}", "likely an acceptable translation; a quick look is enough"),
    ("check", f"{BAD_THRESHOLD:.2f}–{GOOD_THRESHOLD:.2f}", "uncertain: read both sides before approving"),
    ("bad", f"< {BAD_THRESHOLD:.2f}", "likely wrong, incomplete or misaligned"),
]



def shown_score(score: float | None) -> str:
    """A score as the page shows it: cut (not rounded) to two decimals, so that the figure shown falls on
    the same side of the legend's thresholds as the score its label comes from (0.5995 is `check`: shown
    0.59, never 0.60). The tiny epsilon keeps 0.29 (stored as 0.28999...) from showing as 0.28."""
    if score is None:
        return "–"
    return f"{math.floor(score * 100 + 1e-9) / 100:.2f}"


ORIGINS = {
    "mt": "machine translation",
    "human": "aligned human translation",
    "imported": "imported from a translation memory",
    "copied": "Latin-script line kept as it is (not translated)",
}


def reasons(source: str, target: str, signals: dict, label: str | None, limit: int = 3) -> list[str]:
    """Up to ``limit`` reasons, most serious first, for what lowered (or, for an edit, set) the score."""
    found: list[tuple[float, str]] = []

    def add(weight: float, text: str) -> None:
        found.append((weight, text))

    s = signals
    if s.get("copied"):
        add(90, "a line in Latin script (e.g. English) inside the Arabic: kept as it is, not translated")
    if s.get("hit_max_length"):
        add(100, "the output reached the length limit: text may be missing at the end")
    if s.get("empty_output") or (source.strip() and not target.strip()):
        add(100, "empty translation")
    windows = int(s.get("source_windows", 1) or 1)
    if windows > 1:
        add(40, f"a very long sentence translated in {windows} windows: check where they join")
    if s.get("arabic_left", 0) >= 0.05:
        add(60, f"Arabic script left in the output ({s['arabic_left']:.0%} of its letters)")
    if s.get("repetition", 0) >= 0.1:
        add(50, "words repeated in the output (the translation loops)")
    if s.get("numbers_missing", 0) > 0:
        missing = _missing_numbers(source, target)
        shown = ", ".join(missing[:4]) + (" …" if len(missing) > 4 else "")
        n = s["numbers_missing"]
        add(45 + n, f"{n} number{'s' if n != 1 else ''} of the source missing" + (f": {shown}" if shown else ""))
    if s.get("numbers_extra", 0) > 0:
        n = s["numbers_extra"]
        add(25, f"{n} number{'s' if n != 1 else ''} in the English not in the Arabic")
    if s.get("latin_missing", 0) > 0:
        n = s["latin_missing"]
        add(30, f"{n} Latin-script name{'s' if n != 1 else ''} or code{'s' if n != 1 else ''} of the source missing")
    # omission is decided from each source sentence's content; pairs scored before it was, by sentence count
    missing_sentences = s.get("omission", s.get("sentences_missing", 0)) or 0
    if missing_sentences > 0:
        add(45 + missing_sentences, f"{missing_sentences} Arabic sentence{'s' if missing_sentences != 1 else ''} "
            "with few of its words, numbers or names in the English: part may be left out")
    elif (s.get("source_sentences", 1) or 1) > 1 and s.get("sentence_coverage_min", 1) < 0.2 \
            and s.get("src_coverage", 0) >= 0.4:
        add(35, "one Arabic sentence has almost no words matching the English: it may be left out")
    if s.get("punctuation_mismatch", 0) >= 0.4:
        differing = _differing_marks(source, target)
        if differing:
            add(20, "punctuation differs (Arabic / English): " + ", ".join(differing))
    if s.get("names_mismatch", 0) >= 0.6:
        add(15, "names differ: the capitalised English words do not match the names in the Arabic")
    if s.get("glued_sentences", 0) > 0:
        add(5, "sentences run together with no space after the full stop")
    if s.get("tgt_oov", 0) >= 0.15:
        add(15, f"{s['tgt_oov']:.0%} of the English words are not English words (misspelt or garbled)")
    z = s.get("length_z")
    if z is not None:
        if z <= -2.5:
            add(40 + min(-z, 10), "English much shorter than the Arabic: part may be left out")
        elif z <= -1.5:
            add(20, "English shorter than usual for this Arabic")
        elif z >= 2.5:
            add(35 + min(z, 10), "English much longer than the Arabic: something may be added")
        elif z >= 1.5:
            add(15, "English longer than usual for this Arabic")
    coverage = s.get("src_coverage")
    if coverage is not None and coverage < 0.35 and s.get("src_unknown", 0) < 0.8:
        add(30 - 20 * coverage, "few words match the bilingual lexicon: the meaning may differ")
    elif s.get("src_unknown", 0) >= 0.6:
        add(10, "most Arabic words are unknown to the lexicon (names, rare words): the score is less sure")
    if s.get("logprob") is not None and s["logprob"] < -1.2:
        add(20, "the translation model was unsure of its output")
    if s.get("chrf") is not None:
        add(5, f"chrF against the reference: {s['chrf']:.0f}")
    found.sort(key=lambda item: -item[0])
    out = [text for _, text in found[:limit]]
    if s.get("edited"):
        out.insert(0, "scored again on the reviewer's edit")
    if not found and label in ("check", "bad"):
        out.append("no single cause: the words match the lexicon only weakly overall")
    if not found and label == "good":
        out.append("lengths, numbers and words match")
    return out[:limit + (1 if s.get("edited") else 0)]


def _missing_numbers(source: str, target: str) -> list[str]:
    """The source's numbers the output lacks (as many times as they are missing)."""
    return list((Counter(numbers(source)) - Counter(numbers(target))).elements())


# the kinds of marks a reviewer can check by eye (commas and full stops differ between Arabic and English
# style too often to name them)
_MARKS_NAMED = {"quote": "quotation marks", "bracket": "brackets", "question": "question or exclamation marks",
                "colon": "colons or semicolons"}


def _differing_marks(source: str, target: str) -> list[str]:
    """'brackets 2 / 0' (Arabic / English) for each named kind whose counts differ."""
    src, tgt = punctuation_counts(source), punctuation_counts(target)
    return [f"{name} {src[kind]} / {tgt[kind]}" for kind, name in _MARKS_NAMED.items() if src[kind] != tgt[kind]]
