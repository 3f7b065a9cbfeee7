"""The fluency signals: an English word-bigram model prefers real word order to a word salad of the same
words, the score command reports both signals and scores the salad lower, and the shipped model is what
its recipe builds."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT, run_cli

from translate.scoring.fluency import MODEL_FILE, fluency, fluency_words

# (English, its Arabic source): sentences written for this test, not in the model's training text
PAIRS = [
    ("The children are playing football in the park near their school.",
     "يلعب الأطفال كرة القدم في الحديقة القريبة من مدرستهم."),
    ("The government announced on Monday that it would build a new hospital in the city.",
     "أعلنت الحكومة يوم الاثنين أنها ستبني مستشفى جديدا في المدينة."),
    ("She wants to learn how to cook before she moves to another country.",
     "تريد أن تتعلم الطبخ قبل أن تنتقل إلى بلد آخر."),
]


def salad(sentence: str) -> str:
    """The same words in another order: every second word first, then the rest."""
    words = sentence.rstrip(".").split()
    return " ".join(words[1::2] + words[0::2]) + "."


@pytest.mark.parametrize("english", [english for english, _ in PAIRS])
def test_fluent_sentence_beats_a_word_salad_of_its_words(english):
    mixed = salad(english)
    assert sorted(fluency_words(mixed)) == sorted(fluency_words(english))
    gain, disfluent = fluency(english)
    salad_gain, salad_disfluent = fluency(mixed)
    assert gain > salad_gain
    assert disfluent < salad_disfluent


def test_text_without_words_is_neutral():
    assert fluency("") == fluency("... !!") == fluency("-- ؟")


def test_score_command_reports_fluency_and_scores_the_salad_lower(tmp_path):
    src, hyp = tmp_path / "src.ar", tmp_path / "hyp.en"
    src.write_text("".join(f"{arabic}\n{arabic}\n" for _, arabic in PAIRS), encoding="utf-8")
    hyp.write_text("".join(f"{english}\n{salad(english)}\n" for english, _ in PAIRS), encoding="utf-8")
    result = run_cli("score", "--src", src, "--hyp", hyp, "--jsonl")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 2 * len(PAIRS)
    for fluent, mixed in zip(rows[::2], rows[1::2]):
        assert fluent["fluency"] > mixed["fluency"] and fluent["disfluent"] < mixed["disfluent"]
        assert fluent["score"] > mixed["score"]


def test_shipped_model_is_what_the_recipe_builds(shared_dir, tmp_path):
    data = shared_dir / "data"
    if not (data / "tatoeba-train").is_dir() or not (data / "ud-arabic-pud").is_dir():
        pytest.skip("../shared/data with Tatoeba and UD Arabic PUD is not available")
    out = tmp_path / "bigram-en.tsv.gz"
    built = subprocess.run([sys.executable, "tools/build_fluency_lm.py", "--data", str(data), "--out", str(out)],
                           cwd=ROOT, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    assert out.read_bytes() == MODEL_FILE.read_bytes()


def test_recipe_names_missing_data(tmp_path):
    built = subprocess.run([sys.executable, "tools/build_fluency_lm.py", "--data", str(tmp_path),
                            "--out", str(tmp_path / "x.gz")], cwd=ROOT, capture_output=True, text=True)
    assert built.returncode != 0
    assert "tatoeba-train" in built.stderr and "missing" in built.stderr
