"""Vocabulary maps: `translate models vmap` learns one from a parallel corpus, runs decode with it."""
from __future__ import annotations

import json
import random
import shutil
import sqlite3

import pytest
import sentencepiece as spm
from conftest import run_cli

# Arabic word -> its English translation; every pair of the corpus uses these consistently
LEXICON = {
    "الحكومة": "government", "المدينة": "city", "الشركة": "company", "الرئيس": "president",
    "الاقتصاد": "economy", "الجيش": "army", "المطر": "rain", "المدرسة": "school",
}


def write_corpus(directory, pairs: int = 300, seed: int = 3):
    rng = random.Random(seed)
    arabic, english = [], []
    for _ in range(pairs):
        words = rng.sample(sorted(LEXICON), 3)
        arabic.append(" ".join(words) + ".")
        english.append("the " + " and the ".join(LEXICON[w] for w in words) + ".")
    source, target = directory / "corpus.ar", directory / "corpus.en"
    source.write_text("\n".join(arabic) + "\n", encoding="utf-8")
    target.write_text("\n".join(english) + "\n", encoding="utf-8")
    return source, target


@pytest.fixture()
def installed(tmp_path, tiny_model):
    """A copy of the tiny model installed under TRANSLATE_MODELS_DIR (maps are written into it)."""
    root = tmp_path / "models"
    shutil.copytree(tiny_model, root / "tiny")
    return root / "tiny", {"TRANSLATE_MODELS_DIR": str(root)}


def read_map(path) -> tuple[list[str], dict[str, list[str]]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("\t"), "the first line lists the tokens that are always candidates"
    entries = dict(line.split("\t") for line in lines[1:])
    return lines[0][1:].split(" "), {key: value.split(" ") for key, value in entries.items()}


def test_vmap_lists_each_source_token_with_its_translation(tmp_path, installed):
    model_dir, env = installed
    source, target = write_corpus(tmp_path)
    result = run_cli("models", "vmap", "tiny", "--source", source, "--target", target,
                     "--always", "3", "--per-token", "4", env=env)
    assert result.returncode == 0, result.stderr
    always, entries = read_map(model_dir / "vmap.txt")
    assert len(always) == 3
    sp_source = spm.SentencePieceProcessor(model_file=str(model_dir / "source.spm"))
    sp_target = spm.SentencePieceProcessor(model_file=str(model_dir / "target.spm"))
    checked = 0
    for arabic, english in LEXICON.items():
        source_pieces = [p for p in sp_source.encode(arabic, out_type=str) if p in entries]
        target_pieces = [p for p in sp_target.encode(english, out_type=str) if p not in always]
        if not source_pieces or not target_pieces:
            continue
        candidates = {c for p in source_pieces for c in entries[p]}
        assert set(target_pieces) & candidates, (arabic, english, candidates)
        checked += 1
    assert checked >= 4
    assert all(len(values) <= 4 for values in entries.values())
    manifest = json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["vocabulary_map"]["pairs"] == 300
    assert manifest["vocabulary_map"]["keys"] == len(entries)


def test_runs_decode_with_the_map_unless_told_not_to(tmp_path, installed):
    model_dir, env = installed
    source, target = write_corpus(tmp_path)
    doc = tmp_path / "doc.txt"
    doc.write_text("الحكومة المدينة الشركة. الرئيس الاقتصاد الجيش. المطر المدرسة الحكومة.\n", encoding="utf-8")

    def translations(db, *flags):
        result = run_cli("run", doc, "--model", "tiny", "--db", db, "--beam", "2", *flags, env=env)
        assert result.returncode == 0, result.stderr
        with sqlite3.connect(db) as con:
            options = json.loads(con.execute("SELECT options FROM runs").fetchone()[0])
            texts = [row[0] for row in con.execute("SELECT text FROM translations ORDER BY segment_id")]
        return options["vocabulary_map"], texts

    used, plain = translations(tmp_path / "before.sqlite")
    assert used is False
    assert run_cli("models", "vmap", "tiny", "--source", source, "--target", target, "--always", "2",
                   env=env).returncode == 0
    used, mapped = translations(tmp_path / "with.sqlite")
    assert used is True and len(mapped) == len(plain) == 3
    # random weights over a 142-token vocabulary: a shortlist of a few tokens must change some output
    assert mapped != plain
    used, unmapped = translations(tmp_path / "without.sqlite", "--no-vmap")
    assert used is False and unmapped == plain


def test_bad_corpus_is_one_line_error_and_leaves_the_model_untouched(tmp_path, installed):
    model_dir, env = installed
    source, target = write_corpus(tmp_path)
    target.write_text("\n".join(target.read_text(encoding="utf-8").splitlines()[:-5]) + "\n", encoding="utf-8")
    before = (model_dir / "manifest.json").read_bytes()
    result = run_cli("models", "vmap", "tiny", "--source", source, "--target", target, env=env)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert str(source) in result.stderr and "300 lines" in result.stderr and "295" in result.stderr
    missing = run_cli("models", "vmap", "tiny", "--source", tmp_path / "nope.ar", "--target", target, env=env)
    assert missing.returncode == 1 and "nope.ar: cannot read (No such file" in missing.stderr
    assert not (model_dir / "vmap.txt").exists()
    assert (model_dir / "manifest.json").read_bytes() == before
    assert not [p for p in model_dir.iterdir() if p.name.startswith(".tmp-")]


def test_bundled_model_and_missing_map_are_refused(tmp_path, installed):
    _, env = installed
    source, target = write_corpus(tmp_path)
    bundled = run_cli("models", "vmap", "demo-ar-en-tatoeba", "--source", source, "--target", target, env=env)
    assert bundled.returncode == 1 and "bundled" in bundled.stderr
    doc = tmp_path / "doc.txt"
    doc.write_text("الحكومة المدينة.\n", encoding="utf-8")
    forced = run_cli("run", doc, "--model", "tiny", "--db", tmp_path / "x.sqlite", "--vmap", env=env)
    assert forced.returncode == 1 and "no vmap.txt" in forced.stderr


def test_model_starting_from_pad_cannot_use_a_map(tmp_path, installed):
    """CTranslate2 fails on such models' second batch; refuse up front instead."""
    model_dir, env = installed
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    config["decoder_start_token"] = "<pad>"
    (model_dir / "config.json").write_text(json.dumps(config), encoding="utf-8")
    source, target = write_corpus(tmp_path)
    build = run_cli("models", "vmap", "tiny", "--source", source, "--target", target, env=env)
    assert build.returncode == 1 and "'<pad>'" in build.stderr
    assert not (model_dir / "vmap.txt").exists()
    (model_dir / "vmap.txt").write_text("\t. ▁the\n", encoding="utf-8")     # put there by hand
    doc = tmp_path / "doc.txt"
    doc.write_text("الحكومة المدينة.\n", encoding="utf-8")
    refused = run_cli("run", doc, "--model", "tiny", "--db", tmp_path / "x.sqlite", env=env)
    assert refused.returncode == 1 and "--no-vmap" in refused.stderr
    assert run_cli("run", doc, "--model", "tiny", "--db", tmp_path / "x.sqlite", "--no-vmap",
                   env=env).returncode == 0
