"""What a translation carries over unchanged: numbers (Arabic-Indic digits and separators normalised,
numbers written as words on either side) and Latin-script tokens (names, codes)."""
from __future__ import annotations

import re
from collections import Counter

from ..lexicon import normalize_arabic
from .frequency import ARABIC_WORD

LATIN_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*")
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫", "01234567890123456789.")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_THOUSANDS = re.compile(r"(?<=\d)[,٬،](?=\d{3}(?!\d))")     # 2,220; 783،562 (an Arabic comma)
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d{1,2}(?!\d))")     # 6,34 (an Arabic decimal comma), not 2,220


def carried_words(source: str) -> set[str]:
    """The source's Latin-script tokens (names, titles, codes) lower-cased, and the words inside them
    (``Grachtengordel``, ``república``, ``covid``, ``19``), as an output that carries them over spells them."""
    tokens = {t.lower() for t in LATIN_TOKEN.findall(source)}
    return tokens | {w for t in tokens for w in re.findall(r"[a-z]+", t)}


def numbers(text: str) -> list[str]:
    """Numbers as normalised strings: Western digits, no thousands separators, no leading zeros."""
    text = _THOUSANDS.sub("", _DECIMAL_COMMA.sub(".", text.translate(_DIGITS)))
    return [m.group().lstrip("0") or "0" for m in _NUMBER.finditer(text)]


# numbers written as words: a system may write "15" for الخمسة عشر, or "fifteen" for 15; these only ever
# excuse a number, never count as one (a word such as "one" or أحد is often no number at all)
_ENGLISH_NUMBER_WORDS = {
    **{w: i for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen".split())},
    **{w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)},
    **{w: i for i, w in enumerate("first second third fourth fifth sixth seventh eighth ninth tenth".split(), 1)},
    "hundred": 100, "thousand": 1000, "dozen": 12,
}
# normalised as lexicon.normalize_arabic writes them (ة -> ه, ى -> ي, hamza seats folded)
_ARABIC_NUMBER_WORDS = {
    **{w: value for value, forms in enumerate((
        "واحد واحده احد احدي اول اولي", "اثنان اثنين اثنتان اثنتين اثنا اثنتا ثاني ثانيه",
        "ثلاث ثلاثه ثالث ثالثه", "اربع اربعه رابع رابعه", "خمس خمسه خامس خامسه", "ست سته سادس سادسه",
        "سبع سبعه سابع سابعه", "ثمان ثماني ثمانيه ثامن ثامنه", "تسع تسعه تاسع تاسعه", "عشر عشره عاشر عاشره"), 1)
       for w in forms.split()},
    **{w: 10 * value for value, forms in enumerate((
        "عشرون عشرين", "ثلاثون ثلاثين", "اربعون اربعين", "خمسون خمسين", "ستون ستين", "سبعون سبعين",
        "ثمانون ثمانين", "تسعون تسعين"), 2) for w in forms.split()},
    "مايه": 100, "ميه": 100, "مايتان": 200, "مايتين": 200, "الف": 1000, "الفان": 2000, "الفين": 2000,
}
_ARABIC_PROCLITIC = re.compile("^(?:[وفبلك]{0,2}ال|[وفبلك]{1,2})")
_ARABIC_DECADE = re.compile("^(?:[وفبلك]{0,2}ال)?(\\w+ين)(?:يات|ات)$")


def _arabic_number_value(word: str) -> int | None:
    if word in _ARABIC_NUMBER_WORDS:
        return _ARABIC_NUMBER_WORDS[word]
    return _ARABIC_NUMBER_WORDS.get(_ARABIC_PROCLITIC.sub("", word, count=1))


def _combine(values: list[tuple[int | None, bool]], arabic: bool) -> list[str]:
    """Numbers spelt over several words: in Arabic a unit and ten (خمسة عشر: 15) and a unit and "and" tens
    (خمسة وعشرون: 25); in English tens and a unit (twenty-five). ``values``: (value or None, joined by
    "and") per word."""
    out, i = [], 0
    while i < len(values):
        value, _ = values[i]
        following, joined = values[i + 1] if i + 1 < len(values) else (None, False)
        if arabic and value is not None and value < 10 and following == 10:      # a teen
            out.append(str(value + 10))
            i += 2
            continue
        if arabic and value is not None and value < 10 and following and following % 10 == 0 and 20 <= following < 100 \
                and joined:
            out.append(str(value + following))                                  # unit and tens
            i += 2
            continue
        if not arabic and value is not None and 20 <= value < 100 and value % 10 == 0 and following \
                and following < 10:
            out.append(str(value + following))                                  # tens and unit
            i += 2
            continue
        if value is not None:
            out.append(str(value))
        i += 1
    return out


def number_words(text: str, language: str) -> list[str]:
    """Numbers written as words in ``text`` (English or Arabic), as ``numbers`` writes them."""
    if language == "en":
        words = re.findall(r"[a-z]+", text.lower())
        return _combine([(_ENGLISH_NUMBER_WORDS.get(w), False) for w in words], arabic=False)
    words = ARABIC_WORD.findall(normalize_arabic(text))
    # a decade (السبعينيات, the 1970s) excuses 1970 and 70
    decades = [str(_ARABIC_NUMBER_WORDS[m.group(1)]) for w in words if (m := _ARABIC_DECADE.match(w))
               and m.group(1) in _ARABIC_NUMBER_WORDS]
    return [*_combine([(_arabic_number_value(w), w.startswith("و")) for w in words], arabic=True),
            *decades, *("19" + d for d in decades)]


def unmatched(wanted: list[str], present: list[str], other_text: str, other_language: str) -> list[str]:
    """``wanted`` numbers (a multiset) not in ``present``, nor written as words in ``other_text``."""
    left = Counter(wanted) - Counter(present)
    if left:                                   # words are looked for only when some number is unmatched
        left -= Counter(number_words(other_text, other_language))
    return list(left.elements())


def missing_numbers(source: str, target: str) -> list[str]:
    """The source's numbers the output lacks (as many times as they are missing), a number the output
    writes as words counting as present."""
    return unmatched(numbers(source), numbers(target), target, "en")


def extra_numbers(source: str, target: str) -> list[str]:
    """The output's numbers the source lacks, a number the source writes as words counting as present."""
    return unmatched(numbers(target), numbers(source), source, "ar")


def count_missing(wanted: list[str], present: list[str]) -> int:
    """How many of ``wanted`` (a multiset) are not matched by ``present``."""
    return sum((Counter(wanted) - Counter(present)).values())
