"""Quality estimation for an Arabic source and its English translation (machine or human).

``score_pair`` returns a ``Quality``: one calibrated ``score`` in [0, 1], a ``label`` and every
``signal`` it used (JSON-serialisable). Signals that need no model, so external translations can be
scored as well:

* ``length_z``: how far log(English chars / Arabic chars) lies from the expected ratio, in standard
  deviations (mean 0.17 and spread estimated on the UD Arabic PUD and Tatoeba parallel data; the
  spread grows for short sentences);
* ``numbers_missing`` / ``numbers_extra``: numbers of the source absent from the output and numbers
  of the output absent from the source (Arabic-Indic and Persian digits and the separators ٫ ٬ are
  normalised, ، or , between digits is a thousands or a decimal separator; a number written as words on
  the other side counts as present: الخمسة عشر / 15, 15 / fifteen, السبعينيات / 1970s); ``latin_missing``: Latin-script tokens of the source (names, codes) not carried over;
* ``arabic_left``: share of the output's letters that are still Arabic script (untranslated text);
* ``repetition``: share of repeated word 3-grams in the output beyond what the source has
  (decoder loops, hallucinated repetition);
* ``src_coverage`` / ``tgt_coverage``: lexical adequacy from the project's IBM Model 1 lexicon
  (``translate.lexicon``): the share of the source's content words whose translation appears in the
  output, and the share of the output's content words explained by some source word;
  ``ibm1_forward`` / ``ibm1_backward``: IBM Model 1 log-likelihood per word in each direction;
  ``src_unknown`` / ``tgt_unknown``: share of content words the lexicon does not know;
  ``soft_coverage``: like ``src_coverage`` but by character 3- and 4-grams, so an output word that is
  another form of a translation (medicine / medical) counts in part; ``src_ambiguity``: the mean
  number of lexicon translations of the source's known content words (common, many-sensed words make
  coverage easy to reach by chance and are translated more freely, so it describes the source);
* word frequency, from wordfreq's tables (``translate/data/zipf-{en,ar}.tsv.gz``, words of Zipf >= 2;
  Zipf = log10 occurrences per billion words): ``tgt_oov``, share of the output's words absent from the
  English table (misspelt, invented or untranslated words; bad when high); ``tgt_rare``, share of
  output words below Zipf 3 (precise vocabulary; weakly good); ``tgt_zipf``, mean Zipf of the output's
  words (generic wording when high); ``src_oov`` / ``src_rare`` / ``src_zipf``, the same of the
  Arabic source, and ``source_chars``: a difficult source (rare words, names, very short) makes every
  system's output worse, so these describe the source, not the translation;
* omission: ``source_sentences``, the sentences of the source line; ``sentences_missing``, how many
  more sentences the source has than the output (only a hint: systems merge sentences with commas or
  "and", or run them together with no space after the full stop); ``omission``, the source sentences
  whose content the output lacks (under ``LOST_CONTENT`` of their known content words, numbers and
  Latin-script names found in the output, or under ``LOST_CONTENT_FEWER`` when the output also has fewer
  sentences: a system that drops the second sentence of a line); ``glued_sentences``, output sentences
  run together with no space after the full stop (a flaw of form; the English splitter counts them as
  the sentences they are); ``sentence_coverage_min``, the ``src_coverage`` of the worst-covered source
  sentence (at most ``src_coverage``; bad when low);
* structure: ``punctuation_mismatch``, how far the output's punctuation (clause ends: commas and full
  stops; quotes; brackets; question and exclamation marks; colons and semicolons; dashes; counted by
  kind, digits' separators, hyphens inside words and apostrophes left out) is from the source's, 0
  when every kind has as many marks on both sides, towards 1 when they differ everywhere; the
  review page names the kinds that differ; ``names_mismatch``, the same
  for names: capitalised words of the output (not opening a sentence) against the source's Latin-script
  tokens and content words the lexicon does not know (mostly names); an output that drops or invents
  names, quotes and brackets is far from the reference;
* output form: ``target_chars``, ``capitalised`` (share of capitalised words that do not open a
  sentence: names carried over), ``long_words`` (share of words of 7+ letters) and ``word_length``: weak systems fall
  back on short, generic words, and these two track system quality (COMET) closely on FLORES;
* with the engine: ``logprob`` (mean log-probability per output token) and the engine ``flags``
  (``source_windows``, ``hit_max_length``, ``empty_output``) kept as they are;
* with a reference: ``chrf`` (sacrebleu sentence chrF, 0-100).

HTML entities in the output (&quot; &#39;, as some MT services return) are decoded before scoring.

Calibration: the score is a logistic function of the model-free signals, with coefficients fitted by
``bench/quality_eval.py --fit`` on FLORES-101 dev (seven MT systems) in two steps: a sign-constrained
least-squares fit of the signals to the rank of sentence chrF against the human reference (so the
score orders pairs as chrF does; the loss also weighs the differences between the systems'
translations of the same source, so signals that only track source difficulty do not decide how
systems rank), then a logistic squash of that linear score to chrF >= 60, so the
score reads roughly as "probability this translation is acceptable". Failures too rare in that data
to fit (untranslated Arabic, repetition loops, dropped numbers and Latin-script names) carry hand-set
penalties (``GUARDS``). ``logprob`` adds a fixed, hand-set term (no model outputs were available to
fit it); a reference moves the score mostly onto its chrF.

Labels (thresholds): ``good`` when score >= 0.60, ``bad`` when score < 0.30, ``check`` in between.
Whatever the score, output that lost text is ``bad`` with a score of at most 0.05 (``empty_output``,
``hit_max_length``, empty translation of a non-empty source), and a source translated in several
windows (``source_windows`` > 1) is at best ``check``.
"""
from __future__ import annotations

import gzip
import html
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .lexicon import (ARABIC_STOPWORDS, ENGLISH_STOPWORDS, LexiconError, arabic_tokens, english_tokens,
                      load_lexicon, normalize_arabic)

GOOD_THRESHOLD = 0.60
BAD_THRESHOLD = 0.30
LOST_TEXT_CAP = 0.05

# expected log(English chars / Arabic chars) and its spread; see the module docstring
LENGTH_LOG_RATIO = 0.17
LENGTH_SPREAD = 0.15
LENGTH_SHORT = 1.0          # extra variance (per Arabic character) for short sentences
LINK_THRESHOLD = 0.05       # lexicon probability above which two words count as translations

# logistic calibration: logit = intercept + sum(weight * feature). The guards are hand-set penalties for
# failures too rare in the dev data to fit (untranslated Arabic, decoder loops, dropped numbers and names);
# the other weights are fitted by bench/quality_eval.py --fit with the guards as a fixed offset.
GUARDS = {
    "numbers_missing": -0.8,
    "latin_missing": -0.5,
    "arabic_left": -6.0,
    "repetition": -6.0,
}
CALIBRATION = {
    "intercept": -0.14,
    "length_z2": -0.076,
    "log_length": 0.231,
    "numbers_extra": -0.207,
    "capitalised": 1.184,
    "long_words": 1.083,
    "word_length": 0.162,
    "src_coverage": 0.362,
    "tgt_coverage": 0.0,
    "src_unknown": -0.114,
    "tgt_unknown": 0.786,
    "ibm1_forward": 0.0,
    "ibm1_backward": 0.134,
    "ibm1_backward_floored": 0.365,
    "length_short": -0.082,
    "sentence_coverage_min": 0.431,
    "omission": -0.409,
    "glued_sentences": 0.0,
    "tgt_oov": -5.093,
    "tgt_rare": 0.339,
    "tgt_zipf": -0.159,
    "src_oov": -1.088,
    "src_rare": -1.097,
    "src_zipf": 0.158,
    "log_source_length": 0.226,
    "soft_coverage": 2.15,
    "src_ambiguity": -0.054,
    "punctuation_mismatch": -0.949,
    "names_mismatch": -0.305,
}
IBM1_FLOOR = -5.0           # below this, further drops of the backward likelihood count less (a noisier tail)
# hand-set (not fitted): a mean token log-probability of -0.6 is neutral; each nat lower costs 1.5 logits
LOGPROB_NEUTRAL = -0.6
LOGPROB_WEIGHT = 1.5
# with a reference, the score is mostly sigmoid((chrF - 50) / 8)
CHRF_WEIGHT = 0.75


@dataclass
class Quality:
    score: float
    label: str
    signals: dict = field(default_factory=dict)


# -- model-free signals -------------------------------------------------------------------------
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫", "01234567890123456789.")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_THOUSANDS = re.compile(r"(?<=\d)[,٬،](?=\d{3}(?!\d))")     # 2,220; 783،562 (an Arabic comma)
_LATIN_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*")
_ARABIC_LETTER = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_LETTER = re.compile(r"[^\W\d_]")
_WORD = re.compile(r"\w+")
_LATIN_WORD = re.compile(r"[A-Za-z]+")


_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d{1,2}(?!\d))")     # 6,34 (an Arabic decimal comma), not 2,220


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
    words = _ARABIC_WORD.findall(normalize_arabic(text))
    # a decade (السبعينيات, the 1970s) excuses 1970 and 70
    decades = [str(_ARABIC_NUMBER_WORDS[m.group(1)]) for w in words if (m := _ARABIC_DECADE.match(w))
               and m.group(1) in _ARABIC_NUMBER_WORDS]
    return [*_combine([(_arabic_number_value(w), w.startswith("و")) for w in words], arabic=True),
            *decades, *("19" + d for d in decades)]


def _unmatched(wanted: list[str], present: list[str], other_text: str, other_language: str) -> list[str]:
    """``wanted`` numbers (a multiset) not in ``present``, nor written as words in ``other_text``."""
    left = Counter(wanted) - Counter(present)
    if left:                                   # words are looked for only when some number is unmatched
        left -= Counter(number_words(other_text, other_language))
    return list(left.elements())


def missing_numbers(source: str, target: str) -> list[str]:
    """The source's numbers the output lacks (as many times as they are missing), a number the output
    writes as words counting as present."""
    return _unmatched(numbers(source), numbers(target), target, "en")


def extra_numbers(source: str, target: str) -> list[str]:
    """The output's numbers the source lacks, a number the source writes as words counting as present."""
    return _unmatched(numbers(target), numbers(source), source, "ar")


def _missing(wanted: list[str], present: list[str]) -> int:
    """How many of ``wanted`` (a multiset) are not matched by ``present``."""
    return sum((Counter(wanted) - Counter(present)).values())


def _repeated_trigrams(text: str) -> float:
    words = _WORD.findall(text.lower())
    grams = [tuple(words[i:i + 3]) for i in range(len(words) - 2)]
    if not grams:
        return 0.0
    return 1.0 - len(set(grams)) / len(grams)


# -- word frequency -------------------------------------------------------------------------------
DATA_DIR = Path(__file__).resolve().parent / "data"
ZIPF_UNKNOWN = 1.0          # Zipf given to a word absent from a table (the tables stop at Zipf 2)
RARE_ZIPF = 3.0             # below this a word counts as rare (about 1 in a million words)
_ENGLISH_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_ARABIC_WORD = re.compile("[\u0621-\u064a\u0671-\u06d3]+")


@lru_cache(maxsize=2)
def zipf_table(language: str) -> dict[str, float]:
    """word -> Zipf frequency from translate/data/zipf-LANG.tsv.gz (wordfreq data, tools/build_wordfreq.py);
    an empty table when the file is missing, so the scorer still works without it."""
    path = DATA_DIR / f"zipf-{language}.tsv.gz"
    table: dict[str, float] = {}
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                word, _, value = line.rstrip("\n").partition("\t")
                table[word] = float(value)
    except (OSError, ValueError):
        return {}
    return table


# (unknown share, rare share, mean Zipf) of a typical FLORES dev sentence: neutral values for a text with
# no word to look up, or when a table is missing
NEUTRAL_FREQUENCY = {"en": (0.0, 0.03, 5.7), "ar": (0.0, 0.08, 4.9)}


def _frequency(words: list[str], language: str) -> tuple[float, float, float]:
    """(share of words absent from the table, share of rare words, mean Zipf) of a word list."""
    table = zipf_table(language)
    if not words or not table:
        return NEUTRAL_FREQUENCY[language]
    zipf = [table.get(w, 0.0) for w in words]
    unknown = sum(1 for z in zipf if z == 0.0)
    rare = sum(1 for z in zipf if z < RARE_ZIPF)
    mean = sum(z or ZIPF_UNKNOWN for z in zipf) / len(zipf)
    return unknown / len(words), rare / len(words), mean


# -- sentence structure (omission) ----------------------------------------------------------------
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


def prepare() -> None:
    """Load the scorer's data now (the lexicon takes seconds) rather than at the first pair."""
    load_lexicon()
    zipf_table("en")
    zipf_table("ar")


def _sentence_shares(sentence: str, lexicon, covered: set[str], target_numbers: list[str],
                     target_latin: list[str]) -> tuple[float | None, float | None]:
    """Of one source sentence: the share of its known content words that are ``covered`` (None under 3
    such words), and the share of its content found in the output: those words, its numbers and its
    Latin-script names (None under 3 such items)."""
    known = [w for w in arabic_tokens(sentence) if w not in ARABIC_STOPWORDS and w in lexicon.forward]
    hits = sum(1 for w in known if w in covered)
    sentence_numbers = numbers(sentence)
    latin = [t.lower() for t in _LATIN_TOKEN.findall(sentence)]
    items = len(known) + len(sentence_numbers) + len(latin)
    found = (hits + len(sentence_numbers) - _missing(sentence_numbers, target_numbers)
             + len(latin) - _missing(latin, target_latin)) if items >= 3 else 0
    return hits / len(known) if len(known) >= 3 else None, found / items if items >= 3 else None


# a source sentence whose content the output lacks is omitted: below LOST_CONTENT of its content found, or
# below LOST_CONTENT_FEWER when the output also has fewer sentences than the source (the count is a hint,
# never proof: systems merge sentences with commas or "and")
LOST_CONTENT = 0.35
LOST_CONTENT_FEWER = 0.5
SHORT_OUTPUT = -1.5         # length_z below which the output is short enough to hint at an omission


def omitted_sentences(content: list[float | None], sentences_missing: int, length_z: float) -> int:
    """Source sentences judged left out of the output, from each one's share of content found; an output
    with fewer sentences than the source, or shorter than expected, makes the test less strict."""
    limit = LOST_CONTENT_FEWER if sentences_missing > 0 or length_z < SHORT_OUTPUT else LOST_CONTENT
    return sum(1 for share in content if share is not None and share < limit)


SOFT_TRANSLATIONS = 4       # translations of a source word whose character grams soft_coverage looks for


@lru_cache(maxsize=1 << 16)
def _char_grams(*words: str) -> frozenset[str]:
    """Character 3- and 4-grams of a few words (each padded with a space on both sides): one word of an
    output, or the best translations of one source word."""
    return frozenset(f" {w} "[i:i + n] for w in words for n in (3, 4) for i in range(len(w) + 3 - n))


def _soft_coverage(known_src: list[str], lexicon, tgt: list[str]) -> float:
    """Mean share of the character 3/4-grams of each known source word's best translations that occur in
    the output's content words (0.5, neutral, when there is nothing to check)."""
    output_grams = frozenset().union(*(_char_grams(e) for e in tgt))
    shares = [len(grams & output_grams) / len(grams)
              for grams in (_char_grams(*lexicon.best(a, SOFT_TRANSLATIONS)) for a in known_src) if grams]
    return sum(shares) / len(shares) if shares else 0.5


def _adequacy(source: str, target: str, source_sentences: list[str]) -> dict:
    """Lexical adequacy of a pair from the IBM Model 1 lexicon (see the module docstring).

    Every loop runs over the lexicon rows of the pair's words (a few dozen entries each), never over all
    source x target word pairs, so long sentences stay cheap."""
    lexicon = load_lexicon()
    forward_table, backward_table = lexicon.forward, lexicon.backward
    src_all, tgt_all = arabic_tokens(source), english_tokens(target)
    src = [w for w in src_all if w not in ARABIC_STOPWORDS]
    tgt = [w for w in tgt_all if w not in ENGLISH_STOPWORDS]
    tgt_set, src_set = set(tgt), set(src)
    # a source and an output word are linked when lexicon.link(a, e) >= LINK_THRESHOLD, in either direction
    src_links = {a: {e for e, p in forward_table.get(a, {}).items() if p >= LINK_THRESHOLD} for a in src_set}
    tgt_links = {e: {a for a, p in backward_table.get(e, {}).items() if p >= LINK_THRESHOLD} for e in tgt_set}
    covered = {a for a, linked in src_links.items() if linked & tgt_set}
    covered.update(a for linked in tgt_links.values() for a in linked & src_set)
    tgt_linked = {e for e, linked in tgt_links.items() if linked & src_set}
    tgt_linked.update(e for linked in src_links.values() for e in linked & tgt_set)
    known_src = [w for w in src if w in forward_table]
    src_hits = sum(1 for a in known_src if a in covered)
    known_tgt = [e for e in tgt if e in backward_table]
    tgt_hits = sum(1 for e in known_tgt if e in tgt_linked)
    # omission: the coverage of the worst-covered source sentence (a dropped sentence scores near 0)
    sentences = source_sentences if known_src else []
    target_numbers, target_latin = numbers(target), [t.lower() for t in _LATIN_TOKEN.findall(target)]
    shares = [_sentence_shares(s, lexicon, covered, target_numbers, target_latin) for s in sentences] \
        if len(sentences) > 1 else []
    sentence_coverage = [coverage for coverage, _ in shares if coverage is not None]
    sentence_content = [content for _, content in shares]
    # IBM Model 1 log-likelihood per word in both directions, floored so one unknown word cannot dominate
    forward_mass, backward_mass = Counter(), Counter()
    for a in src_all:
        forward_mass.update(forward_table.get(a, {}))
    for e in tgt_all:
        backward_mass.update(backward_table.get(e, {}))
    forward = [forward_mass.get(e, 0.0) / (len(src_all) + 1) for e in tgt_all]
    backward = [backward_mass.get(a, 0.0) / (len(tgt_all) + 1) for a in src_all]
    floor = 1e-4
    src_coverage = src_hits / len(known_src) if known_src else 0.5
    unknown_names = sum(1 for w in src if w not in forward_table and len(w) >= 3)
    return {
        "soft_coverage": _soft_coverage(known_src, lexicon, tgt),
        # with no source word known, the FLORES dev mean
        "src_ambiguity": sum(len(forward_table[a]) for a in known_src) / len(known_src) if known_src else 10.5,
        "unknown_names": unknown_names,
        "sentence_content": sentence_content,
        # with nothing to check, coverage is neutral (0.5) rather than perfect
        "src_coverage": src_coverage,
        "sentence_coverage_min": min([src_coverage, *sentence_coverage]),
        "tgt_coverage": tgt_hits / len(known_tgt) if known_tgt else 0.5,
        "src_unknown": (len(src) - len(known_src)) / len(src) if src else 0.0,
        "tgt_unknown": (len(tgt) - len(known_tgt)) / len(tgt) if tgt else 0.0,
        "ibm1_forward": sum(math.log(p + floor) for p in forward) / len(forward) if forward else math.log(floor),
        "ibm1_backward": sum(math.log(p + floor) for p in backward) / len(backward) if backward else math.log(floor),
    }


# punctuation kinds compared between source and output (Arabic and Latin forms of each kind together);
# commas and full stops are one kind, clause ends, because a translation of a long Arabic sentence chained
# with commas may rightly end some of its clauses with full stops
PUNCTUATION_KINDS = {"clause": "،,.", "quote": "\"«»“”'‘’", "bracket": "()[]", "question": "?؟!", "colon": ":;؛",
                     "dash": "-–—"}
_NUMBER_SEPARATOR = re.compile(r"(?<=\d)[.,٫٬](?=\d)")
_INNER_HYPHEN = re.compile(r"(?<=\w)-(?=\w)")
_APOSTROPHE = re.compile(r"(?<=[A-Za-z])'(?=[A-Za-z])|(?<=s)'(?=\s)")
_INITIALISM = re.compile(r"\b(?:[A-Za-z]\.){2,}")
_SENTENCE_OPENING = re.compile(r"[\s\"'“‘(]*([A-Z][A-Za-z]+)")       # a capitalised first word of a sentence
_CAPITALISED = re.compile(r"\b[A-Z][A-Za-z]+")


def punctuation_counts(text: str) -> dict[str, int]:
    """Marks of each kind; separators inside numbers, hyphens inside words, apostrophes (don't, Paris')
    and the dots of initialisms (U.S.) are not punctuation."""
    text = _APOSTROPHE.sub("", _INNER_HYPHEN.sub("", _NUMBER_SEPARATOR.sub("", text)))
    # an initialism ending the line also ends its sentence: keep one full stop for it
    text = _INITIALISM.sub(lambda m: "." if not text[m.end():].strip() else "", text)
    return {kind: sum(text.count(c) for c in marks) for kind, marks in PUNCTUATION_KINDS.items()}


def _mismatch(a: int, b: int) -> float:
    """|a - b| relative to a + b: 0 when equal, towards 1 when one side has none."""
    return abs(a - b) / (1 + a + b)


def punctuation_mismatch(source: str, target: str) -> float:
    """Marks whose count differs between source and output, summed over kinds, relative to all marks."""
    src, tgt = punctuation_counts(source), punctuation_counts(target)
    return sum(abs(src[k] - tgt[k]) for k in src) / (1 + sum(src.values()) + sum(tgt.values()))


def names_mismatch(source: str, target_sentences: list[str], unknown_names: int) -> float:
    """Capitalised words of the output (its ``sentence_spans``; a word opening a sentence does not count,
    unless the source has it in Latin script) against the source's Latin-script tokens and content words
    the lexicon does not know (``unknown_names``)."""
    latin = _LATIN_TOKEN.findall(source)
    carried = {t.lower() for t in latin}
    openings = [_SENTENCE_OPENING.match(sentence) for sentence in target_sentences]
    capitalised = sum(len(_CAPITALISED.findall(sentence)) for sentence in target_sentences) - \
        sum(1 for opening in openings if opening and opening.group(1).lower() not in carried)
    return _mismatch(capitalised, unknown_names + len(latin))


def capitalised_share(sentences: list[str]) -> float:
    """Share of the words that are capitalised without opening a sentence (names carried into the output);
    how the output divides its sentences (merged with commas, split) does not change it."""
    words = [sentence.split() for sentence in sentences]
    total = sum(map(len, words))
    return sum(1 for each in words for w in each[1:] if w[:1].isupper()) / total if total else 0.0


def signals_for(source: str, target: str) -> dict:
    """Every model-free signal of a pair (see the module docstring)."""
    # some MT services return HTML-escaped text (&quot; &#39;); that is an encoding matter, not quality
    target = html.unescape(target) if "&" in target else target
    src_chars = len(re.sub(r"\s", "", source))
    tgt_chars = len(re.sub(r"\s", "", target))
    if src_chars and tgt_chars:
        spread = math.sqrt(LENGTH_SPREAD ** 2 + LENGTH_SHORT / src_chars)
        length_z = (math.log(tgt_chars / src_chars) - LENGTH_LOG_RATIO) / spread
    else:
        length_z = 0.0 if src_chars == tgt_chars else -10.0
    src_numbers, tgt_numbers = numbers(source), numbers(target)
    latin = _LATIN_TOKEN.findall(source)
    target_letters = _LETTER.findall(target)
    arabic_left = (sum(1 for c in target_letters if _ARABIC_LETTER.match(c)) / len(target_letters)
                   if target_letters else 0.0)
    source_sentences, target_sentences = sentence_spans(source, "ar"), sentence_spans(target, "en")
    try:
        adequacy = _adequacy(source, target, source_sentences)
    except LexiconError:
        adequacy = {"soft_coverage": 0.5, "src_ambiguity": 10.5, "unknown_names": 0, "sentence_content": [],
                    "src_coverage": 0.5,
                    "sentence_coverage_min": 0.5, "tgt_coverage": 0.5, "src_unknown": 0.0, "tgt_unknown": 0.0,
                    "ibm1_forward": -5.0, "ibm1_backward": -5.0}
    unknown_names = adequacy.pop("unknown_names")         # a count for names_mismatch, not a signal
    sentence_content = adequacy.pop("sentence_content")   # per source sentence, for the omission test
    sentences_missing = max(0, len(source_sentences) - len(target_sentences)) if target.strip() \
        else len(source_sentences)
    tgt_oov, tgt_rare, tgt_zipf = _frequency(_ENGLISH_WORD.findall(target.lower()), "en")
    src_oov, src_rare, src_zipf = _frequency(_ARABIC_WORD.findall(normalize_arabic(source)), "ar")
    words = target.split()
    latin_words = _LATIN_WORD.findall(target)
    return {
        "length_z": round(length_z, 3),
        "target_chars": tgt_chars,
        "numbers_missing": len(_unmatched(src_numbers, tgt_numbers, target, "en")),
        "numbers_extra": len(_unmatched(tgt_numbers, src_numbers, source, "ar")),
        "source_numbers": len(src_numbers),
        "latin_missing": _missing([t.lower() for t in latin], [t.lower() for t in _LATIN_TOKEN.findall(target)]),
        "arabic_left": round(arabic_left, 3),
        "repetition": round(max(0.0, _repeated_trigrams(target) - _repeated_trigrams(source)), 3),
        # share of capitalised words after the first: names carried into the output
        "capitalised": round(capitalised_share(target_sentences), 3),
        # precise vocabulary: weak systems fall back on short, generic words
        "long_words": round(sum(1 for w in latin_words if len(w) >= 7) / len(latin_words), 3) if latin_words else 0.0,
        "word_length": round(sum(map(len, latin_words)) / len(latin_words), 3) if latin_words else 0.0,
        **{name: round(value, 3) for name, value in adequacy.items()},
        # word frequency (wordfreq tables): unusual or unknown output words, a difficult source
        "tgt_oov": round(tgt_oov, 3),
        "tgt_rare": round(tgt_rare, 3),
        "tgt_zipf": round(tgt_zipf, 3),
        "src_oov": round(src_oov, 3),
        "src_rare": round(src_rare, 3),
        "src_zipf": round(src_zipf, 3),
        "source_chars": src_chars,
        # structure: punctuation and names of the source against the output's
        "punctuation_mismatch": round(punctuation_mismatch(source, target), 3),
        "names_mismatch": round(names_mismatch(source, target_sentences, unknown_names), 3),
        # omission: sentences of the source whose content the output lacks (the sentence count is a hint);
        # sentences glued with no space after the full stop are a flaw of form, not an omission
        "source_sentences": len(source_sentences),
        "sentences_missing": sentences_missing,
        "omission": omitted_sentences(sentence_content, sentences_missing, length_z) if target.strip()
        else len(source_sentences),
        "glued_sentences": glued_sentences(target_sentences),
    }


def features(signals: dict) -> dict[str, float]:
    """The bounded numeric features the calibration weighs, from the signals."""
    return {
        "length_z2": min(signals["length_z"] ** 2, 16.0),
        "log_length": math.log1p(signals["target_chars"]),
        "numbers_missing": min(signals["numbers_missing"], 3),
        "numbers_extra": min(signals["numbers_extra"], 3),
        "latin_missing": min(signals["latin_missing"], 3),
        "arabic_left": signals["arabic_left"],
        "repetition": signals["repetition"],
        "capitalised": signals["capitalised"],
        "long_words": signals["long_words"],
        "word_length": min(signals["word_length"], 12.0),
        "src_coverage": signals["src_coverage"],
        "tgt_coverage": signals["tgt_coverage"],
        "src_unknown": signals["src_unknown"],
        "tgt_unknown": signals["tgt_unknown"],
        "ibm1_forward": signals["ibm1_forward"],
        "ibm1_backward": signals["ibm1_backward"],
        # with ibm1_backward, a piecewise-linear term: steeper in the usual range, flatter in the tail
        "ibm1_backward_floored": max(signals["ibm1_backward"], IBM1_FLOOR),
        "length_short": min(max(0.0, -signals["length_z"]), 4.0),
        "sentence_coverage_min": signals["sentence_coverage_min"],
        "omission": min(signals["omission"], 2),
        "glued_sentences": min(signals["glued_sentences"], 2),
        "tgt_oov": signals["tgt_oov"],
        "tgt_rare": signals["tgt_rare"],
        "tgt_zipf": signals["tgt_zipf"],
        "src_oov": signals["src_oov"],
        "src_rare": signals["src_rare"],
        "src_zipf": signals["src_zipf"],
        "log_source_length": math.log1p(signals["source_chars"]),
        "soft_coverage": signals["soft_coverage"],
        "src_ambiguity": min(signals["src_ambiguity"], 30.0),
        "punctuation_mismatch": signals["punctuation_mismatch"],
        "names_mismatch": signals["names_mismatch"],
    }


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, x))))


def label_for(score: float) -> str:
    return "good" if score >= GOOD_THRESHOLD else "bad" if score < BAD_THRESHOLD else "check"


def score_pair(source: str, target: str, logprob: float | None = None,
               reference: str | None = None, flags: dict | None = None) -> Quality:
    signals = signals_for(source, target)
    weights = {**CALIBRATION, **GUARDS}
    logit = CALIBRATION["intercept"] + sum(weights[k] * v for k, v in features(signals).items())
    if logprob is not None and math.isfinite(logprob):
        signals["logprob"] = round(logprob, 4)
        logit += LOGPROB_WEIGHT * (logprob - LOGPROB_NEUTRAL)
    score = _sigmoid(logit)
    if reference is not None:
        from sacrebleu.metrics import CHRF

        chrf = CHRF().sentence_score(target, [reference]).score
        signals["chrf"] = round(chrf, 2)
        score = (1 - CHRF_WEIGHT) * score + CHRF_WEIGHT * _sigmoid((chrf - 50.0) / 8.0)
    flags = dict(flags or {})
    signals.update(flags)
    lost_text = bool(flags.get("empty_output") or flags.get("hit_max_length")) or \
        (bool(source.strip()) and not target.strip())
    if lost_text:
        score = min(score, LOST_TEXT_CAP)
    label = label_for(score)
    if int(flags.get("source_windows", 1) or 1) > 1 and label == "good":
        label = "check"
    return Quality(round(score, 4), label, signals)
