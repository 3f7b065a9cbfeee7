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
