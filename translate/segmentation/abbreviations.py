"""Does a full stop after a word or a number end the sentence? Abbreviations and initials (Latin or spelt
in Arabic script), era and time markers, "إلخ", and the numbers of an inline list."""
from __future__ import annotations

import re

from .characters import ARABIC_LETTER, LATIN_LETTER, LINE_BREAKS, letters_before, previous_nonspace

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


def period_after_word_is_boundary(s: str, i: int, next_pos: int) -> bool:
    """A full stop at s[i] followed (after spaces) by the word at next_pos."""
    letters = letters_before(s, i)
    before = i - len(letters)
    char_before = s[before - 1] if before > 0 else ""
    if not letters:
        return not (i > 0 and s[i - 1].isdigit() and _is_list_number(s, i))
    word = _strip_diacritics(letters)
    if ARABIC_LETTER.match(word[-1]):
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
    if LATIN_LETTER.match(word[-1]):
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
            prev_word_arabic = ARABIC_LETTER.match(previous_nonspace(s, before) or " ")
            next_arabic = next_pos < len(s) and ARABIC_LETTER.match(s[next_pos])
            return bool(prev_word_arabic and next_arabic)
        return True
    return True


def _letter_name_follows(s: str, next_pos: int) -> bool:
    """Is the word at next_pos an initial too ("دي. كي.")?"""
    end = next_pos
    while end < len(s) and ARABIC_LETTER.match(s, end):
        end += 1
    return end < len(s) and s[end] == "." and s[next_pos:end] in _LETTER_NAMES


def _letter_name_precedes(s: str, before: int) -> bool:
    """Is the word before position ``before`` an initial too ("جي. بي.")?"""
    k = before
    while k > 0 and s[k - 1] in " \u00a0":
        k -= 1
    if k == before or k == 0 or s[k - 1] != ".":
        return False
    return letters_before(s, k - 1) in _LETTER_NAMES


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
    if line_start == 0 or s[line_start - 1] in LINE_BREAKS:
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


_LINE_BREAK_RUN = re.compile("[{}]".format(re.escape(LINE_BREAKS)))


def _list_number_pattern(number: int) -> re.Pattern:
    """The list number ``number.`` in any of the digit forms, as a word of its own."""
    text = str(number)
    forms = "|".join(text.translate(str.maketrans("0123456789", digits)) for digits in _DIGIT_FORMS)
    return re.compile(r"(?:^|(?<=[\s:(]))(?:{})\.(?!\d)".format(forms))
