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
  English table (misspelt, invented or untranslated words; bad when high; words carried over from the
  source's Latin script, such as a name or a title in brackets, are left out); ``tgt_rare``, share of
  output words below Zipf 3 (precise vocabulary; weakly good); ``tgt_zipf``, mean Zipf of the output's
  words (generic wording when high); ``src_oov`` / ``src_rare`` / ``src_zipf``, the same of the
  Arabic source, and ``source_chars``: a difficult source (rare words, names, very short) makes every
  system's output worse, so these describe the source, not the translation;
* ``fluency``: the mean information, in nats per word, that each output word's predecessor gives about it
  under an English word-bigram model (``translate.scoring.fluency``: counts from Tatoeba and UD PUD English
  over wordfreq's unigram frequencies); a word salad of the same words scores lower;
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
  when every kind has as many marks on both sides, towards 1 when they differ everywhere (clause marks
  the output adds count half: English punctuates clauses more than Arabic, which chains them with و); the
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

import html
import math
import re
from dataclasses import dataclass, field

from .lexicon import LexiconError, load_lexicon, normalize_arabic
# the parts live in translate/scoring/, one concern a module; this module puts them together and keeps every
# public name importable from here (a package named translate/score/ would clash with the API function that
# translate/__init__.py binds to translate.score)
from .scoring.adequacy import LINK_THRESHOLD, SOFT_TRANSLATIONS, adequacy_signals
from .scoring.calibration import (BAD_THRESHOLD, CALIBRATION, CHRF_WEIGHT, GOOD_THRESHOLD, GUARDS, IBM1_FLOOR,
                                  LOGPROB_NEUTRAL, LOGPROB_WEIGHT, LOST_TEXT_CAP, features, label_for, sigmoid)
from .scoring.carried import (LATIN_TOKEN, carried_words, count_missing, extra_numbers, missing_numbers,
                              number_words, numbers, unmatched)
from .scoring.fluency import bigram_model, fluency
from .scoring.form import (PUNCTUATION_KINDS, capitalised_share, names_mismatch, punctuation_counts,
                           punctuation_mismatch, repeated_trigrams)
from .scoring.frequency import (ARABIC_WORD, DATA_DIR, ENGLISH_WORD, NEUTRAL_FREQUENCY, RARE_ZIPF, ZIPF_UNKNOWN,
                                frequency, zipf_table)
from .scoring.omission import LOST_CONTENT, LOST_CONTENT_FEWER, SHORT_OUTPUT, omitted_sentences
from .scoring.sentences import glued_sentences, sentence_spans

__all__ = ["BAD_THRESHOLD", "CALIBRATION", "CHRF_WEIGHT", "DATA_DIR", "GOOD_THRESHOLD", "GUARDS", "IBM1_FLOOR",
           "LENGTH_LOG_RATIO", "LENGTH_SHORT", "LENGTH_SPREAD", "LINK_THRESHOLD", "LOGPROB_NEUTRAL", "LOGPROB_WEIGHT",
           "LOST_CONTENT", "LOST_CONTENT_FEWER", "LOST_TEXT_CAP", "NEUTRAL_FREQUENCY", "PUNCTUATION_KINDS", "Quality",
           "RARE_ZIPF", "SHORT_OUTPUT", "SOFT_TRANSLATIONS", "ZIPF_UNKNOWN", "capitalised_share", "extra_numbers",
           "features", "glued_sentences", "label_for", "missing_numbers", "names_mismatch", "number_words", "numbers",
           "omitted_sentences", "prepare", "punctuation_counts", "punctuation_mismatch", "score_pair",
           "sentence_spans", "signals_for", "zipf_table"]

# expected log(English chars / Arabic chars) and its spread; see the module docstring
LENGTH_LOG_RATIO = 0.17
LENGTH_SPREAD = 0.15
LENGTH_SHORT = 1.0          # extra variance (per Arabic character) for short sentences
_ARABIC_LETTER = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_LETTER = re.compile(r"[^\W\d_]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")


@dataclass
class Quality:
    score: float
    label: str
    signals: dict = field(default_factory=dict)


def prepare() -> None:
    """Load the scorer's data now (the lexicon takes seconds) rather than at the first pair."""
    load_lexicon()
    zipf_table("en")
    zipf_table("ar")
    bigram_model()


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
    latin = LATIN_TOKEN.findall(source)
    target_letters = _LETTER.findall(target)
    arabic_left = (sum(1 for c in target_letters if _ARABIC_LETTER.match(c)) / len(target_letters)
                   if target_letters else 0.0)
    source_sentences, target_sentences = sentence_spans(source, "ar"), sentence_spans(target, "en")
    try:
        adequacy = adequacy_signals(source, target, source_sentences)
    except LexiconError:
        adequacy = {"soft_coverage": 0.5, "src_ambiguity": 10.5, "unknown_names": 0, "sentence_content": [],
                    "src_coverage": 0.5,
                    "sentence_coverage_min": 0.5, "tgt_coverage": 0.5, "src_unknown": 0.0, "tgt_unknown": 0.0,
                    "ibm1_forward": -5.0, "ibm1_backward": -5.0}
    unknown_names = adequacy.pop("unknown_names")         # a count for names_mismatch, not a signal
    sentence_content = adequacy.pop("sentence_content")   # per source sentence, for the omission test
    sentences_missing = max(0, len(source_sentences) - len(target_sentences)) if target.strip() \
        else len(source_sentences)
    target_words = ENGLISH_WORD.findall(target.lower())
    tgt_oov, tgt_rare, tgt_zipf = frequency(target_words, "en")
    # a name or title carried over from the source's Latin script (República Dominicana) is not a misspelt or
    # invented English word: tgt_oov leaves such words out
    carried = carried_words(source)
    tgt_oov = frequency([w for w in target_words if w not in carried], "en")[0] if carried else tgt_oov
    src_oov, src_rare, src_zipf = frequency(ARABIC_WORD.findall(normalize_arabic(source)), "ar")
    latin_words = _LATIN_WORD.findall(target)
    fluency_gain, disfluent = fluency(target)
    return {
        "length_z": round(length_z, 3),
        "target_chars": tgt_chars,
        "numbers_missing": len(unmatched(src_numbers, tgt_numbers, target, "en")),
        "numbers_extra": len(unmatched(tgt_numbers, src_numbers, source, "ar")),
        "source_numbers": len(src_numbers),
        "latin_missing": count_missing([t.lower() for t in latin], [t.lower() for t in LATIN_TOKEN.findall(target)]),
        "arabic_left": round(arabic_left, 3),
        "repetition": round(max(0.0, repeated_trigrams(target) - repeated_trigrams(source)), 3),
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
        # fluency: how much an English bigram model prefers the output's word order (a target-side check on
        # the lexicon's taste for literal wording)
        "fluency": round(fluency_gain, 3),
        "disfluent": round(disfluent, 3),
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


def score_pair(source: str, target: str, logprob: float | None = None,
               reference: str | None = None, flags: dict | None = None) -> Quality:
    signals = signals_for(source, target)
    weights = {**CALIBRATION, **GUARDS}
    logit = CALIBRATION["intercept"] + sum(weights[k] * v for k, v in features(signals).items())
    if logprob is not None and math.isfinite(logprob):
        signals["logprob"] = round(logprob, 4)
        logit += LOGPROB_WEIGHT * (logprob - LOGPROB_NEUTRAL)
    score = sigmoid(logit)
    if reference is not None:
        from sacrebleu.metrics import CHRF

        chrf = CHRF().sentence_score(target, [reference]).score
        signals["chrf"] = round(chrf, 2)
        score = (1 - CHRF_WEIGHT) * score + CHRF_WEIGHT * sigmoid((chrf - 50.0) / 8.0)
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
