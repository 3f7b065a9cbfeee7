"""A light sentence splitter for counting a line's sentences (English and Arabic), and sentences glued
with no space after the full stop."""
from __future__ import annotations

import re

# a sentence ends at . ! ? (؟ in Arabic) after a word of two or more characters, before a space and the
# next sentence's first letter (capital or digit in English); abbreviations (U.S., a.m., Dr.) do not count
_ARABIC_SENTENCE_END = re.compile(
    r"(?<=[^\s.]{2})[.!?؟]+[\"'»”)]*\s+(?=[\"'«“(]?[\u0621-\u064a0-9\u0660-\u0669])")
_ENGLISH_SENTENCE_END = re.compile(r"(?<=[^\s.]{2})[.!?]+[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])")
# some systems glue two sentences with no space after the full stop ("...Best Original Song.Lionsgate
# received..."): a full stop between a word of two or more letters (the last lower-case: not an initialism)
# or a number, and a capitalised word also ends a sentence; a decimal has no capital after it, and URLs and e-mail
# addresses are recognised by their token (see _glued_is_boundary)
_ENGLISH_GLUED_END = re.compile(r"(?:(?<=[A-Za-z0-9][a-z0-9])|(?<=[a-z0-9][)\"”’]))\.(?=[\"'“‘(]?[A-Z][a-z]|[A-Z]{2,}\b)")
_ENGLISH_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st jr sr vs no gen gov sen rep lt col sgt prof inc ltd co corp mt ft jan feb mar apr aug sep sept "
    "oct nov dec etc al fig vol".split())
# the last part of a web address glued as "Amazon.Com": not a sentence start
_DOMAIN_ENDINGS = frozenset("com org net gov edu int mil info biz io uk eu de fr ca au".split())


def _glued_is_boundary(text: str, dot: int) -> bool:
    """Whether the full stop at ``dot``, with no space after it, ends a sentence: not after an abbreviation,
    not inside a URL, an e-mail address or a domain name."""
    token_start = max(text.rfind(" ", 0, dot), text.rfind("\n", 0, dot)) + 1
    token_end = len(text) if (space := text.find(" ", dot)) < 0 else space
    token = text[token_start:token_end]
    if "@" in token or "/" in token or token.lower().lstrip("(\"'“").startswith("www."):
        return False
    word_before = re.findall(r"[A-Za-z]+$", text[token_start:dot])
    word_after = re.match(r"[\"'“‘(]?([A-Za-z]+)", text[dot + 1:])
    if word_before and word_before[0].lower() in _ENGLISH_ABBREVIATIONS:
        return False
    return not (word_after and word_after.group(1).lower() in _DOMAIN_ENDINGS)


def sentence_spans(text: str, language: str) -> list[str]:
    """The sentences of one line (a light splitter: only for counting, not for segmentation). In English
    a full stop followed directly by a capitalised word ends a sentence too (the piece before it then
    ends without a space: see ``glued_sentences``)."""
    pattern = _ARABIC_SENTENCE_END if language == "ar" else _ENGLISH_SENTENCE_END
    cuts = []
    for match in pattern.finditer(text):
        before = text[:match.start()].split()
        if language == "en" and before and (before[-1].lower().strip("\"'“(") in _ENGLISH_ABBREVIATIONS
                                            or "." in before[-1]):
            continue
        cuts.append(match.end())
    if language == "en":
        cuts.extend(m.end() for m in _ENGLISH_GLUED_END.finditer(text) if _glued_is_boundary(text, m.start()))
        cuts.sort()
    parts, start = [], 0
    for cut in cuts:
        parts.append(text[start:cut])
        start = cut
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


def glued_sentences(sentences: list[str]) -> int:
    """How many of the sentences (from ``sentence_spans``) run into the next with no space after their full
    stop: a small flaw of fluency, not an omission."""
    return sum(1 for sentence in sentences[:-1] if not sentence[-1:].isspace())
