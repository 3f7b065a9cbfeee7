"""The lexicon's tokenisers and stopword lists agree: a stopword is recognised in the form the scorer and
the aligners look it up (a stem of normalised text), whatever its usual spelling."""
from translate.lexicon import ARABIC_STOPWORDS, ENGLISH_STOPWORDS, arabic_tokens, english_tokens
from translate.score import signals_for


def test_arabic_stopwords_in_their_usual_spelling_are_stopwords_as_tokens():
    # على, إلى, حتى end in alef maqsura and الذي/التي/الذين carry the article: as tokens they are علي, الي,
    # حتي, ذي, تي, ذين, and must still be stopwords
    for text in ("على", "إلى", "حتى", "الذي", "التي", "الذين", "في", "هذا"):
        tokens = arabic_tokens(text)
        assert tokens and all(t in ARABIC_STOPWORDS for t in tokens), (text, tokens)


def test_english_stopwords_are_stopwords_as_stems_and_as_words():
    for word in ("this", "does", "the", "was", "has", "its"):
        assert word in ENGLISH_STOPWORDS                    # the aligners look up lower-cased words
        assert all(t in ENGLISH_STOPWORDS for t in english_tokens(word)), word   # the scorer, stems


def test_a_preposition_is_not_a_content_word_the_translation_must_cover():
    # "on" is an English stopword, so على must not count as an Arabic content word left uncovered
    signals = signals_for("وضع الكتاب على الطاولة", "He put the book on the table")
    assert signals["src_coverage"] == 1.0
