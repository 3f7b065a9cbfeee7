"""The sentence scan: one pass over the interesting characters of the text (terminal punctuation, quotes,
brackets, line breaks; URLs are skipped whole) that decides where each sentence ends."""
from __future__ import annotations

import re

from .abbreviations import period_after_word_is_boundary
from .characters import (ALNUM, ARABIC_LETTER, CLOSE_BRACKETS, COMMAS, DOUBLE_QUOTES, GUILLEMETS, LATIN_LETTER,
                         LINE_BREAKS, OPEN_BRACKETS, SEMICOLONS, SINGLE_CLOSERS, SOFT_BREAKS, TERMINALS, count_words,
                         letters_before, previous_nonspace)
from .quotations import NEW_SENTENCE_AFTER_QUOTE, QuoteState, attribution_follows

# The scan jumps from one of these characters to the next: searching for one
# character class is many times faster than for an alternation of patterns.
_EVENT_CHARS = re.compile(
    "[{}]".format(re.escape(TERMINALS + LINE_BREAKS + DOUBLE_QUOTES + GUILLEMETS + OPEN_BRACKETS + CLOSE_BRACKETS))
)

# A run of terminal punctuation, spaced dots included (". . .").
_TERMINAL_RUN = re.compile(r"[{t}](?:[ \u00a0]?[{t}])*".format(t=re.escape(TERMINALS)))

# URLs are skipped whole: their "." and "?" are not sentence ends.
_URL = re.compile(
    r"(?:[A-Za-z][A-Za-z0-9+.-]*://|www\.)"
    r"[^\s\"'<>«»“”()\[\]{}]*[^\s\"'<>«»“”()\[\]{}.,!?؟،؛:;…]"
)

# Prepositions and conjunctions that do not open a sentence after an ellipsis:
# "تفعله... في الواقع", "الائتمان... فيما", "القصص... إلخ" go on.
_CONTINUES_AFTER_ELLIPSIS = re.compile(
    r"(?:في|فيما|من|إلى|الى|على|عن|مع|أو|أم|ثم|حتى|لكن|بل|إلا|الا|أن|أنه|إلخ|الخ)(?!\w)"
)
_CONTINUES_AFTER_QUESTION = re.compile(r"(?:أو|أم)(?!\w)")


def sentence_spans(s: str) -> list[tuple[int, int, tuple[bool, bool, int]]]:
    """(start, end, quote state at start) of each sentence of the clean text."""
    n = len(s)
    urls = [m.span() for m in _URL.finditer(s)] if ("://" in s or "www." in s) else []
    url_index = 0
    state = QuoteState()
    spans: list[tuple[int, int, tuple[bool, bool, int]]] = []
    last_cut = 0
    has_word = False  # s[last_cut:searched_to] holds a letter or digit
    searched_to = 0
    start_state = state.snapshot()
    pos = 0
    search = _EVENT_CHARS.search
    while True:
        m = search(s, pos)
        if m is None:
            break
        at = m.start()
        ch = s[at]
        pos = at + 1
        if urls:
            while url_index < len(urls) and urls[url_index][1] <= at:
                url_index += 1
            if url_index < len(urls) and urls[url_index][0] <= at:
                pos = urls[url_index][1]
                continue
        if ch in SOFT_BREAKS and not _soft_breaks_end_paragraph(s, at):
            continue  # a manual line break or page break inside a paragraph
        if ch in LINE_BREAKS:
            # A line break always ends a sentence (headlines have no full stop).
            spans.append((last_cut, pos, start_state))
            state.reset()
            last_cut = searched_to = pos
            has_word = False
            start_state = state.snapshot()
        elif ch in TERMINALS:
            run_end = _TERMINAL_RUN.match(s, at).end()
            pos = run_end
            # A sentence needs at least one letter or digit ("!!!" alone is
            # not one); remember how far we looked so long runs of
            # punctuation are not searched again and again.
            if not has_word:
                has_word = ALNUM.search(s, searched_to, at) is not None
                searched_to = at
                if not has_word:
                    continue
            cut = _terminal_run(s, at, run_end, state, last_cut)
            if cut is not None:
                pos = cut
                spans.append((last_cut, cut, start_state))
                last_cut = searched_to = cut
                has_word = False
                state.brackets.clear()  # a parenthesis does not span sentences
                start_state = state.snapshot()
        elif ch in OPEN_BRACKETS:
            state.brackets.append(at)
        elif ch in CLOSE_BRACKETS:
            if state.brackets:
                state.brackets.pop()
        else:  # a quotation mark
            closed, opened_at = state.toggle(ch, at)
            if closed and NEW_SENTENCE_AFTER_QUOTE.match(s, pos) and count_words(s[opened_at + 1 : at]) >= 3:
                spans.append((last_cut, pos, start_state))
                last_cut = searched_to = pos
                has_word = False
                state.brackets.clear()
                start_state = state.snapshot()
    if last_cut < n or not spans:
        spans.append((last_cut, n, start_state))
    return spans


def _soft_breaks_end_paragraph(s: str, at: int) -> bool:
    """Is the soft break at s[at] next to another line break (a blank line), spaces aside?"""
    after = _SPACE_AROUND_BREAK.match(s, at + 1).end()
    if after < len(s) and s[after] in LINE_BREAKS:
        return True
    before = at
    while before > 0 and s[before - 1] in " \u00a0\t":
        before -= 1
    return before > 0 and s[before - 1] in LINE_BREAKS


def _terminal_run(s: str, i: int, j: int, state: QuoteState, sentence_start: int) -> int | None:
    """Decide whether the punctuation run s[i:j] ends a sentence.

    Returns the cut position (after any closing quotes and brackets that belong
    to the sentence) or None. Updates ``state`` for the closers it consumes.
    """
    n = len(s)
    # A run glued to a letter or digit ("7.9", "U.S.", "ق.م", "المرئية.وتربط").
    if j < n and ALNUM.match(s, j) and not _glued_is_boundary(s, i, j):
        return None

    # Closing quotes and brackets that follow belong to this sentence.
    saved = (state.double, state.guillemet, state.double_at, state.guillemet_at, list(state.brackets))
    cut = j
    bracket_closed_here = False
    quote_opened_at = -1  # where the quotation closed right here was opened
    while cut < n:
        ch = s[cut]
        if ch in DOUBLE_QUOTES or ch in GUILLEMETS:
            is_open = state.guillemet if ch in GUILLEMETS else state.double
            if not is_open and not _ends_here(s, cut + 1):
                break  # an opening quote of the next sentence glued to this one
            if is_open:
                _, quote_opened_at = state.toggle(ch, cut)
            cut += 1
        elif ch in CLOSE_BRACKETS:
            if state.brackets:
                # "(وهذا مهم!)" opened after the first word is an aside inside
                # the sentence; a sentence wholly in brackets is a sentence.
                opened_at = state.brackets.pop()
                bracket_closed_here = ALNUM.search(s, sentence_start, opened_at) is not None
            cut += 1
        elif ch in SINGLE_CLOSERS and _ends_here(s, cut + 1):
            cut += 1
        elif ch in TERMINALS:
            cut += 1  # 'هذا؟'".' : a full stop after the closing quotes
        elif ch in " \u00a0\t" and state.in_quote:
            # "... عليه ." وتابع : a closing quote after a space.
            k = cut
            while k < n and s[k] in " \u00a0\t":
                k += 1
            closes = k < n and (s[k] in DOUBLE_QUOTES and state.double or s[k] in GUILLEMETS and state.guillemet)
            if closes and _ends_here(s, k + 1):
                cut = k
                continue
            break
        else:
            break

    if _is_boundary(s, i, j, cut, state, bracket_closed_here, quote_opened_at):
        return cut
    # Not a boundary: the main scan goes on right after the run and sees the
    # quotes and brackets again, so forget what this look-ahead did to them.
    state.double, state.guillemet, state.double_at, state.guillemet_at, state.brackets = saved
    return None


def _ends_here(s: str, k: int) -> bool:
    """True when position k ends a word: end of text, space or punctuation."""
    if k >= len(s):
        return True
    ch = s[k]
    return ch.isspace() or ch in _WORD_ENDING_PUNCTUATION


_WORD_ENDING_PUNCTUATION = frozenset(
    TERMINALS + DOUBLE_QUOTES + GUILLEMETS + CLOSE_BRACKETS + SINGLE_CLOSERS + COMMAS + SEMICOLONS + ":"
)
_MAX_TITLE_WORDS = 5
_QUESTION_OR_EXCLAMATION = re.compile(r"[!?؟‼⁇⁈⁉]")

# Spaces within a line; a soft break counts as one (see SOFT_BREAKS).
_HORIZONTAL_SPACE = re.compile(r"[^\S\n\r\x1c-\x1e\x85\u2028\u2029]*")
_SPACE_AROUND_BREAK = re.compile(r"[ \u00a0\t]*")


def _glued_is_boundary(s: str, i: int, j: int) -> bool:
    """Can the run s[i:j], directly followed by a letter or digit, end a sentence?"""
    nxt = s[j]
    if not ARABIC_LETTER.match(nxt):
        # Decimals, thousands, dates, times, versions, domains, "U.S", "e.g".
        return False
    if s[i:j] != ".":
        return True  # "حدث؟كيف", "الائتمان...فيما": a missing space
    # A full stop between Arabic letters: "ق.م" and "د.محمد" are abbreviations
    # (one letter), "المرئية.وتربط" is two sentences with a missing space.
    return len(letters_before(s, i)) >= 2


def _is_boundary(
    s: str, i: int, j: int, cut: int, state: QuoteState, bracket_closed_here: bool, quote_opened_at: int
) -> bool:
    """Does the run s[i:j] (with its closers up to ``cut``) end a sentence?"""
    n = len(s)
    run = s[i:j]
    # What comes next, after spaces (a line break is a boundary on its own).
    k = _HORIZONTAL_SPACE.match(s, cut).end()
    if k >= n or s[k] in LINE_BREAKS or sum(s.count(b, cut, k) for b in SOFT_BREAKS) >= 2:
        return True
    nxt = s[k]
    if nxt in COMMAS or nxt in SEMICOLONS or nxt == ":":
        return False
    # "كذا (وهذا مهم!) وكذا": punctuation closing an aside in brackets.
    if bracket_closed_here:
        return False
    # '"...!" قال الوزير.': the quotation and its attribution are one sentence.
    if quote_opened_at >= 0 and attribution_follows(s, k, after_period=run == "."):
        return False
    if _QUESTION_OR_EXCLAMATION.search(run):
        # A short quoted title or slogan: 'فيلم "يا سلام!" للمخرج'.
        if quote_opened_at >= 0 and count_words(s[quote_opened_at + 1 : i]) <= _MAX_TITLE_WORDS:
            return False
        # "ما هذا؟ أو ذاك" asks one question.
        return not _CONTINUES_AFTER_QUESTION.match(s, k)
    if nxt.islower() and LATIN_LETTER.match(nxt):
        return False  # "e.g. something", "and so... the next"
    if "…" in run or run.count(".") >= 2:
        # An ellipsis inside an open quotation marks an omission or a pause.
        if state.in_quote:
            return False
        prev = previous_nonspace(s, i)
        if prev and (prev in COMMAS or prev in OPEN_BRACKETS or prev in DOUBLE_QUOTES or prev in GUILLEMETS):
            return False  # "يقرأون، ... حب القراءة": an omission
        return not _CONTINUES_AFTER_ELLIPSIS.match(s, k)
    if run == ".":
        return period_after_word_is_boundary(s, i, k)
    return True  # "۔"
