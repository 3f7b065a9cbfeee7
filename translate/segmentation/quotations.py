"""Quotations in the sentence scan: which quotes and brackets are open, and whether a closed quotation
is followed by its attribution ('"...!" قال الوزير.': one sentence) or by a new sentence."""
from __future__ import annotations

import re

from .characters import GUILLEMETS, count_words


class QuoteState:
    """Open quotations and brackets at the current point of the scan."""

    __slots__ = ("double", "guillemet", "double_at", "guillemet_at", "brackets")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.double = False
        self.guillemet = False
        self.double_at = -1  # where the open quotation started
        self.guillemet_at = -1
        self.brackets: list[int] = []  # positions of open brackets

    @property
    def in_quote(self) -> bool:
        return self.double or self.guillemet

    def snapshot(self) -> tuple[bool, bool, int]:
        return (self.double, self.guillemet, len(self.brackets))

    def toggle(self, ch: str, pos: int) -> tuple[bool, int]:
        """Open or close a quotation; returns (closed, where it was opened)."""
        if ch in GUILLEMETS:
            if self.guillemet:
                self.guillemet = False
                return True, self.guillemet_at
            self.guillemet, self.guillemet_at = True, pos
            return False, pos
        if self.double:
            self.double = False
            return True, self.double_at
        self.double, self.double_at = True, pos
        return False, pos


# A quotation closed after "!", "?" or "؟" (or ".") and followed by its
# attribution has not ended the sentence: '"...!" كما أضاف هاميل.',
# '"... خصم؟" تساءلت.'. The verbs of saying, past and present, with an
# optional و/ف and "كما" ("as he added") before them.
_ATTRIBUTION_VERB = re.compile(
    r"(?:(?:كما|حسبما|مثلما)[ \u00a0\t]+)?([وف])?(?:"
    r"(?:قال|[أا]ضاف|تساء?[ءئ]ل|[أا]كد|[أا]وضح|تابع|صرح|علق|هتف|صاح|صرخ|سأل|[أا]جاب|رد|ختم|اختتم|"
    r"استطرد|[أا]ردف|استدرك|[أا]شار|ذكر|كتب|غرد|شدد|همس|[أا]عرب|علّق|ردّ)(?:ت|وا)?|"
    r"[يت](?:قول|ضيف|تساءل|ؤكد|وضح|سأل|تابع|علق|ردف|شير)(?:ون)?"
    r")(?!\w)"
)

# ... unless the verb brings new content: "وأضاف أن ...", "قال إن ...", or ":".
_REPORTED_CONTENT = re.compile(r"(?<!\w)(?:[أإ]ن|ب[أا]ن|[أإ]نه|[أإ]نها|[أإ]نهم|[أإ]ننا|لأن)(?!\w)")
_ATTRIBUTION_END = re.compile(r"[.!?؟…،,؛;:\n\r\v\f\x1c-\x1e\x85\u2028\u2029\"“”«»]")
_MAX_ATTRIBUTION_WORDS = 10  # "قال الوزير الفرنسي في مؤتمر صحفي"
_MAX_PREFIXED_ATTRIBUTION_WORDS = 3  # "وأضاف هاميل", not "وتساءل الكاتب عن جدوى ..."


def attribution_follows(s: str, k: int, after_period: bool) -> bool:
    """Does the word at k start a short attribution ("قال الوزير." "كما أضاف هاميل")?"""
    m = _ATTRIBUTION_VERB.match(s, k)
    if m is None:
        return False
    prefixed = m.group(1) is not None
    if after_period and prefixed:
        return False  # '"... السوري." وتابع كارني حديثه.' is a new sentence
    end = _ATTRIBUTION_END.search(s, m.end())
    rest = s[m.end() : end.start() if end else len(s)]
    if end is not None and end.group() == ":" or _REPORTED_CONTENT.search(rest):
        return False
    limit = _MAX_PREFIXED_ATTRIBUTION_WORDS if prefixed else _MAX_ATTRIBUTION_WORDS
    return count_words(rest) <= limit


# A quotation followed by one of these, with no punctuation in between, has
# ended a sentence: ``... النظام" وأضاف أن ...``.
NEW_SENTENCE_AFTER_QUOTE = re.compile(
    r"[ \u00a0\t]+(?:وقال|وقالت|وأضاف|وأضافت|وتابع|وتابعت|وأكد|وأكدت|وأوضح|وأوضحت|وأشار|وأشارت|"
    r"وذكر|وذكرت|وشدد|وشددت|واعتبر|واعتبرت|ولفت|ولفتت|واختتم|واختتمت|وختم|وختمت|واستطرد|"
    r"واستدرك|وأردف|وأردفت|وأعرب|وأعربت|وبين|وبينت|وأعلن|وأعلنت|وكان|وكانت)(?!\w)"
)
