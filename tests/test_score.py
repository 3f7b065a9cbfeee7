"""Quality estimation: signals, calibration direction, flags, lexicon, and the `translate score` command."""
from __future__ import annotations

import json

import pytest
from conftest import run_cli

from translate.lexicon import arabic_stem, arabic_tokens, load_lexicon, normalize_arabic
from translate.score import BAD_THRESHOLD, GOOD_THRESHOLD, label_for, numbers, score_pair

SOURCE = "قرأ الرجل الكتاب في البيت."
GOOD = "The man read the book at home."


def test_good_translation_scores_higher_than_a_wrong_one():
    good = score_pair(SOURCE, GOOD)
    wrong = score_pair(SOURCE, "The weather is cold in winter.")
    assert good.score > wrong.score
    assert good.signals["src_coverage"] > wrong.signals["src_coverage"]
    assert 0.0 <= wrong.score <= good.score <= 1.0


def test_missing_number_lowers_the_score():
    source = "ولد الكاتب في عام ١٩٩٠ في القاهرة."
    kept = score_pair(source, "The writer was born in 1990 in Cairo.")
    dropped = score_pair(source, "The writer was born in Cairo.")
    assert kept.signals["numbers_missing"] == 0
    assert dropped.signals["numbers_missing"] == 1
    assert dropped.score < kept.score


def test_numbers_are_normalised_across_scripts_and_separators():
    assert numbers("بلغ ١٬٥٠٠ شخص و ٣٫٥ بالمئة في ۲۰۱۹") == ["1500", "3.5", "2019"]
    assert numbers("1,500 people and 3.5 percent in 2019") == ["1500", "3.5", "2019"]


def test_latin_tokens_must_be_carried_over():
    source = "أعلنت شركة Apple عن هاتف iPhone جديد."
    assert score_pair(source, "Apple announced a new iPhone.").signals["latin_missing"] == 0
    assert score_pair(source, "The company announced a new phone.").signals["latin_missing"] == 2


def test_arabic_left_in_the_output_lowers_the_score():
    clean = score_pair(SOURCE, GOOD)
    untranslated = score_pair(SOURCE, "The man قرأ الكتاب at home.")
    assert untranslated.signals["arabic_left"] > 0.3
    assert untranslated.score < clean.score


def test_repetition_lowers_the_score():
    clean = score_pair(SOURCE, GOOD)
    looping = score_pair(SOURCE, "The man read the book the book the book the book the book at home.")
    assert looping.signals["repetition"] > 0.2
    assert looping.score < clean.score


@pytest.mark.parametrize("flags", [{"hit_max_length": True, "empty_output": False, "source_windows": 1},
                                   {"hit_max_length": False, "empty_output": True, "source_windows": 1}])
def test_lost_text_flags_force_bad(flags):
    quality = score_pair(SOURCE, GOOD, logprob=-0.1, flags=flags)
    assert quality.label == "bad"
    assert quality.score < BAD_THRESHOLD
    for key, value in flags.items():                # engine flags are kept as signals
        assert quality.signals[key] == value
    assert quality.signals["logprob"] == -0.1


def test_empty_translation_of_a_sentence_is_bad():
    assert score_pair(SOURCE, "").label == "bad"


def test_windowed_source_is_never_good():
    quality = score_pair(SOURCE, GOOD, flags={"source_windows": 3, "hit_max_length": False,
                                              "empty_output": False})
    assert quality.label in ("check", "bad")
    assert quality.signals["source_windows"] == 3


def test_logprob_moves_the_score():
    confident = score_pair(SOURCE, GOOD, logprob=-0.2)
    unsure = score_pair(SOURCE, GOOD, logprob=-3.0)
    assert confident.score > unsure.score


def test_reference_adds_chrf_and_pulls_the_score():
    close = score_pair(SOURCE, GOOD, reference="The man read the book at home.")
    far = score_pair(SOURCE, GOOD, reference="Yesterday it rained over the whole northern coast.")
    assert close.signals["chrf"] == pytest.approx(100.0)
    assert far.signals["chrf"] < 30
    assert close.score > far.score
    assert "chrf" not in score_pair(SOURCE, GOOD).signals


def test_signals_are_json_serialisable_and_labels_follow_thresholds():
    quality = score_pair(SOURCE, GOOD, logprob=-0.5, flags={"source_windows": 1, "hit_max_length": False,
                                                          "empty_output": False})
    json.dumps(quality.signals)
    assert quality.label == label_for(quality.score)
    assert label_for(GOOD_THRESHOLD) == "good" and label_for(BAD_THRESHOLD - 0.01) == "bad"
    assert label_for((GOOD_THRESHOLD + BAD_THRESHOLD) / 2) == "check"


def test_arabic_normalisation_and_stemming():
    assert normalize_arabic("أَحْمَد إِلى مدرسةٍ") == "احمد الي مدرسه"
    assert normalize_arabic("كتــــاب") == "كتاب"
    assert arabic_stem("والكتاب") == arabic_stem("كتاب") == "كتاب"
    assert arabic_tokens("بالمدرسة") == arabic_tokens("المدرسه")


def test_lexicon_translates_common_words():
    lexicon = load_lexicon()
    for arabic, english in (("كتاب", "book"), ("الماء", "water"), ("رجل", "man"), ("امرأة", "woman"),
                            ("والبيت", "house")):
        assert english in [e for e, _ in lexicon.translations(arabic, top=3)], arabic
    assert lexicon.translations("زززز") == []


def test_score_command(tmp_path):
    src, hyp, ref = tmp_path / "src.ar", tmp_path / "hyp.en", tmp_path / "ref.en"
    src.write_text(f"{SOURCE}\nولد في عام ١٩٩٠.\n", encoding="utf-8")
    hyp.write_text(f"{GOOD}\nHe was born.\n", encoding="utf-8")
    ref.write_text(f"{GOOD}\nHe was born in 1990.\n", encoding="utf-8")
    result = run_cli("score", "--src", src, "--hyp", hyp, "--ref", ref, "--jsonl")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["line"] for r in rows] == [1, 2]
    assert rows[0]["chrf"] == pytest.approx(100.0)
    assert rows[1]["numbers_missing"] == 1
    assert all({"score", "label", "length_z", "src_coverage"} <= set(r) for r in rows)
    assert "mean score" in result.stderr

    plain = run_cli("score", "--src", src, "--hyp", hyp)
    assert plain.returncode == 0, plain.stderr
    assert len(plain.stdout.splitlines()) == 2
    assert plain.stdout.splitlines()[0].split("\t")[2] in ("good", "check", "bad")


def test_score_command_rejects_mismatched_line_counts(tmp_path):
    src, hyp = tmp_path / "src.ar", tmp_path / "hyp.en"
    src.write_text(f"{SOURCE}\n{SOURCE}\n", encoding="utf-8")
    hyp.write_text(f"{GOOD}\n", encoding="utf-8")
    result = run_cli("score", "--src", src, "--hyp", hyp)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(hyp) in lines[0] and "1 lines" in lines[0]


def test_lexicon_recipe_learns_word_translations_by_em():
    import importlib.util

    from conftest import ROOT

    spec = importlib.util.spec_from_file_location("build_lexicon", ROOT / "tools" / "build_lexicon.py")
    recipe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe)
    pairs = [(["بيت", "كبير"], ["big", "house"]), (["بيت"], ["house"]), (["ولد", "كبير"], ["big", "boy"]),
             (["ولد"], ["boy"])]
    table = recipe.ibm1(pairs, iterations=10)
    assert max(table["بيت"], key=table["بيت"].get) == "house"
    assert max(table["كبير"], key=table["كبير"].get) == "big"
    assert sum(table["ولد"].values()) == pytest.approx(1.0)


# -- word frequency, source difficulty, omission (issue 13) ------------------------------------------
TWO_SENTENCES = ("قرأ الرجل الكتاب في البيت مساء أمس. ثم ذهب إلى السوق القديم واشترى الخبز والحليب والجبن.")
BOTH = ("The man read the book at home yesterday evening. "
        "Then he went to the old market and bought bread, milk and cheese.")
FIRST_ONLY = "The man read the book at home yesterday evening."


def test_dropped_sentence_is_an_omission_that_lowers_the_score():
    both, first = score_pair(TWO_SENTENCES, BOTH), score_pair(TWO_SENTENCES, FIRST_ONLY)
    assert both.signals["source_sentences"] == first.signals["source_sentences"] == 2
    assert both.signals["sentences_missing"] == 0
    assert first.signals["sentences_missing"] == 1
    assert first.signals["sentence_coverage_min"] < both.signals["sentence_coverage_min"]
    assert first.signals["sentence_coverage_min"] <= first.signals["src_coverage"]
    assert first.score < both.score - 0.2
    assert first.label == "bad"


def test_sentence_counting_ignores_abbreviations_and_splits_arabic_question_marks():
    from translate.score import sentence_spans

    assert len(sentence_spans("At 1:15 a.m. Saturday, the U.S. envoy met Mr. Reid. He left at noon.", "en")) == 2
    assert len(sentence_spans("Yahoo! and Microsoft merged. Dr. Smith agreed.", "en")) == 2
    assert sentence_spans("قال الرئيس إن الوضع صعب. وأضاف أن الحكومة ستعمل؟ نعم.", "ar") == [
        "قال الرئيس إن الوضع صعب. ", "وأضاف أن الحكومة ستعمل؟ ", "نعم."]
    assert len(sentence_spans("ولد عام ٢٠١٩ م. في القاهرة", "ar")) == 1      # a one-letter abbreviation
    assert score_pair(SOURCE, "").signals["sentences_missing"] == 1


def test_word_frequency_tables_are_shipped_and_keyed_like_the_scorer():
    from translate.score import zipf_table

    english, arabic = zipf_table("en"), zipf_table("ar")
    assert english["the"] > 7 > english["house"] > english["aquarium"] > 2
    assert arabic["في"] > 7
    assert "ان" in arabic and "أن" not in arabic            # hamza folded as normalize_arabic folds it
    assert all(key == key.lower() for key in list(english)[:1000])


def test_unknown_output_words_raise_tgt_oov_and_lower_the_score():
    clean = score_pair(SOURCE, GOOD)
    garbled = score_pair(SOURCE, "The man raed the bokk at hme.")
    assert clean.signals["tgt_oov"] == 0.0
    assert garbled.signals["tgt_oov"] > 0.2
    assert garbled.score < clean.score


def test_generic_wording_has_a_higher_mean_zipf():
    precise = score_pair(SOURCE, "The gentleman perused the manuscript at his residence.")
    generic = score_pair(SOURCE, "The man read the book at home.")
    assert generic.signals["tgt_zipf"] > precise.signals["tgt_zipf"]
    assert precise.signals["tgt_rare"] > generic.signals["tgt_rare"]


def test_source_difficulty_signals_describe_the_source_only():
    plain = score_pair(SOURCE, GOOD)
    other_output = score_pair(SOURCE, "The weather is cold in winter.")
    for name in ("src_oov", "src_rare", "src_zipf", "source_chars", "source_sentences", "src_ambiguity"):
        assert plain.signals[name] == other_output.signals[name]
    rare_source = score_pair("استقصى الفيلولوجي الأبستمولوجيا الهرمنيوطيقية.",
                             "The philologist studied hermeneutic epistemology.")
    assert rare_source.signals["src_rare"] > plain.signals["src_rare"]
    assert rare_source.signals["src_zipf"] < plain.signals["src_zipf"]


def test_every_signal_is_json_and_the_calibration_covers_every_feature():
    from translate.score import CALIBRATION, GUARDS, features

    quality = score_pair(TWO_SENTENCES, BOTH)
    assert json.loads(json.dumps(quality.signals)) == quality.signals
    assert set(features(quality.signals)) == set(CALIBRATION) - {"intercept"} | set(GUARDS)


def test_lexicon_merges_the_separate_dictionary_table():
    from translate.lexicon import FREEDICT_LEXICON_FILE, LEXICON_FILE, read_lexicon

    merged, sentences_only = load_lexicon(), read_lexicon(LEXICON_FILE)
    assert FREEDICT_LEXICON_FILE.is_file()
    # a dictionary word absent from the sentence data, and a UD PUD news word
    assert sentences_only.translations("البكتيريا") == []
    assert "bacilli" in [e for e, _ in merged.translations("البكتيريا", top=5)]
    assert "transition" in [e for e, _ in sentences_only.translations("الانتقال", top=1)]
    assert len(merged.forward) > len(sentences_only.forward)


def test_read_lexicon_merges_files_keeping_the_larger_probability(tmp_path):
    import gzip

    from translate.lexicon import LexiconError, read_lexicon

    first, second = tmp_path / "a.tsv.gz", tmp_path / "b.tsv.gz"
    with gzip.open(first, "wt", encoding="utf-8") as f:
        f.write("كتاب\tbook\t0.600\t0.500\nبيت\thouse\t0.400\t0.000\n")
    with gzip.open(second, "wt", encoding="utf-8") as f:
        f.write("كتاب\tbook\t0.300\t0.900\nقلم\tpen\t0.700\t0.700\n")
    merged = read_lexicon(first, second)
    assert merged.forward["كتاب"]["book"] == 0.6 and merged.backward["book"]["كتاب"] == 0.9
    assert merged.forward["قلم"]["pen"] == 0.7 and "house" not in merged.backward
    broken = tmp_path / "broken.tsv.gz"
    with gzip.open(broken, "wt", encoding="utf-8") as f:
        f.write("كتاب\tbook\t0.6\n")
    with pytest.raises(LexiconError, match="broken.tsv.gz: line 1"):
        read_lexicon(broken)


def _load_tool(name: str, folder: str = "tools"):
    """A recipe or bench script, loaded as a module (they are scripts, not package modules)."""
    import importlib.util

    from conftest import ROOT

    spec = importlib.util.spec_from_file_location(name, ROOT / folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_freedict_reader_parses_dictd_entries(tmp_path):
    import gzip

    recipe = _load_tool("build_lexicon")
    entries = ["00-database-info\nsome header\n", "كتاب /kitaːb/\n1. Book\n2. Books\n", "قلم أحمر /qalam/\nRed pen\n"]
    body, index = b"", []
    for headword, entry in zip(("00databaseinfo", "كتاب", "قلم أحمر"), entries):
        data = entry.encode("utf-8")
        offset, length = (recipe.DICTD_ALPHABET[len(body) // 64] + recipe.DICTD_ALPHABET[len(body) % 64],
                          recipe.DICTD_ALPHABET[len(data) // 64] + recipe.DICTD_ALPHABET[len(data) % 64])
        index.append(f"{headword}\t{offset}\t{length}")
        body += data
    with gzip.open(tmp_path / "freedict-ara-eng.dict.dz", "wb") as f:
        f.write(body)
    (tmp_path / "freedict-ara-eng.index").write_text("\n".join(index) + "\n", encoding="utf-8")
    assert recipe.read_freedict(tmp_path) == [(["كتاب"], ["book"]), (["كتاب"], ["book"]),
                                             (["قلم", "احمر"], ["red", "pen"])]


def test_calibration_fit_stays_finite_with_many_correlated_features():
    import numpy as np

    bench = _load_tool("quality_eval", "bench")
    rng = np.random.default_rng(0)
    signal = rng.normal(size=600)
    # 40 near-copies of one signal: a fixed step of 0.3 diverges on these (largest eigenvalue ~40)
    x = signal[:, None] + 0.05 * rng.normal(size=(600, 40))
    target = signal + 0.5 * rng.normal(size=600)
    groups = np.repeat(np.arange(200), 3)
    intercept, weights = bench.fit_rank_least_squares(x, target, [1] * 40, groups)
    assert np.isfinite(weights).all() and np.isfinite(intercept)
    assert bench.spearman(x @ weights + intercept, target) > 0.8
    assert np.allclose(bench.within_groups(np.array([1.0, 3.0, 5.0, 5.0]), np.array([0, 0, 1, 1])), [-1, 1, 0, 0])


def test_wordfreq_recipe_folds_keys_like_the_scorer(tmp_path):
    import gzip
    import math

    recipe = _load_tool("build_wordfreq")
    english = recipe.table("en", 2.0, {"the": 0.05, "don't": 1e-4, "u.s": 1e-4, "2019": 1e-4, "rare": 1e-8})
    assert set(english) == {"the", "don't"}                  # no dotted, numeric or too rare keys
    assert english["the"] == pytest.approx(7.699, abs=1e-3)
    arabic = recipe.table("ar", 2.0, {"أن": 0.006, "ان": 0.004, "إن": 1e-5, "abc": 0.1})
    # the three forms fold to one key, their frequencies summed
    assert list(arabic) == ["ان"] and arabic["ان"] == pytest.approx(math.log10(0.01001 * 1e9))
    recipe.write(tmp_path / "zipf.tsv.gz", arabic)
    assert gzip.open(tmp_path / "zipf.tsv.gz", "rt", encoding="utf-8").read() == "ان\t7.00\n"


def test_soft_coverage_gives_part_credit_to_another_form_of_a_translation():
    source = "درس الطب في الجامعة."
    exact = score_pair(source, "He studied medicine at the university.")
    other_form = score_pair(source, "He studied medical science at the university.")
    unrelated = score_pair(source, "He studied cooking at the university.")
    assert exact.signals["soft_coverage"] > other_form.signals["soft_coverage"] > unrelated.signals["soft_coverage"]


def test_dropped_quotes_and_brackets_raise_punctuation_mismatch_and_lower_the_score():
    source = 'وقال الوزير (في مؤتمر صحفي): "سنبني ١٬٥٠٠ منزل".'
    kept = score_pair(source, 'The minister said (at a press conference): "We will build 1,500 houses".')
    dropped = score_pair(source, "The minister said at a press conference we will build 1,500 houses.")
    assert kept.signals["punctuation_mismatch"] == 0.0        # a thousands separator is not a comma
    assert dropped.signals["punctuation_mismatch"] > 0.5
    assert dropped.score < kept.score


def test_apostrophes_hyphens_and_initialisms_are_not_punctuation():
    from translate.score import punctuation_mismatch

    source = "قال إنها حقيقة معروفة في الولايات المتحدة."
    plain = punctuation_mismatch(source, "He said it is a well known fact in the United States.")
    assert plain == 0.0
    assert punctuation_mismatch(source, "He said it's a well-known fact in the U.S.") == plain
    assert punctuation_mismatch(source, "He said: it is a (well known) fact!") > 0.5
    # a clause of a comma-chained Arabic sentence may end with a full stop in English
    assert punctuation_mismatch("قال إنها حقيقة، وإنها معروفة.", "He said it is a fact. It is well known.") == 0.0


def test_a_dropped_name_raises_names_mismatch():
    source = "التقى الرئيس بالسفير زيغمونتوفسكي في وارسو."
    kept = score_pair(source, "The president met Ambassador Zygmuntowski in Warsaw.")
    dropped = score_pair(source, "The president met the ambassador in Warsaw.")
    assert dropped.signals["names_mismatch"] > kept.signals["names_mismatch"]
    assert dropped.score < kept.score
    # a capital opening a sentence is not a name
    assert score_pair("ذهب إلى البيت.", "He went home.").signals["names_mismatch"] == 0.0
    # ... unless it is a Latin-script name of the source
    assert score_pair("قال مدير IBM إن الأرباح زادت.", "IBM's director said profits rose.").signals["names_mismatch"] == 0.0


# -- restructured output is not an omission (issue 23) ---------------------------------------------
GLUED = ("The man read the book at home yesterday evening.Then he went to the old market and bought bread, "
         "milk and cheese.")
MERGED = ("The man read the book at home yesterday evening, then he went to the old market and bought bread, "
          "milk and cheese.")


@pytest.mark.parametrize("text, sentences, glued", [
    ("He won Best Original Song.Lionsgate received 26 nominations.", 2, 1),
    ("Sales rose.NASA said so.", 2, 1),
    ("He lived in an alley).The police came.", 2, 1),
    ("It grew by 3.5 percent.", 1, 0),                                 # a decimal
    ("J.R.R. Tolkien wrote it.", 1, 0),                                # initials
    ("Write to john.Smith@example.org now.", 1, 0),                    # an e-mail address
    ("See www.Example.Com or Amazon.Com today.", 1, 0),                # web addresses
    ("Mr.Smith and St.Louis agreed.", 1, 0),                           # abbreviations
    ("At 1:15 a.m. Saturday, the U.S. envoy met Mr. Reid. He left at noon.", 2, 0),
])
def test_a_full_stop_glued_to_a_capitalised_word_ends_an_english_sentence(text, sentences, glued):
    from translate.score import glued_sentences, sentence_spans

    spans = sentence_spans(text, "en")
    assert "".join(spans) == text
    assert (len(spans), glued_sentences(spans)) == (sentences, glued)


def test_glued_or_merged_sentences_are_not_an_omission():
    both = score_pair(TWO_SENTENCES, BOTH)
    glued, merged = score_pair(TWO_SENTENCES, GLUED), score_pair(TWO_SENTENCES, MERGED)
    assert glued.signals["sentences_missing"] == 0 and glued.signals["glued_sentences"] == 1
    assert merged.signals["sentences_missing"] == 1          # the count differs...
    for restructured in (glued, merged):
        assert restructured.signals["omission"] == 0          # ...but all the content is there
        assert restructured.label == both.label == "good"
        assert restructured.score > both.score - 0.05
    dropped = score_pair(TWO_SENTENCES, FIRST_ONLY)
    assert dropped.signals["omission"] == 1 and dropped.label == "bad"


def test_an_omission_needs_the_sentences_content_missing_not_only_a_lower_count():
    source = "وصل الرئيس إلى باريس يوم الاثنين. والتقى بنظيره الفرنسي لمدة ساعتين في قصر الإليزيه."
    merged = "The president arrived in Paris on Monday and met his French counterpart for two hours at the Elysee Palace."
    first_only = "The president arrived in Paris on Monday."
    assert score_pair(source, merged).signals["omission"] == 0
    assert score_pair(source, first_only).signals["omission"] == 1
    assert score_pair(source, first_only).score < score_pair(source, merged).score - 0.2


def test_numbers_written_as_words_on_either_side_match():
    from translate.score import extra_numbers, missing_numbers, number_words, numbers

    assert number_words("في السنوات الخمسة عشر الأخيرة، بعشرين نقطة، في التاسع من آب، خمسة وعشرون", "ar") == \
        ["15", "20", "9", "25"]
    assert number_words("twenty-five years, fifteen of them", "en") == ["25", "15"]
    assert extra_numbers("في السنوات الخمسة عشر الأخيرة", "in the last 15 years") == []
    assert extra_numbers("منذ السبعينيات", "since the 1970s") == []
    assert missing_numbers("في 15 سنة", "in fifteen years") == []
    assert missing_numbers("في 15 سنة", "in many years") == ["15"]
    assert extra_numbers("قال", "He said 15.") == ["15"]
    # an Arabic comma between digits: thousands (783،562) or decimal (6,34)
    assert numbers("783،562 كيلومتر و6,34 بوصة و2,220 نقطة") == ["783562", "6.34", "2220"]
    spelt = score_pair("ولد الكاتب في القاهرة قبل خمسة عشر عاما.", "The writer was born in Cairo 15 years ago.")
    assert spelt.signals["numbers_extra"] == 0


def test_capitalised_share_ignores_how_sentences_are_divided():
    from translate.score import capitalised_share, sentence_spans

    split = sentence_spans("The city is big. The town is old.", "en")
    merged = sentence_spans("The city is big, the town is old.", "en")
    assert capitalised_share(split) == capitalised_share(merged) == 0.0
    assert capitalised_share(sentence_spans("He met Paul Smith.", "en")) == 0.5


# -- signals that rank systems as COMET does (issue 23) --------------------------------------------
def test_names_carried_from_the_source_are_not_unknown_english_words():
    source = "حي القنوات (بالهولندية: Grachtengordel) هو حي شهير في أمستردام."
    carried = score_pair(source, "The Canal District (Dutch: Grachtengordel) is a famous district of Amsterdam.")
    invented = score_pair(source, "The Canal District (Dutch: Grachtenbelt) is a famous distrikt of Amsterdam.")
    assert carried.signals["tgt_oov"] == 0.0
    assert invented.signals["tgt_oov"] > 0.1
    assert carried.score > invented.score
    # the same word with no Latin-script source behind it is an unknown word
    plain = score_pair("حي القنوات هو حي شهير في أمستردام.", "The Grachtengordel is a famous district of Amsterdam.")
    assert plain.signals["tgt_oov"] > 0.0


def test_clause_marks_the_output_adds_cost_less_than_those_it_lacks():
    from translate.score import punctuation_mismatch

    one_mark = "قال الوزير إن المشروع كبير ومكلف ويحتاج إلى سنوات."
    three_marks = "قال الوزير، إن المشروع كبير، ويحتاج إلى سنوات."
    split = "The minister said the project is big and costly. It will take years, he said."
    merged = "The minister said the project is big and will take years."
    added = punctuation_mismatch(one_mark, split)          # English sets off the clauses: two marks more
    lacking = punctuation_mismatch(three_marks, merged)    # clauses run together: two marks fewer
    assert 0.0 < added < lacking
    # other kinds count in full either way
    assert punctuation_mismatch(one_mark, "The minister said (the project is big) and will take years.") > added


def test_a_typographic_apostrophe_is_no_quote_mark():
    from translate.score import punctuation_counts, punctuation_mismatch

    source = "وشدد على أهمية اتساق أحكام المحكمة العليا."
    straight = punctuation_mismatch(source, "He stressed the importance of consistency in the Supreme Court's rulings.")
    curly = punctuation_mismatch(source, "He stressed the importance of consistency in the Supreme Court’s rulings.")
    assert curly == straight == 0.0
    assert punctuation_counts("the players’ union and ‘the club’")["quote"] == 2      # a plural's apostrophe too


def test_score_reads_lines_as_sacrebleu_does_whatever_unicode_line_separators_a_line_holds(tmp_path):
    # U+2028, U+0085 and a form feed inside MT output are part of the line; \r\n and \r end lines
    src, hyp, ref = tmp_path / "src.ar", tmp_path / "hyp.en", tmp_path / "ref.en"
    src.write_text(f"{SOURCE}\r\nولد في عام ١٩٩٠.\rذهب إلى البيت.\n", encoding="utf-8", newline="")
    hyps = [f"{GOOD}\u2028(continued)", "He was born\x85 in 1990.\f", "He went home."]
    hyp.write_text("\n".join(hyps) + "\n", encoding="utf-8", newline="")
    ref.write_text("\n".join(hyps) + "\n", encoding="utf-8", newline="")
    result = run_cli("score", "--src", src, "--hyp", hyp, "--ref", ref, "--jsonl")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["line"] for r in rows] == [1, 2, 3]
    assert [r["chrf"] for r in rows] == [pytest.approx(100.0)] * 3


def test_quality_bench_reports_system_gaps_with_their_interval(capsys):
    """The bench's gap between neighbours in COMET's order: a clear lead has an interval above zero, two
    systems that differ only by noise have one that straddles it."""
    import re

    import numpy as np

    bench = _load_tool("quality_eval", "bench")
    rng = np.random.default_rng(1)
    document = np.repeat(np.arange(100), 5)                 # 100 documents of 5 lines
    base = rng.uniform(0.3, 0.9, size=500)
    scores = {"a": base + 0.05, "b": base + rng.normal(0, 0.05, size=500), "c": base + rng.normal(0, 0.05, size=500)}
    values = np.concatenate([scores[s] for s in "abc"])
    system_of = np.repeat(np.array(list("abc")), 500)
    bench.print_system_gaps("test", values, system_of, document, ["a", "b", "c"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("gaps between COMET neighbours, test")
    pattern = re.compile(r"^  (\w) > (\w) ([+-][\d.]+) \[([+-][\d.]+), ([+-][\d.]+)\]$")
    better, worse, *numbers = pattern.match(lines[1]).groups()
    gap, low, high = map(float, numbers)
    assert (better, worse) == ("a", "b") and 0.03 < low < gap < high and abs(gap - 0.05) < 0.02
    better, worse, *numbers = pattern.match(lines[2]).groups()
    gap, low, high = map(float, numbers)
    assert (better, worse) == ("b", "c") and low < 0 < high
