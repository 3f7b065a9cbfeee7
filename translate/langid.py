"""Language and script of a sentence: letter counts by script, and a language identifier.

The identifier is py3langid (langid.py's model, bundled in the package), restricted to the languages a
wrong side of an Arabic–English pair is likely to be in. Measured by bench/clean_eval.py on 1,997 Arabic and
1,997 English sentences (Tatoeba dev and FLORES dev): py3langid right on 99.6 % of the Arabic and 98.8 % of
the English (98.8 % / 95.2 % of those of five words or fewer), and none of them rejected by the filters
below; lingua-language-detector (same candidates) 99.5 % / 98.6 %, about 20 times slower; heliport (all
its languages, not restrictable) 3 to 6 times faster but right on 95.8 % / 97.6 % only, and it would reject
33 of the 3,994 as Afrikaans, Danish, Persian, Urdu, Sindhi... Very short sentences ("Okay.", "So?") are
where identifiers fail, so a side of fewer than ``MIN_LETTERS`` letters is not judged.
"""
from __future__ import annotations

import re
from functools import lru_cache

# Arabic, English and the languages a wrong side is most often in (other Arabic-script languages, the
# large Latin-script ones). Fewer candidates: faster and fewer confusions on short text.
# (Malay is left out: Indonesian covers it, and the two split a sentence's probability between them)
CANDIDATES = ("ar", "fa", "ur", "ps", "en", "fr", "de", "es", "it", "pt", "nl", "tr", "id", "sw")
MIN_LETTERS = 12

ARABIC_LETTER = re.compile("[\u0620-\u064a\u066e-\u06d3\u06d5\u06fa-\u06ff\u0750-\u077f\u08a0-\u08ff"
                           "\ufb50-\ufdef\ufe70-\ufefc]")   # not the ligature signs U+FDF0-FDFF (ﷺ, ﷲ) used in English text
LATIN_LETTER = re.compile("[A-Za-z\u00c0-\u024f]")
ANY_LETTER = re.compile(r"[^\W\d_]")


# letters in any script but Arabic (digits, marks, punctuation and spacing are not letters)
NON_ARABIC_LETTER = re.compile("[^\\W\\d_\u0620-\u064a\u066e-\u06d3\u06d5\u06fa-\u06ff\u0750-\u077f"
                               "\u08a0-\u08ff\ufb50-\ufdef\ufe70-\ufefc]")


def arabic_letters(text: str) -> int:
    return len(ARABIC_LETTER.findall(text))


def non_arabic_letters(text: str) -> int:
    return len(NON_ARABIC_LETTER.findall(text))


def letters(text: str) -> int:
    return len(ANY_LETTER.findall(text))


_MIN_LETTERS = re.compile(r"(?:[\W\d_]*[^\W\d_]){%d}" % MIN_LETTERS)


def has_min_letters(text: str) -> bool:
    """Whether the text has MIN_LETTERS letters (stops counting there)."""
    return _MIN_LETTERS.match(text) is not None


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(CANDIDATES))
    return identifier


# digits say nothing of the language, except Persian digits, which would make Arabic look Persian
_DIGITS = str.maketrans({chr(0x0660 + d): str(d) for d in range(10)} | {chr(0x06F0 + d): str(d) for d in range(10)})


def identify(text: str) -> tuple[str, float]:
    """(ISO 639-1 code, probability among CANDIDATES)."""
    lang, prob = _identifier().classify(text.translate(_DIGITS))
    return lang, float(prob)


# Letters of Persian, Urdu, Pashto, Kurdish, Sindhi... that Arabic does not use: Arabic-script text without
# any of them cannot be one of those languages as written today, so the identifier is not asked.
OTHER_ARABIC_SCRIPT = re.compile("[\u0679-\u06a8\u06aa-\u06bf\u06c0-\u06d3\u06cc\u06a9\u0750-\u077f]")
# Function words of English that are not words of the other candidate languages ("i", "he", "me", "is",
# "a", "in" are): a sentence with one of them in every eight words is English without asking the
# identifier (which costs ~0.1 ms a sentence; the bench measures that no planted foreign side gets through).
ENGLISH_WORDS = frozenset("the and of to that this with for you she they it my your his their our from by about "
                          "there which who what have has had been were would could should not don't can't it's i'm "
                          "i've i'll".split())
_WORD = re.compile(r"[a-z']+")


def is_other_language(text: str, lang: str, min_prob: float) -> bool:
    """Whether ``text`` is in one language other than ``lang`` (``ar`` or ``en``) at ``min_prob`` or more."""
    if lang == "ar" and not OTHER_ARABIC_SCRIPT.search(text):      # (also checked by the caller: cheap)
        return False
    if lang == "en":
        words = _WORD.findall(text.lower())
        hits = sum(map(ENGLISH_WORDS.__contains__, words))
        if hits and hits * 8 >= len(words):
            return False
    guess, prob = identify(text)
    return guess != lang and prob >= min_prob


def identifier_version() -> str:
    from importlib.metadata import version

    return f"py3langid {version('py3langid')}"
