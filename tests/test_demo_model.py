"""The committed demo model (models/demo-ar-en-tatoeba) loads and translates the way the runtime does."""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

MODEL_DIR = Path(__file__).resolve().parents[1] / "models" / "demo-ar-en-tatoeba"

# Short everyday sentences; each group of English words needs at least one hit in the translation.
SENTENCES = [
    ("أنا أحب القراءة.", [{"read", "reading"}, {"like", "love", "enjoy"}]),
    ("القطة نائمة.", [{"cat", "cats", "kitten"}, {"sleeping", "asleep", "sleeps"}]),
    ("عندي كلب.", [{"dog", "dogs", "puppy"}, {"have", "got", "own"}]),
    ("أين الكتاب؟", [{"book"}, {"where"}]),
    ("أريد أن أشرب الماء.", [{"water"}, {"drink"}]),
    ("هذا بيتي.", [{"house", "home"}, {"my"}, {"this", "it"}]),
]


@pytest.fixture(scope="module")
def manifest() -> dict:
    path = MODEL_DIR / "manifest.json"
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make demo-model`")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def runtime(manifest):
    ctranslate2 = pytest.importorskip("ctranslate2")
    spm = pytest.importorskip("sentencepiece")
    sp_source = spm.SentencePieceProcessor(model_file=str(MODEL_DIR / "source.spm"))
    sp_target = spm.SentencePieceProcessor(model_file=str(MODEL_DIR / "target.spm"))
    translator = ctranslate2.Translator(str(MODEL_DIR), device="cpu", compute_type="int8", intra_threads=1)

    def translate(texts: list[str]) -> list[str]:
        # exactly the runtime's conventions (translate/translate.py): prefix + pieces + suffix, beam 4
        batch = [manifest["source_prefix"] + sp_source.encode(t, out_type=str) + manifest["source_suffix"]
                 for t in texts]
        target_prefix = [manifest["target_prefix"]] * len(batch) if manifest["target_prefix"] else None
        results = translator.translate_batch(batch, target_prefix=target_prefix, beam_size=4, return_scores=True)
        return [sp_target.decode(r.hypotheses[0][len(manifest["target_prefix"]):]) for r in results]

    return translate


def test_manifest_fields(manifest):
    assert manifest["name"] == "demo-ar-en-tatoeba"
    assert (manifest["source_lang"], manifest["target_lang"]) == ("ar", "en")
    assert manifest["format"] == "ctranslate2"
    assert manifest["quantization"] == "int8"
    assert manifest["demo"] is True
    assert manifest["quality_rank"] == 0
    assert "Tatoeba" in manifest["training_data"] and "CC-BY 2.0 FR" in manifest["license"]
    for key in ("source_prefix", "source_suffix", "target_prefix"):
        assert isinstance(manifest[key], list)
    scores = manifest["scores"]
    for compute_type in ("int8", "float32"):
        assert 0 < scores[compute_type]["bleu"] <= 100
        assert 0 < scores[compute_type]["chrf"] <= 100


def test_files_and_weights_checksum(manifest):
    for name in ("model.bin", "config.json", "source.spm", "target.spm"):
        assert (MODEL_DIR / name).is_file(), name
    assert list(MODEL_DIR.glob("*vocabulary*")), "no CTranslate2 vocabulary file"
    digest = hashlib.sha256((MODEL_DIR / "model.bin").read_bytes()).hexdigest()
    assert digest == manifest["weights_sha256"]
    total = sum(p.stat().st_size for p in MODEL_DIR.iterdir())
    assert total <= 30 * 1024 * 1024


def test_source_normalisation_is_inside_the_spm(runtime):
    spm = pytest.importorskip("sentencepiece")
    sp_source = spm.SentencePieceProcessor(model_file=str(MODEL_DIR / "source.spm"))
    # diacritics and tatweel are dropped by the .spm's own rules, so vocalised text tokenises as plain text
    assert sp_source.encode("أُحِبُّ القِرَاءَةَ", out_type=str) == sp_source.encode("أحب القراءة", out_type=str)
    assert sp_source.encode("مرحـــبا", out_type=str) == sp_source.encode("مرحبا", out_type=str)


@pytest.mark.parametrize("arabic,expected", SENTENCES)
def test_translates_everyday_sentences(runtime, arabic, expected):
    english = runtime([arabic])[0]
    words = set(re.findall(r"[a-z]+", english.lower()))
    # Tatoeba English is capitalised: a lower-case start means the first word was lost in decoding
    assert english[:1].isupper(), f"{arabic!r} -> {english!r}: first word missing"
    for group in expected:
        assert words & group, f"{arabic!r} -> {english!r}: expected one of {sorted(group)}"
