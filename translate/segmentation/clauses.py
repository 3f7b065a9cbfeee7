"""Run-on sentences: where to cut a sentence longer than ``max_words`` words (after ``؛`` or ``،``, or
before a connective word), chosen by a small dynamic programme."""
from __future__ import annotations

import re

from .characters import (CLOSE_BRACKETS, COMMAS, DOUBLE_QUOTES, GUILLEMETS, OPEN_BRACKETS, SEMICOLONS, count_words,
                         previous_nonspace)

_CLAUSE_CHARS = re.compile(
    "[{}]".format(re.escape(SEMICOLONS + COMMAS + DOUBLE_QUOTES + GUILLEMETS + OPEN_BRACKETS + CLOSE_BRACKETS))
)

# Words that open a new clause after a comma; a comma before one of them is a
# better place to split a run-on sentence than a comma inside a list.
_CONNECTIVE = re.compile(
    r"[ \u00a0\t]*(?:"
    r"غير أن|غير أنّ|في حين|على الرغم|بالرغم|بعد أن|قبل أن|مع أن|لا سيما|إذ إن|إذ أن|"
    r"حيث|كما|إذ|إذا|لكن|لكنّ|بينما|ثم|كذلك|إلا|فيما|بعدما|عندما|حين|حينما|لأن|لان|"
    r"الذي|التي|الذين|اللذين|اللتين|اللذان|اللتان|اللواتي|اللاتي|مما|حتى|بل|أي|أو|رغم|برغم|"
    r"منذ|خاصة|علما|علماً|كي|لكي|بحيث|إضافة|بالإضافة|"
    r"مشيرا|مشيراً|مضيفا|مضيفاً|موضحا|موضحاً|مؤكدا|مؤكداً|معتبرا|معتبراً|لافتا|لافتاً|"
    r"[وف](?!ي(?!\w))\w{2,}"  # و / ف prefixed word, but not the preposition في
    r")(?!\w)"
)

# Discourse words and reporting verbs that open a new clause even with no comma before them: the last
# resort for a run-on sentence that has no comma or semicolon where it needs one
# ("... على الحدود وأضاف أن ..." is cut before وأضاف).
_BARE_CONNECTIVE = re.compile(
    r"(?<=\s)(?:غير أن|غير أنّ|في حين|إلا أن|إلا أنّ|حيث|كما|بينما|ثم|لكن|لكنّ|كذلك|فيما|"
    r"و(?:قال|قالت|أضاف|أضافت|أكد|أكدت|أشار|أشارت|أوضح|أوضحت|تابع|تابعت|لفت|لفتت|اعتبر|اعتبرت|"
    r"ذكر|ذكرت|أعلن|أعلنت))(?!\w)"
)

# Split quality: lower is a better place to split a run-on sentence.
_SPLIT_SEMICOLON = 0.0
_SPLIT_CONNECTIVE = 0.15
_SPLIT_COMMA = 0.4
_SPLIT_BARE_CONNECTIVE = 1.5
_SPLIT_INSIDE_QUOTE = 3.0
_SPLIT_COST = 1.0  # every extra part costs this much: prefer few parts
_OVER_LIMIT_COST = 1000.0  # per word over the limit: always worse than any split
_MAX_POINTS_PER_PART = 64


def clause_cuts(s: str, start: int, end: int, quote_state: tuple[bool, bool, int], max_words: int) -> list[int]:
    """Cut points that split s[start:end] into parts of at most max_words words."""
    text = s[start:end]
    # str.split() is fast and never counts fewer tokens than count_words().
    if len(text.split()) <= max_words or count_words(text) <= max_words:
        return []
    double, guillemet, depth = quote_state
    candidates: list[tuple[int, float]] = []  # (cut position, split penalty)
    # (position, is a bare connective word) in text order, so the quote state is right at each
    events = sorted([(m.start(), False) for m in _CLAUSE_CHARS.finditer(s, start, end)]
                    + [(m.start(), True) for m in _BARE_CONNECTIVE.finditer(s, start, end)])
    for p, bare_word in events:
        if bare_word:  # cut before the word, unless a comma just before it already gives that cut
            if p > start and previous_nonspace(s, p) not in COMMAS + SEMICOLONS:
                inside = double or guillemet or depth
                candidates.append((p, _SPLIT_BARE_CONNECTIVE + (_SPLIT_INSIDE_QUOTE if inside else 0.0)))
            continue
        ch = s[p]
        if ch in GUILLEMETS:
            guillemet = not guillemet
        elif ch in DOUBLE_QUOTES:
            double = not double
        elif ch in OPEN_BRACKETS:
            depth += 1
        elif ch in CLOSE_BRACKETS:
            depth = max(0, depth - 1)
        else:
            if 0 < p < len(s) - 1 and s[p - 1].isdigit() and s[p + 1].isdigit():
                continue  # "1,000", "7،5"
            # A quote or bracket closed right after the comma stays on the
            # left: 'قال "نحن مستعدون،" وأضاف' is cut after the quote.
            cut = p + 1
            inside = double or guillemet or depth
            if cut < end and (
                (s[cut] in DOUBLE_QUOTES and double and not guillemet and not depth)
                or (s[cut] in GUILLEMETS and guillemet and not double and not depth)
                or (s[cut] in CLOSE_BRACKETS and depth == 1 and not double and not guillemet)
            ):
                cut += 1
                inside = False
            if ch in SEMICOLONS:
                penalty = _SPLIT_SEMICOLON
            elif _CONNECTIVE.match(s, cut):
                penalty = _SPLIT_CONNECTIVE
            else:
                penalty = _SPLIT_COMMA
            if inside:
                penalty += _SPLIT_INSIDE_QUOTE
            candidates.append((cut, penalty))
    if not candidates:
        return []

    # Word count before each cut, then a dynamic programme over the cut points:
    # best[k] = lowest cost of the text up to cut k, where a part of w words
    # costs (w / max_words)**2 (even parts are cheaper) plus a large cost per
    # word over the limit, and every cut costs its penalty plus _SPLIT_COST.
    points = [start] + [c for c, _ in candidates] + [end]
    penalties = [0.0] + [pen for _, pen in candidates] + [0.0]
    words_before = [0]
    for a, b in zip(points, points[1:]):
        words_before.append(words_before[-1] + count_words(s[a:b]))

    last = len(points) - 1
    inf = float("inf")
    best = [0.0] + [inf] * last
    back = [0] * (last + 1)
    for b in range(1, last + 1):
        cut_cost = 0.0 if b == last else penalties[b] + _SPLIT_COST
        words_to_b = words_before[b]
        # Parts spanning more than _MAX_POINTS_PER_PART clause points are not
        # tried: it bounds the work on endless comma lists.
        for a in range(b - 1, max(-1, b - 1 - _MAX_POINTS_PER_PART), -1):
            w = words_to_b - words_before[a]
            if w == 0 and b != last:
                continue  # a part with no words
            if w > max_words:
                if best[b] < inf:
                    break  # longer parts are over the limit: never better
                cost = best[a] + (w / max_words) ** 2 + (w - max_words) * _OVER_LIMIT_COST + cut_cost
            else:
                cost = best[a] + (w / max_words) ** 2 + cut_cost
            if cost < best[b]:
                best[b] = cost
                back[b] = a
    cuts: list[int] = []
    b = back[last]
    while b > 0:
        cuts.append(points[b])
        b = back[b]
    cuts.reverse()
    return cuts
