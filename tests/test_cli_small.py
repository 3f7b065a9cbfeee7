"""Small things a new user sees (issue 24, "small but seen"), through the real CLI: help text, `models
list` and `models remove`, `export -o -`, format names in any case, `--min-score nan`, a final blank line
in `score`, `--translations` with `--no-bridge`, and missing folders of `--db` and `export -o`."""
from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from conftest import run_cli

ARTICLE = "قال الرئيس إن الحكومة ستعمل على تحسين الاقتصاد.\nوأكد الوزير أن المفاوضات مستمرة مع الدول المجاورة.\n"


@pytest.fixture
def env(tmp_path):
    return {"TRANSLATE_MODELS_DIR": str(tmp_path / "models"), "COLUMNS": "250"}


@pytest.fixture
def store(tmp_path, tiny_model, env) -> Path:
    """A store with two pairs, in a folder that did not exist: `run --db` creates it."""
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    db = tmp_path / "new" / "folder" / "corpus.sqlite"
    result = run_cli("run", article, "--model", tiny_model, "--db", db, "--beam", "1", env=env)
    assert result.returncode == 0, result.stderr
    return db


def test_run_help_shows_the_ray_extra(env):
    result = run_cli("run", "--help", env=env)
    assert result.returncode == 0, result.stderr
    assert "pip install 'translate-arabic[ray]'" in " ".join(result.stdout.split())


def test_models_list_labels_its_columns_and_remove_names_the_bundled_model(env):
    listed = run_cli("models", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split("\t") == ["name", "quality rank (higher is better)", "path"]
    demo = next(row for row in rows if row.startswith("demo-ar-en-tatoeba\t"))
    assert demo.split("\t")[1] == "0"
    removed = run_cli("models", "remove", "no-such-model", env=env)
    assert removed.returncode == 1
    assert "installed: none" in removed.stderr
    assert "bundled with the package, not removable: demo-ar-en-tatoeba" in removed.stderr
    assert removed.stderr.count("\n") == 1


def test_export_to_standard_output_and_format_names_in_any_case(store, tmp_path, env):
    result = run_cli("export", "-o", "-", "-f", "JSONL", "--db", store, env=env)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["source"] for r in records] == ARTICLE.splitlines()
    assert "exported 2 pairs to standard output" in result.stderr
    assert not Path("-").exists() and not (tmp_path / "-").exists()
    tmx = run_cli("export", "-o", "-", "-f", "TMX", "--db", store, env=env)
    assert tmx.returncode == 0, tmx.stderr
    assert tmx.stdout.startswith('<?xml version="1.0" encoding="UTF-8"?>') and tmx.stdout.count("<tu ") == 2
    # import takes a format name in any case too
    out = tmp_path / "pairs.tsv"
    assert run_cli("export", "-o", out, "-f", "Tsv", "--db", store, env=env).returncode == 0
    imported = run_cli("import", out, "-f", "TSV", "--db", tmp_path / "other.sqlite", env=env)
    assert imported.returncode == 0, imported.stderr
    assert "imported 2 new pairs" in imported.stderr


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_min_score_must_be_a_finite_number(store, tmp_path, env, value):
    out = tmp_path / "out.jsonl"
    result = run_cli("export", "-o", out, "-f", "jsonl", "--min-score", value, "--db", store, env=env)
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: --min-score {float(value)}: not a finite number"
    assert not out.exists()


def test_export_creates_the_missing_folders_of_its_output_as_run_does_for_the_store(store, tmp_path, env):
    assert store.exists()                                  # run --db made new/folder/
    out = tmp_path / "exports" / "2024" / "pairs.tmx"
    result = run_cli("export", "-o", out, "--db", store, env=env)
    assert result.returncode == 0, result.stderr
    assert out.read_text(encoding="utf-8").count("<tu ") == 2
    # a path that cannot be a folder is still a one-line error
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    refused = run_cli("export", "-o", blocker / "pairs.tmx", "--db", store, env=env)
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"error: {blocker / 'pairs.tmx'}: cannot write")
    assert refused.stderr.count("\n") == 1


def test_score_does_not_count_a_final_blank_line(tmp_path, env):
    src, hyp = tmp_path / "src.txt", tmp_path / "hyp.txt"
    # the source ends with a line holding only a right-to-left mark (invisible), the output with spaces
    src.write_text("ذهب الولد إلى المدرسة.\nقال الوزير إن الاجتماع انتهى.\n\u200f\n", encoding="utf-8")
    hyp.write_text("The boy went to school.\nThe minister said the meeting was over.\n  \n", encoding="utf-8")
    result = run_cli("score", "--src", src, "--hyp", hyp, "--jsonl", env=env)
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["line"] for line in result.stdout.splitlines()] == [1, 2]
    assert "scored 2 pairs" in result.stderr


def test_translations_with_no_bridge_is_refused(tmp_path, env):
    ar, en, mt = tmp_path / "ar.txt", tmp_path / "en.txt", tmp_path / "mt.txt"
    ar.write_text(ARTICLE, encoding="utf-8")
    en.write_text("The president said the government would improve the economy.\n", encoding="utf-8")
    mt.write_text("The president said.\nThe minister said.\n", encoding="utf-8")
    db = tmp_path / "c.sqlite"
    result = run_cli("align", ar, en, "--translations", mt, "--no-bridge", "--db", db, env=env)
    assert result.returncode == 2
    assert re.fullmatch(r"error: --translations .* --no-bridge .*\n", result.stderr)
    assert not db.exists()
    with_mt = run_cli("align", ar, en, "--translations", mt, "--db", db, env=env)
    assert with_mt.returncode == 0, with_mt.stderr
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM translations WHERE origin = 'human'").fetchone()[0] >= 1
