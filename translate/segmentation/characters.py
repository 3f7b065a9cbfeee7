"""Character classes and small text helpers that the sentence scan and the clause splitter share."""
from __future__ import annotations

import re

TERMINALS = ".!?؟…۔‼⁇⁈⁉"
LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"

# Vertical tab (a word processor's manual line break) and form feed (a page
# break in extracted PDF text) fall inside sentences as often as between them:
# one on its own is a space; two in a row (a blank line) end a paragraph.
SOFT_BREAKS = "\v\f"

# Double quotes are used both ways round in Arabic news (” ... ” is common), so
# each family simply toggles between open and closed.
DOUBLE_QUOTES = "\"“”„‟"
GUILLEMETS = "«»"
OPEN_BRACKETS = "([{"
CLOSE_BRACKETS = ")]}"
SINGLE_CLOSERS = "'’›"
COMMAS = "،,"
SEMICOLONS = "؛;"
ARABIC_LETTER = re.compile(r"[\u0620-\u064a\u066e-\u06d3\u06d5\u06fa-\u06ff\u0750-\u077f\u08a0-\u08ff]")
LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")
ALNUM = re.compile(r"[^\W_]")

# A word is a whitespace-separated token holding at least one letter or digit
# (a lone "،" between spaces is not a word).
_WORD = re.compile(r"(?<!\S)[^\w\s]*[^\W_]")


def count_words(text: str) -> int:
    """Words as counted for ``max_words``: tokens holding a letter or digit."""
    return len(_WORD.findall(text))


def previous_nonspace(s: str, i: int) -> str:
    """The nearest character before position i that is not a space ("" at the start)."""
    k = i - 1
    while k >= 0 and s[k].isspace():
        k -= 1
    return s[k] if k >= 0 else ""


def letters_before(s: str, i: int) -> str:
    """The letters (with their diacritics) just before position i."""
    k = i
    while k > 0 and i - k < 40 and (s[k - 1].isalpha() or "\u064b" <= s[k - 1] <= "\u065f" or s[k - 1] == "\u0670"):
        k -= 1
    return s[k:i]
