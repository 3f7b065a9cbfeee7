"""Arabic sentence segmentation for news text.

``segment(text)`` cuts a document into sentences and, when a sentence is longer
than ``max_words`` words, into clause-sized parts a translation model can handle.

How it works:

1. Characters that carry no meaning for segmentation (tatweel, zero-width and
   bidi control characters) are removed into a *clean* copy of the text, with a
   map back to the original offsets, so no rule is broken by them and offsets
   stay exact.
2. One scan over the clean text visits only the interesting characters:
   sentence punctuation, quotes, brackets, line breaks (and URLs, which are
   skipped whole). It keeps track of open quotations and brackets and decides,
   for each run of terminal punctuation, whether it ends a sentence: not after
   an abbreviation or initial (Latin or spelt in Arabic script), an era or time
   marker or "إلخ" before a continuing word, an inline list number, or before
   the attribution of a quotation. A line break ends a sentence; a lone
   vertical tab or form feed (a manual line or page break) is a space.
3. Sentences longer than ``max_words`` are split after ``؛`` or ``،``: a small
   dynamic programme picks the cut points that keep every part under the limit
   with parts as even as possible, preferring semicolons, then commas before a
   connective, then other commas, and avoiding cuts inside quotes or brackets.
4. Cut positions are mapped back to the original string; every piece between
   two cuts is stripped of surrounding whitespace, so every non-space character
   of the input belongs to exactly one segment.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

DEFAULT_MAX_WORDS = 60


@dataclass(frozen=True)
class Segment:
    """A span of the original text: ``text == original[start:end]``.

    ``sentence`` numbers sentences in the document from 0; ``part`` numbers the
    pieces of a sentence that was split because it was too long (0 when whole).
    """

    start: int
    end: int
    text: str
    sentence: int
    part: int = 0


# --- character classes -------------------------------------------------------

# Removed before matching: tatweel, soft hyphen, ZWSP/ZWNJ/ZWJ/LRM/RLM, ALM,
# LRE..RLO, LRI..PDI, word joiner and BOM.
_IGNORABLE = re.compile(r"[\u0640\u00ad\u200b-\u200f\u061c\u202a-\u202e\u2060\u2066-\u2069\ufeff]+")

_TERMINALS = ".!?؟…۔‼⁇⁈⁉"
_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
# Vertical tab (a word processor's manual line break) and form feed (a page
# break in extracted PDF text) fall inside sentences as often as between them:
# one on its own is a space; two in a row (a blank line) end a paragraph.
_SOFT_BREAKS = "\v\f"
# Double quotes are used both ways round in Arabic news (” ... ” is common), so
# each family simply toggles between open and closed.
_DOUBLE_QUOTES = "\"“”„‟"
_GUILLEMETS = "«»"
_OPEN_BRACKETS = "([{"
_CLOSE_BRACKETS = ")]}"
_SINGLE_CLOSERS = "'’›"
_COMMAS = "،,"
_SEMICOLONS = "؛;"

_ARABIC_LETTER = re.compile(r"[\u0620-\u064a\u066e-\u06d3\u06d5\u06fa-\u06ff\u0750-\u077f\u08a0-\u08ff]")
_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")
_ALNUM = re.compile(r"[^\W_]")
# A word is a whitespace-separated token holding at least one letter or digit
# (a lone "،" between spaces is not a word).
_WORD = re.compile(r"(?<!\S)[^\w\s]*[^\W_]")

# The scan jumps from one of these characters to the next: searching for one
# character class is many times faster than for an alternation of patterns.
_EVENT_CHARS = re.compile(
    "[{}]".format(re.escape(_TERMINALS + _LINE_BREAKS + _DOUBLE_QUOTES + _GUILLEMETS + _OPEN_BRACKETS + _CLOSE_BRACKETS))
)
# A run of terminal punctuation, spaced dots included (". . .").
_TERMINAL_RUN = re.compile(r"[{t}](?:[ \u00a0]?[{t}])*".format(t=re.escape(_TERMINALS)))
# URLs are skipped whole: their "." and "?" are not sentence ends.
_URL = re.compile(
    r"(?:[A-Za-z][A-Za-z0-9+.-]*://|www\.)"
    r"[^\s\"'<>«»“”()\[\]{}]*[^\s\"'<>«»“”()\[\]{}.,!?؟،؛:;…]"
)

_CLAUSE_CHARS = re.compile(
    "[{}]".format(re.escape(_SEMICOLONS + _COMMAS + _DOUBLE_QUOTES + _GUILLEMETS + _OPEN_BRACKETS + _CLOSE_BRACKETS))
)

# --- word lists --------------------------------------------------------------

# Latin abbreviations that are (almost) never the last word of a sentence.
_LATIN_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st gen col capt lt sgt gov sen rep rev hon mt ft
    inc ltd co corp bros vs cf al approx dept univ est jan feb mar apr jun jul
    aug sep sept oct nov dec""".split()
)
# Latin abbreviations that only hold before a number ("No. 5", "p. 12").
_LATIN_BEFORE_NUMBER = frozenset("no nos nr vol p pp art fig ch sec op".split())
# Single Arabic letters that, after a number, are the era markers م (AD) and
# هـ (Hijri) or the time markers ص (a.m.) and م (p.m.) rather than an initial:
# "عام 1990م." and "الساعة 9 ص." can end a sentence, "2010 م. في القاهرة" and
# "3:45 م. بتوقيت مكة" go on. ق.م (BC) is one too, wherever it stands.
_MARKER_LETTERS = frozenset("مهص")
# Latin letters as spelt in Arabic script: "دي. كي. أريا" (D. K. Arya) are
# initials, "روي في. واد" (Roe v. Wade) is a case name. They end a sentence
# when a sentence opener follows ("أبولو إكس. وكانت ..."; a transliterated
# name rarely starts with ال).
_LETTER_NAMES = frozenset(
    """إيه ايه أيه بي سي دي إي اي إف اف جي جيه جاي إتش اتش آي كي كاي إل إم ام إن ان أو او
    آر ار إس اس تي يو في ڤي دبليو إكس اكس واي زد زي كيو""".split()
)
# ... but these are also Arabic words that often end a sentence ("اتصل بي."
# call me, "400 آر." ares): alone they end it; only in a run of initials
# ("جي. بي. مورغان") they do not. في is left out: "يثق في." is written فيّ,
# while "في." is the v. of case names.
_WORD_LIKE_LETTER_NAMES = frozenset("بي آر زي ايه أيه إيه".split())
# Arabic abbreviations of more than one letter that end a list, not always a
# sentence: "الضرائب والنقل إلخ. في المدن" goes on.
_ARABIC_ABBREVIATIONS = frozenset("إلخ الخ".split())

# After an era or time marker or "إلخ.", these words continue the sentence:
# prepositions and particles that do not open an Arabic sentence, unless they
# start one of the set phrases below ("في المقابل،" "من جهته،").
_CONTINUES_AFTER_MARKER = re.compile(
    r"(?:في|فيما|من|إلى|الى|على|عن|مع|حتى|عند|لدى|نحو|عبر|حول|دون|بين|ضد|أو|أم|أي|"
    r"بتوقيت|بالتوقيت|توقيت|الموافق|الموافقة|تقريبا|تقريباً|وما)(?!\w)"
)
_OPENER_PHRASE = re.compile(
    r"(?:في (?:المقابل|حين|الوقت|سياق|غضون|هذا|هذه|ذلك|تلك|الأثناء|أعقاب|ظل|إطار)|"
    r"من (?:جهت|جانب|ناحية|جهة|المتوقع|المقرر|المنتظر|الم[ؤئ]كد)|على (?:صعيد|الرغم|خلفية)|مع ذلك)"
)
# Words that open a new sentence: after a Latin letter spelt in Arabic script
# ("يثق في. لذلك قرر ...") they show that the letter was the last word.
_OPENS_SENTENCE = re.compile(
    r"(?:[وف]?(?:قال|قالت|يقول|تقول|قد|لقد|كان|كانت|لم|لن|لا|ما|هذا|هذه|ذلك|تلك|هو|هي|هم|نحن|أنا|"
    r"لكن|لكنه|لكنها|ثم|إذا|عندما|بعد|قبل|منذ|كما|بينما|يذكر|يشار|من|على|إلى|لذلك|لذا|ال\w+)|"
    r"هل|وفي|و(?:أضاف|أكد|أشار|تابع|ذكر|أوضح)ت?)(?!\w)"
)

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

# Prepositions and conjunctions that do not open a sentence after an ellipsis:
# "تفعله... في الواقع", "الائتمان... فيما", "القصص... إلخ" go on.
_CONTINUES_AFTER_ELLIPSIS = re.compile(
    r"(?:في|فيما|من|إلى|الى|على|عن|مع|أو|أم|ثم|حتى|لكن|بل|إلا|الا|أن|أنه|إلخ|الخ)(?!\w)"
)
_CONTINUES_AFTER_QUESTION = re.compile(r"(?:أو|أم)(?!\w)")

# A quotation followed by one of these, with no punctuation in between, has
# ended a sentence: ``... النظام" وأضاف أن ...``.
_NEW_SENTENCE_AFTER_QUOTE = re.compile(
    r"[ \u00a0\t]+(?:وقال|وقالت|وأضاف|وأضافت|وتابع|وتابعت|وأكد|وأكدت|وأوضح|وأوضحت|وأشار|وأشارت|"
    r"وذكر|وذكرت|وشدد|وشددت|واعتبر|واعتبرت|ولفت|ولفتت|واختتم|واختتمت|وختم|وختمت|واستطرد|"
    r"واستدرك|وأردف|وأردفت|وأعرب|وأعربت|وبين|وبينت|وأعلن|وأعلنت|وكان|وكانت)(?!\w)"
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


def count_words(text: str) -> int:
    """Words as counted for ``max_words``: tokens holding a letter or digit."""
    return len(_WORD.findall(text))


def segment(text: str, max_words: int = DEFAULT_MAX_WORDS) -> list[Segment]:
    """Split ``text`` into sentences, and over-long sentences into parts.

    ``max_words`` of 0 (or less) keeps sentences whole.
    """
    if not isinstance(text, str):
        raise TypeError(f"segment() needs a str, got {type(text).__name__}")
    clean, to_original = _strip_ignorable(text)
    spans = _sentence_spans(clean)  # contiguous: together they cover all of clean

    out: list[Segment] = []
    sentence_number = 0
    last_span = len(spans) - 1
    for index, (start, end, quote_state) in enumerate(spans):
        cuts = _clause_cuts(clean, start, end, quote_state, max_words) if max_words > 0 else []
        # The pieces cover the original text end to end, ignorable characters
        # at either end included, so no character can fall between two pieces.
        bounds = [to_original(c) for c in (start, *cuts, end)]
        if index == 0:
            bounds[0] = 0
        if index == last_span:
            bounds[-1] = len(text)
        part = 0
        for piece_start, piece_end in zip(bounds, bounds[1:]):
            seg = _make_segment(text, piece_start, piece_end, sentence_number, part)
            if seg is not None:
                out.append(seg)
                part += 1
        if part:
            sentence_number += 1
    return out


# --- offsets -----------------------------------------------------------------


def _strip_ignorable(text: str):
    """The text without ignorable characters, and a clean→original offset map.

    A clean offset maps to the original offset of the same kept character, so
    ignorable characters just before a cut stay with the text before it,
    unless a space comes before them: then they lead the text after the cut.
    """
    if not _IGNORABLE.search(text):
        return text, _identity
    clean_starts: list[int] = []  # where each kept chunk starts in the clean text
    original_starts: list[int] = []  # ... and in the original
    pieces: list[str] = []
    clean_pos = 0
    original_pos = 0
    for m in _IGNORABLE.finditer(text):
        if m.start() > original_pos:
            clean_starts.append(clean_pos)
            original_starts.append(original_pos)
            pieces.append(text[original_pos : m.start()])
            clean_pos += m.start() - original_pos
        original_pos = m.end()
    if original_pos < len(text):
        clean_starts.append(clean_pos)
        original_starts.append(original_pos)
        pieces.append(text[original_pos:])
    clean_len = clean_pos + (len(text) - original_pos)

    clean = "".join(pieces)

    def to_original(clean_offset: int) -> int:
        if clean_offset >= clean_len:
            return len(text)
        k = bisect_right(clean_starts, clean_offset) - 1
        if k > 0 and clean_offset == clean_starts[k] and clean[clean_offset - 1].isspace():
            # Ignorable characters after a space lead the text that follows.
            return original_starts[k - 1] + (clean_offset - clean_starts[k - 1])
        return original_starts[k] + (clean_offset - clean_starts[k])

    return clean, to_original


def _identity(offset: int) -> int:
    return offset


def _make_segment(text: str, start: int, end: int, sentence: int, part: int) -> Segment | None:
    piece = text[start:end]
    stripped_left = piece.lstrip()
    stripped = stripped_left.rstrip()
    if not stripped:
        return None
    seg_start = start + len(piece) - len(stripped_left)
    return Segment(seg_start, seg_start + len(stripped), stripped, sentence, part)


# --- sentence boundaries -----------------------------------------------------


class _QuoteState:
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
        if ch in _GUILLEMETS:
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


def _sentence_spans(s: str) -> list[tuple[int, int, tuple[bool, bool, int]]]:
    """(start, end, quote state at start) of each sentence of the clean text."""
    n = len(s)
    urls = [m.span() for m in _URL.finditer(s)] if ("://" in s or "www." in s) else []
    url_index = 0
    state = _QuoteState()
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
        if ch in _SOFT_BREAKS and not _soft_breaks_end_paragraph(s, at):
            continue  # a manual line break or page break inside a paragraph
        if ch in _LINE_BREAKS:
            # A line break always ends a sentence (headlines have no full stop).
            spans.append((last_cut, pos, start_state))
            state.reset()
            last_cut = searched_to = pos
            has_word = False
            start_state = state.snapshot()
        elif ch in _TERMINALS:
            run_end = _TERMINAL_RUN.match(s, at).end()
            pos = run_end
            # A sentence needs at least one letter or digit ("!!!" alone is
            # not one); remember how far we looked so long runs of
            # punctuation are not searched again and again.
            if not has_word:
                has_word = _ALNUM.search(s, searched_to, at) is not None
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
        elif ch in _OPEN_BRACKETS:
            state.brackets.append(at)
        elif ch in _CLOSE_BRACKETS:
            if state.brackets:
                state.brackets.pop()
        else:  # a quotation mark
            closed, opened_at = state.toggle(ch, at)
            if closed and _NEW_SENTENCE_AFTER_QUOTE.match(s, pos) and count_words(s[opened_at + 1 : at]) >= 3:
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
    if after < len(s) and s[after] in _LINE_BREAKS:
        return True
    before = at
    while before > 0 and s[before - 1] in " \u00a0\t":
        before -= 1
    return before > 0 and s[before - 1] in _LINE_BREAKS


def _terminal_run(s: str, i: int, j: int, state: _QuoteState, sentence_start: int) -> int | None:
    """Decide whether the punctuation run s[i:j] ends a sentence.

    Returns the cut position (after any closing quotes and brackets that belong
    to the sentence) or None. Updates ``state`` for the closers it consumes.
    """
    n = len(s)
    # A run glued to a letter or digit ("7.9", "U.S.", "ق.م", "المرئية.وتربط").
    if j < n and _ALNUM.match(s, j) and not _glued_is_boundary(s, i, j):
        return None

    # Closing quotes and brackets that follow belong to this sentence.
    saved = (state.double, state.guillemet, state.double_at, state.guillemet_at, list(state.brackets))
    cut = j
    bracket_closed_here = False
    quote_opened_at = -1  # where the quotation closed right here was opened
    while cut < n:
        ch = s[cut]
        if ch in _DOUBLE_QUOTES or ch in _GUILLEMETS:
            is_open = state.guillemet if ch in _GUILLEMETS else state.double
            if not is_open and not _ends_here(s, cut + 1):
                break  # an opening quote of the next sentence glued to this one
            if is_open:
                _, quote_opened_at = state.toggle(ch, cut)
            cut += 1
        elif ch in _CLOSE_BRACKETS:
            if state.brackets:
                # "(وهذا مهم!)" opened after the first word is an aside inside
                # the sentence; a sentence wholly in brackets is a sentence.
                opened_at = state.brackets.pop()
                bracket_closed_here = _ALNUM.search(s, sentence_start, opened_at) is not None
            cut += 1
        elif ch in _SINGLE_CLOSERS and _ends_here(s, cut + 1):
            cut += 1
        elif ch in _TERMINALS:
            cut += 1  # 'هذا؟'".' : a full stop after the closing quotes
        elif ch in " \u00a0\t" and state.in_quote:
            # "... عليه ." وتابع : a closing quote after a space.
            k = cut
            while k < n and s[k] in " \u00a0\t":
                k += 1
            closes = k < n and (s[k] in _DOUBLE_QUOTES and state.double or s[k] in _GUILLEMETS and state.guillemet)
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
    _TERMINALS + _DOUBLE_QUOTES + _GUILLEMETS + _CLOSE_BRACKETS + _SINGLE_CLOSERS + _COMMAS + _SEMICOLONS + ":"
)
_MAX_TITLE_WORDS = 5
_QUESTION_OR_EXCLAMATION = re.compile(r"[!?؟‼⁇⁈⁉]")
# Spaces within a line; a soft break counts as one (see _SOFT_BREAKS).
_HORIZONTAL_SPACE = re.compile(r"[^\S\n\r\x1c-\x1e\x85\u2028\u2029]*")
_SPACE_AROUND_BREAK = re.compile(r"[ \u00a0\t]*")


def _glued_is_boundary(s: str, i: int, j: int) -> bool:
    """Can the run s[i:j], directly followed by a letter or digit, end a sentence?"""
    nxt = s[j]
    if not _ARABIC_LETTER.match(nxt):
        # Decimals, thousands, dates, times, versions, domains, "U.S", "e.g".
        return False
    if s[i:j] != ".":
        return True  # "حدث؟كيف", "الائتمان...فيما": a missing space
    # A full stop between Arabic letters: "ق.م" and "د.محمد" are abbreviations
    # (one letter), "المرئية.وتربط" is two sentences with a missing space.
    return len(_letters_before(s, i)) >= 2


def _letters_before(s: str, i: int) -> str:
    """The letters (with their diacritics) just before position i."""
    k = i
    while k > 0 and i - k < 40 and (s[k - 1].isalpha() or "\u064b" <= s[k - 1] <= "\u065f" or s[k - 1] == "\u0670"):
        k -= 1
    return s[k:i]


def _is_boundary(
    s: str, i: int, j: int, cut: int, state: _QuoteState, bracket_closed_here: bool, quote_opened_at: int
) -> bool:
    """Does the run s[i:j] (with its closers up to ``cut``) end a sentence?"""
    n = len(s)
    run = s[i:j]
    # What comes next, after spaces (a line break is a boundary on its own).
    k = _HORIZONTAL_SPACE.match(s, cut).end()
    if k >= n or s[k] in _LINE_BREAKS or sum(s.count(b, cut, k) for b in _SOFT_BREAKS) >= 2:
        return True
    nxt = s[k]
    if nxt in _COMMAS or nxt in _SEMICOLONS or nxt == ":":
        return False
    # "كذا (وهذا مهم!) وكذا": punctuation closing an aside in brackets.
    if bracket_closed_here:
        return False
    # '"...!" قال الوزير.': the quotation and its attribution are one sentence.
    if quote_opened_at >= 0 and _attribution_follows(s, k, after_period=run == "."):
        return False
    if _QUESTION_OR_EXCLAMATION.search(run):
        # A short quoted title or slogan: 'فيلم "يا سلام!" للمخرج'.
        if quote_opened_at >= 0 and count_words(s[quote_opened_at + 1 : i]) <= _MAX_TITLE_WORDS:
            return False
        # "ما هذا؟ أو ذاك" asks one question.
        return not _CONTINUES_AFTER_QUESTION.match(s, k)
    if nxt.islower() and _LATIN_LETTER.match(nxt):
        return False  # "e.g. something", "and so... the next"
    if "…" in run or run.count(".") >= 2:
        # An ellipsis inside an open quotation marks an omission or a pause.
        if state.in_quote:
            return False
        prev = _previous_nonspace(s, i)
        if prev and (prev in _COMMAS or prev in _OPEN_BRACKETS or prev in _DOUBLE_QUOTES or prev in _GUILLEMETS):
            return False  # "يقرأون، ... حب القراءة": an omission
        return not _CONTINUES_AFTER_ELLIPSIS.match(s, k)
    if run == ".":
        return _period_after_word_is_boundary(s, i, k)
    return True  # "۔"


def _previous_nonspace(s: str, i: int) -> str:
    k = i - 1
    while k >= 0 and s[k].isspace():
        k -= 1
    return s[k] if k >= 0 else ""


def _period_after_word_is_boundary(s: str, i: int, next_pos: int) -> bool:
    """A full stop at s[i] followed (after spaces) by the word at next_pos."""
    letters = _letters_before(s, i)
    before = i - len(letters)
    char_before = s[before - 1] if before > 0 else ""
    if not letters:
        return not (i > 0 and s[i - 1].isdigit() and _is_list_number(s, i))
    word = _strip_diacritics(letters)
    if _ARABIC_LETTER.match(word[-1]):
        if len(word) == 1:
            if word in _MARKER_LETTERS and _follows_number(s, before) or word == "م" and _after_qaf(s, before):
                return _marker_ends_sentence(s, next_pos)
            return False  # an initial or abbreviation ("د." "أ." "ز." "ص.")
        if word in _LETTER_NAMES:
            # "سي. إن. إن. إن الرئيس": the letters of an acronym run on.
            next_is_initial = _letter_name_follows(s, next_pos)
            if word in _WORD_LIKE_LETTER_NAMES and not next_is_initial and not _letter_name_precedes(s, before):
                return True
            return _OPENS_SENTENCE.match(s, next_pos) is not None and not next_is_initial
        if word in _ARABIC_ABBREVIATIONS:
            return _marker_ends_sentence(s, next_pos)
        return True
    if _LATIN_LETTER.match(word[-1]):
        lower = word.lower()
        if lower in _LATIN_ABBREVIATIONS:
            return False
        if lower in _LATIN_BEFORE_NUMBER and next_pos < len(s) and s[next_pos].isdigit():
            return False
        if len(word) == 1:
            # "J. K. Rowling", "U.S." — unless a lone letter between Arabic
            # words ("فيتامين C. ويعد").
            if char_before == ".":
                return False
            prev_word_arabic = _ARABIC_LETTER.match(_previous_nonspace(s, before) or " ")
            next_arabic = next_pos < len(s) and _ARABIC_LETTER.match(s[next_pos])
            return bool(prev_word_arabic and next_arabic)
        return True
    return True


def _letter_name_follows(s: str, next_pos: int) -> bool:
    """Is the word at next_pos an initial too ("دي. كي.")?"""
    end = next_pos
    while end < len(s) and _ARABIC_LETTER.match(s, end):
        end += 1
    return end < len(s) and s[end] == "." and s[next_pos:end] in _LETTER_NAMES


def _letter_name_precedes(s: str, before: int) -> bool:
    """Is the word before position ``before`` an initial too ("جي. بي.")?"""
    k = before
    while k > 0 and s[k - 1] in " \u00a0":
        k -= 1
    if k == before or k == 0 or s[k - 1] != ".":
        return False
    return _letters_before(s, k - 1) in _LETTER_NAMES


_DIACRITICS = re.compile(r"[\u064b-\u065f\u0670]")


def _strip_diacritics(word: str) -> str:
    """The word without its vowel marks (a word of marks alone is kept as it is)."""
    return _DIACRITICS.sub("", word) or word


def _follows_number(s: str, before: int) -> bool:
    """Does a number come just before position ``before`` ("1990م", "3:45 م")?"""
    k = before
    while k > 0 and s[k - 1] in " \u00a0":
        k -= 1
    return k > 0 and s[k - 1].isdigit()


def _after_qaf(s: str, before: int) -> bool:
    """Is the letter at ``before`` the م of ق.م or ق. م (BC)?"""
    k = before
    while k > 0 and s[k - 1] in " \u00a0":
        k -= 1
    return k >= 2 and s[k - 1] == "." and s[k - 2] == "ق" and (k == 2 or not s[k - 3].isalpha())


def _marker_ends_sentence(s: str, next_pos: int) -> bool:
    """After an era or time marker or "إلخ.": a boundary unless the sentence goes on."""
    if next_pos < len(s) and s[next_pos].isdigit():
        return False  # "ج 3 ص. 45", "1434 هـ. 2013 م"
    if _OPENER_PHRASE.match(s, next_pos):
        return True
    return _CONTINUES_AFTER_MARKER.match(s, next_pos) is None


# A list is numbered 1. 2. 3. ...; a number of one or two digits is a list number
# when the list's 1. and its neighbour in the sequence stand within this many
# characters of it on the same line ("الوزراء: 1. وزير المالية 2. وزير الخارجية").
_LIST_WINDOW = 400
_DIGIT_FORMS = ("0123456789", "٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹")


def _is_list_number(s: str, i: int) -> bool:
    """Is the number just before the full stop at s[i] a list number?"""
    k = i
    while k > 0 and s[k - 1].isdigit():
        k -= 1
    line_start = k
    while line_start > 0 and s[line_start - 1] in " \t\u00a0":
        line_start -= 1
    if line_start == 0 or s[line_start - 1] in _LINE_BREAKS:
        return True  # "1. " at the start of a line
    if i - k > 2 or not (s[k - 1].isspace() or s[k - 1] in ":("):
        return False  # a year, a decimal, a date
    try:
        number = int(s[k:i])
    except ValueError:
        return False
    window_start = max(0, k - _LIST_WINDOW)
    window_end = min(len(s), i + 1 + _LIST_WINDOW)
    before = _LINE_BREAK_RUN.split(s[window_start:k])[-1]
    if number == 1:
        after = _LINE_BREAK_RUN.split(s[i + 1 : window_end])[0]
        return _list_number_pattern(2).search(after) is not None
    # A list starts at 1: "في الدقيقة 45. ثم ... في الدقيقة 46." is no list.
    return number > 1 and all(_list_number_pattern(n).search(before) for n in {1, number - 1})


_LINE_BREAK_RUN = re.compile("[{}]".format(re.escape(_LINE_BREAKS)))


def _list_number_pattern(number: int) -> re.Pattern:
    """The list number ``number.`` in any of the digit forms, as a word of its own."""
    text = str(number)
    forms = "|".join(text.translate(str.maketrans("0123456789", digits)) for digits in _DIGIT_FORMS)
    return re.compile(r"(?:^|(?<=[\s:(]))(?:{})\.(?!\d)".format(forms))


def _attribution_follows(s: str, k: int, after_period: bool) -> bool:
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


# --- run-on sentences --------------------------------------------------------


def _clause_cuts(s: str, start: int, end: int, quote_state: tuple[bool, bool, int], max_words: int) -> list[int]:
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
            if p > start and _previous_nonspace(s, p) not in _COMMAS + _SEMICOLONS:
                inside = double or guillemet or depth
                candidates.append((p, _SPLIT_BARE_CONNECTIVE + (_SPLIT_INSIDE_QUOTE if inside else 0.0)))
            continue
        ch = s[p]
        if ch in _GUILLEMETS:
            guillemet = not guillemet
        elif ch in _DOUBLE_QUOTES:
            double = not double
        elif ch in _OPEN_BRACKETS:
            depth += 1
        elif ch in _CLOSE_BRACKETS:
            depth = max(0, depth - 1)
        else:
            if 0 < p < len(s) - 1 and s[p - 1].isdigit() and s[p + 1].isdigit():
                continue  # "1,000", "7،5"
            # A quote or bracket closed right after the comma stays on the
            # left: 'قال "نحن مستعدون،" وأضاف' is cut after the quote.
            cut = p + 1
            inside = double or guillemet or depth
            if cut < end and (
                (s[cut] in _DOUBLE_QUOTES and double and not guillemet and not depth)
                or (s[cut] in _GUILLEMETS and guillemet and not double and not depth)
                or (s[cut] in _CLOSE_BRACKETS and depth == 1 and not double and not guillemet)
            ):
                cut += 1
                inside = False
            if ch in _SEMICOLONS:
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
