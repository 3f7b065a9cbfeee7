"""Filters of a training export: each has a name, a reason and settable thresholds.

``check(pair)`` returns every filter a pair fails, as a bit mask in ``FILTERS`` order; the first one
named is the one reported as having removed the pair. Filters look at one pair at a time (duplicates,
test-set overlap and caps are decided over the whole export: see translate.dedup).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from . import langid

# (name, reason), in the order they are reported
FILTERS: list[tuple[str, str]] = [
    ("status", "review status not kept (see --keep-status)"),
    ("empty", "a side is empty"),
    ("markup-only", "a side is only a URL, e-mail address, markup, numbers or punctuation"),
    ("untranslated", "the English side is the Arabic side (source = target)"),
    ("source-script", "the Arabic side is not mostly in Arabic script"),
    ("target-script", "Arabic script left in the English side"),
    ("source-language", "the Arabic side is identified as another language"),
    ("target-language", "the English side is identified as another language"),
    ("length", "too few or too many words on a side"),
    ("ratio", "the lengths of the two sides are too far apart (see --max-ratio)"),
    ("numbers", "the numbers of the two sides disagree"),
    ("score", "quality estimate below --min-qe"),
    ("label", "quality label dropped (--drop-label)"),
]
FILTER_NAMES = [name for name, _ in FILTERS]
BIT = {name: 1 << i for i, name in enumerate(FILTER_NAMES)}
LABELS = ("good", "check", "bad")


# added to both lengths before the ratio: short sentences differ more in length (جرح كتفه. / He was
# wounded in the shoulder.) without being misaligned
RATIO_SMOOTHING = 10


class FilterConfigError(ValueError):
    """A threshold out of range; the message says which and why."""


@dataclass
class FilterConfig:
    """Thresholds of every filter (the defaults are those of ``--clean``)."""
    keep_status: tuple[str, ...] = ("pending", "approved", "edited")
    min_words: int = 1
    max_words: int = 200
    max_ratio: float = 3.0            # (longer + 10) / (shorter + 10) side, in characters without spaces
    min_source_arabic: float = 0.5    # share of the Arabic side's letters in Arabic script
    max_target_arabic: float = 0.0    # share of the English side's letters in Arabic script
    min_lang_prob: float = 0.9        # a side is rejected when another language has this probability or more
    min_qe: float | None = None
    drop_labels: tuple[str, ...] = ()
    disabled: tuple[str, ...] = field(default_factory=tuple)

    def validate(self, statuses: tuple[str, ...]) -> None:
        def need(ok: bool, problem: str) -> None:
            if not ok:
                raise FilterConfigError(problem)

        need(all(s in statuses for s in self.keep_status),
             f"--keep-status: unknown status in {','.join(self.keep_status)!r} (use {', '.join(statuses)})")
        need(self.min_words >= 0, f"--min-words {self.min_words}: must be 0 or more")
        need(self.max_words >= max(self.min_words, 1),
             f"--max-words {self.max_words}: must be at least --min-words and 1")
        need(self.max_ratio >= 1, f"--max-ratio {self.max_ratio}: must be 1 or more")
        need(0 <= self.min_source_arabic <= 1, f"--min-source-arabic {self.min_source_arabic}: must be in 0..1")
        need(0 <= self.max_target_arabic <= 1, f"--max-target-arabic {self.max_target_arabic}: must be in 0..1")
        need(0.5 <= self.min_lang_prob <= 1, f"--min-lang-prob {self.min_lang_prob}: must be in 0.5..1")
        need(self.min_qe is None or 0 <= self.min_qe <= 1, f"--min-qe {self.min_qe}: must be in 0..1")
        need(all(label in LABELS for label in self.drop_labels),
             f"--drop-label: unknown label in {','.join(self.drop_labels)!r} (use {', '.join(LABELS)})")
        need(all(name in FILTER_NAMES for name in self.disabled),
             f"--no-filter: unknown filter in {','.join(self.disabled)!r} (use {', '.join(FILTER_NAMES)})")

    def as_json(self) -> dict:
        return {**asdict(self), "filters": [n for n in FILTER_NAMES if n not in self.disabled],
                "language_identifier": langid.identifier_version(), "language_min_letters": langid.MIN_LETTERS}


_URL = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+|<[^>]*>|&\w+;")
_ARABIC_DIGITS = str.maketrans({chr(0x0660 + d): str(d) for d in range(10)}
                               | {chr(0x06F0 + d): str(d) for d in range(10)})
_NON_ASCII_DIGIT = re.compile("[\u0660-\u0669\u06f0-\u06f9]")
_THOUSANDS = re.compile(r"(?<=\d)[,٬](?=\d{3}(?!\d))")
_DIGIT_RUN = re.compile(r"[0-9]+")
_ANY_DIGIT = re.compile(r"\d")


def numbers(text: str) -> set[str]:
    """The runs of digits of a sentence, in one form: Arabic-Indic and Persian digits as ASCII, thousands
    separators dropped ("1,000" = "1000" = "١٬٠٠٠"), leading zeros dropped; a decimal or time separator
    splits a number in two ("1.4" = "1,4" = "1٫4", "23:45" = "23.45")."""
    if not text.isascii() and _NON_ASCII_DIGIT.search(text):
        text = text.translate(_ARABIC_DIGITS)
    if "," in text or "٬" in text:
        text = _THOUSANDS.sub("", text)
    return {run.lstrip("0") or "0" for run in _DIGIT_RUN.findall(text)}


def numbers_disagree(source: str, target: str) -> bool:
    """Both sides have numbers in digits and neither side's are among the other's: one side writing some
    numbers in words ("the 6th of June 2006" / "السادس من يونيو 2006") is not a disagreement."""
    if not _ANY_DIGIT.search(target) or not _ANY_DIGIT.search(source):
        return False
    ar, en = numbers(source), numbers(target)
    return bool(ar and en and not (ar <= en or en <= ar))


class Filters:
    """Checks pairs against one configuration."""

    def __init__(self, config: FilterConfig):
        self.config = config
        self.enabled = 0
        for name in FILTER_NAMES:
            if name not in config.disabled:
                self.enabled |= BIT[name]

    def check(self, source: str, target: str, status: str, score: float | None, label: str | None,
              source_key: str, target_key: str) -> int:
        """The bit mask of every enabled filter this pair fails (0: it passes)."""
        return self.check_many([(source, target, status, score, label, source_key, target_key)])[0]

    def check_many(self, pairs: list[tuple]) -> list[int]:
        """``check`` of each (source, target, status, score, label, source_key, target_key); the language
        identifier is asked about the sides that need it all at once (langid.are_other_languages)."""
        masks, asks = [], []          # asks: (pair's index, text, language it should be in, filter bit)
        for index, pair in enumerate(pairs):
            masks.append(self._check_all_but_language(index, *pair, asks))
        if asks:
            answers = langid.are_other_languages([a[1] for a in asks], [a[2] for a in asks], self.config.min_lang_prob)
            for (index, _, _, bit), other in zip(asks, answers):
                if other:
                    masks[index] |= bit
        return [mask & self.enabled for mask in masks]

    def _check_all_but_language(self, index: int, source: str, target: str, status: str, score: float | None,
                                label: str | None, source_key: str, target_key: str, asks: list) -> int:
        """The filters this pair fails; a side to be identified is added to ``asks``."""
        c, mask = self.config, 0
        if status not in c.keep_status:
            mask |= BIT["status"]
        if not source.strip() or not target.strip():
            return mask | BIT["empty"]
        if not _letters_left(source) or not _letters_left(target):
            mask |= BIT["markup-only"]
        if source_key == target_key or source.strip() == target.strip():
            mask |= BIT["untranslated"]
        # most text is wholly in its script: the fast paths below answer for it without counting letters
        other = langid.non_arabic_letters(source)
        if other and langid.arabic_letters(source) < c.min_source_arabic * (langid.arabic_letters(source) + other):
            mask |= BIT["source-script"]
        if not target.isascii() and c.max_target_arabic < 1 and langid.ARABIC_LETTER.search(target):
            arabic_in_target = langid.arabic_letters(target)
            if arabic_in_target > c.max_target_arabic * (arabic_in_target + langid.non_arabic_letters(target)):
                mask |= BIT["target-script"]
        if self.enabled & BIT["source-language"] and langid.OTHER_ARABIC_SCRIPT.search(source) \
                and langid.has_min_letters(source):
            asks.append((index, source, "ar", BIT["source-language"]))
        if self.enabled & BIT["target-language"] and langid.LATIN_LETTER.search(target) \
                and langid.has_min_letters(target):
            asks.append((index, target, "en", BIT["target-language"]))
        # words of the normalised text: a dash or a quote standing alone is not a word
        ar_words = source_key.count(" ") + 1 if source_key else 0
        en_words = target_key.count(" ") + 1 if target_key else 0
        if not (c.min_words <= ar_words <= c.max_words and c.min_words <= en_words <= c.max_words):
            mask |= BIT["length"]
        ar_chars, en_chars = len(source) - source.count(" "), len(target) - target.count(" ")
        if max(ar_chars, en_chars) + RATIO_SMOOTHING > c.max_ratio * (min(ar_chars, en_chars) + RATIO_SMOOTHING):
            mask |= BIT["ratio"]
        if numbers_disagree(source, target):
            mask |= BIT["numbers"]
        if c.min_qe is not None and (score is None or score < c.min_qe):
            mask |= BIT["score"]
        if label in c.drop_labels:
            mask |= BIT["label"]
        return mask


def _letters_left(text: str) -> bool:
    """Whether the text has letters outside URLs, e-mail addresses, tags and entities."""
    # what _URL can match starts with one of these (`in` is faster than a regular expression here)
    if "://" in text or "www." in text or "@" in text or "<" in text or "&" in text:
        text = _URL.sub(" ", text)
    return bool(langid.ANY_LETTER.search(text))


def names(mask: int) -> list[str]:
    """The names of the filters in a mask, in report order."""
    return [name for name in FILTER_NAMES if mask & BIT[name]]
