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
    return are_other_languages([text], [lang], min_prob)[0]


def are_other_languages(texts: list[str], langs: list[str], min_prob: float) -> list[bool]:
    """``is_other_language`` of each text, the identifier asked about those that need it all at once."""
    answers = [False] * len(texts)
    asked = [i for i, (text, lang) in enumerate(zip(texts, langs)) if not _plainly_in(text, lang)]
    for i, (guess, prob) in zip(asked, identify_many([texts[i] for i in asked], min_prob)):
        answers[i] = guess != langs[i] and prob >= min_prob
    return answers


def _plainly_in(text: str, lang: str) -> bool:
    """Whether the text is in ``lang`` without asking the identifier (see OTHER_ARABIC_SCRIPT, ENGLISH_WORDS)."""
    if lang == "ar":
        return not OTHER_ARABIC_SCRIPT.search(text)
    if lang == "en":
        words = _WORD.findall(text.lower())
        hits = sum(map(ENGLISH_WORDS.__contains__, words))
        return bool(hits) and hits * 8 >= len(words)
    return False


# -- the identifier over many texts at once ----------------------------------------------------
# py3langid walks a byte automaton in a Python loop for each text (~0.05 ms a sentence, most of an
# export's language checks). identify_many walks it for a batch of texts together in numpy, one step per
# byte position, then sums the feature weights the same way: the same model and arithmetic, up to the
# order of float32 additions. A text whose best probability lies within BATCH_MARGIN of a threshold it is
# compared with, or of the second best, is identified again alone, so every decision is the identifier's.
BATCH_MARGIN = 1e-3
_batch_model = None


def _batch_tables():
    """(next move, row bases, outputs, feature weights as float32, class priors) of the identifier, or
    None when it is not the py3langid model layout this was written for (then texts go one by one)."""
    global _batch_model
    if _batch_model is None:
        import numpy as np

        identifier = _identifier()
        try:
            if identifier._alias_pairs or not identifier._norm_probs or identifier.min_confidence is not None:
                raise AttributeError("another configuration")
            _batch_model = (np.frombuffer(identifier.tk_nextmove, dtype=np.uint32)
                            if hasattr(identifier.tk_nextmove, "typecode") else np.asarray(identifier.tk_nextmove),
                            np.asarray(identifier._rowbase, dtype=np.int64),
                            np.asarray(identifier.tk_output, dtype=np.int64),
                            np.asarray(identifier.nb_ptc, dtype=np.float32), np.asarray(identifier.nb_pc),
                            identifier._encode)
        except (AttributeError, TypeError, ValueError):
            _batch_model = False
    return _batch_model or None


def identify_many(texts: list[str], threshold: float | None = None) -> list[tuple[str, float]]:
    """``identify`` of each text. ``threshold``: a probability the caller compares with (a text whose
    batch probability is close to it is identified alone)."""
    tables = _batch_tables() if len(texts) > 1 else None
    if tables is None:
        return [identify(text) for text in texts]
    import numpy as np

    nextmove, rowbase, output, weights, priors, encode = tables
    encoded = [encode(text if text.isascii() else text.translate(_DIGITS)) for text in texts]
    lengths = np.array([len(b) for b in encoded], dtype=np.int64)
    order = np.argsort(-lengths, kind="stable")          # longest first: the texts still walking are a prefix
    buffer = np.frombuffer(b"".join(encoded[i] for i in order) or b"\0", dtype=np.uint8)
    starts = np.concatenate([[0], np.cumsum(lengths[order])[:-1]])
    state = np.zeros(len(texts), dtype=np.int64)
    rows, features = [], []
    sorted_lengths = lengths[order]
    for step in range(int(sorted_lengths[0]) if len(texts) else 0):
        walking = int(np.searchsorted(-sorted_lengths, -step, side="left"))   # texts longer than step
        state[:walking] = nextmove[rowbase[state[:walking]] + buffer[starts[:walking] + step]]
        found = output[state[:walking]]
        hit = np.flatnonzero(found >= 0)
        if len(hit):
            rows.append(hit)
            features.append(found[hit])
    scores = np.zeros((len(texts), len(priors)), dtype=np.float32)
    if rows:
        keys = np.concatenate(rows) * np.int64(len(weights)) + np.concatenate(features)
        keys, counts = np.unique(keys, return_counts=True)
        text_of, feature_of = np.divmod(keys, np.int64(len(weights)))
        contributions = np.log1p(counts.astype(np.float32))[:, None] * weights[feature_of]
        firsts = np.flatnonzero(np.r_[True, text_of[1:] != text_of[:-1]])
        with_features = text_of[firsts]
        scores[with_features] = np.add.reduceat(contributions, firsts, axis=0) + priors
    scores *= (1.0 / np.sqrt(np.maximum(sorted_lengths, 1))).astype(np.float32)[:, None]
    np.exp(scores - scores.max(axis=1, keepdims=True), out=scores)
    scores /= scores.sum(axis=1, keepdims=True)
    best = scores.argmax(axis=1)
    top_two = -np.partition(-scores, 1, axis=1)[:, :2]
    close = top_two[:, 0] - top_two[:, 1] < BATCH_MARGIN
    if threshold is not None:
        close |= np.abs(top_two[:, 0] - threshold) < BATCH_MARGIN
    classes = _identifier().nb_classes
    answers: list[tuple[str, float]] = [("", 0.0)] * len(texts)
    for position, index in enumerate(order.tolist()):
        answers[index] = (identify(texts[index]) if close[position]
                          else (classes[int(best[position])], float(top_two[position, 0])))
    return answers


def load() -> None:
    """Load the identifier's model now (worker processes forked after this share it instead of each
    decompressing it again)."""
    _batch_tables() or _identifier()


def identifier_version() -> str:
    from importlib.metadata import version

    return f"py3langid {version('py3langid')}"
