"""The backbone end to end: `translate run` and `translate export` in a subprocess, on a real SQLite file."""
from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from conftest import ROOT, run_cli
from translate.pipeline import iter_segments, read_document

SEEDS = ROOT / "seeds"


def expected_segments(paths: list[Path]) -> int:
    return sum(len(list(iter_segments(read_document(p)))) for p in paths)


def count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as con:
        return con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_run_seeds_stores_a_pair_for_every_sentence_and_second_run_adds_none(tmp_path, tiny_model, env):
    db = tmp_path / "corpus.sqlite"
    seeds = sorted(SEEDS.glob("*.txt"))
    assert len(seeds) == 5
    first = run_cli("run", SEEDS, "--model", tiny_model, "--db", db, "--beam", "1", env=env)
    assert first.returncode == 0, first.stderr
    wanted = expected_segments(seeds)
    assert count(db, "documents") == 5
    assert count(db, "segments") == wanted
    assert count(db, "translations") == wanted
    assert "documents 5" in first.stderr and f"segments {wanted}" in first.stderr
    with sqlite3.connect(db) as con:
        # every segment has exactly one translation and one score row; review status starts pending
        assert con.execute("SELECT COUNT(*) FROM segments s LEFT JOIN translations t ON t.segment_id = s.id"
                           " WHERE t.id IS NULL").fetchone()[0] == 0
        assert con.execute("SELECT COUNT(*) FROM scores").fetchone()[0] == wanted
        assert {r[0] for r in con.execute("SELECT status FROM translations")} == {"pending"}
        scores = [r[0] for r in con.execute("SELECT score FROM scores")]
        assert all(0.0 <= s <= 1.0 for s in scores)
        # offsets point at the stored text
        for text, start, end, seg in con.execute(
                "SELECT d.text, s.start, s.end, s.text FROM segments s JOIN documents d ON d.id = s.document_id"):
            assert text[start:end] == seg
        run_rows = con.execute("SELECT status, finished_at FROM runs").fetchall()
        assert run_rows[0][0] == "done" and run_rows[0][1]

    second = run_cli("run", SEEDS, "--model", tiny_model, "--db", db, "--beam", "1", env=env)
    assert second.returncode == 0, second.stderr
    assert count(db, "translations") == wanted
    assert count(db, "documents") == 5
    assert "segments 0" in second.stderr and "+5 already done" in second.stderr


def test_same_content_under_two_names_is_one_document_and_translated_once(tmp_path, tiny_model, env):
    docs = tmp_path / "in"
    docs.mkdir()
    seed = sorted(SEEDS.glob("*.txt"))[3]
    shutil.copy(seed, docs / "a.txt")
    shutil.copy(seed, docs / "b.txt")
    db = tmp_path / "c.sqlite"
    result = run_cli("run", docs, "--model", tiny_model, "--db", db, "--beam", "1", env=env)
    assert result.returncode == 0, result.stderr
    assert count(db, "documents") == 1
    assert count(db, "translations") == expected_segments([seed])


def test_repeated_sentences_are_translated_once(tmp_path, tiny_model, env):
    doc = tmp_path / "repeat.txt"
    doc.write_text("قال الرئيس إن الحكومة ستعمل.\nقال الرئيس إن الحكومة ستعمل.\nوأكد الوزير.\n", encoding="utf-8")
    db = tmp_path / "r.sqlite"
    result = run_cli("run", doc, "--model", tiny_model, "--db", db, "--beam", "1", env=env)
    assert result.returncode == 0, result.stderr
    assert "segments 3 (translated 2, reused 1)" in result.stderr
    with sqlite3.connect(db) as con:
        targets = [r[0] for r in con.execute("SELECT text FROM translations ORDER BY segment_id")]
    assert targets[0] == targets[1]
    # a new document sharing a sentence reuses the stored translation
    other = tmp_path / "other.txt"
    other.write_text("وأكد الوزير.\nجملة جديدة تماما.\n", encoding="utf-8")
    result = run_cli("run", other, "--model", tiny_model, "--db", db, "--beam", "1", env=env)
    assert "segments 2 (translated 1, reused 1)" in result.stderr, result.stderr


def test_bad_inputs_get_one_line_errors_and_the_rest_of_the_run_completes(tmp_path, tiny_model, env):
    docs = tmp_path / "in"
    docs.mkdir()
    good = docs / "good.txt"
    good.write_text("هذه جملة جيدة.\n", encoding="utf-8")
    (docs / "utf16.txt").write_bytes("نص عربي آخر.".encode("utf-16"))
    (docs / "cp1256.txt").write_bytes("نص عربي.".encode("cp1256"))
    (docs / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (docs / "empty.txt").write_text("  \n", encoding="utf-8")
    (docs / "bom.txt").write_bytes("\ufeffنص مع علامة.".encode("utf-8"))
    db = tmp_path / "b.sqlite"
    result = run_cli("run", docs, "--model", tiny_model, "--db", db, "--beam", "1", env=env)
    assert result.returncode == 3               # some inputs refused, the others stored
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 3, result.stderr
    for name, problem in [("cp1256.txt", "not valid UTF-8"), ("binary.txt", "binary"), ("empty.txt", "empty")]:
        assert any(name in e and problem in e for e in errors), (name, errors)
    assert "utf16.txt: read as UTF-16 (byte-order mark)" in result.stderr
    assert count(db, "documents") == 3          # good.txt, bom.txt and utf16.txt
    with sqlite3.connect(db) as con:
        texts = {r[0] for r in con.execute("SELECT text FROM documents")}
    assert "نص مع علامة." in texts              # the BOM is not part of the text
    assert "نص عربي آخر." in texts              # UTF-16 read through its byte-order mark

    fixed = run_cli("run", docs / "cp1256.txt", "--encoding", "cp1256", "--model", tiny_model, "--db", db,
                    "--beam", "1", env=env)
    assert fixed.returncode == 0, fixed.stderr
    assert count(db, "documents") == 4


def test_missing_model_and_missing_input_fail_in_one_line(tmp_path, tiny_model, env):
    db = tmp_path / "m.sqlite"
    result = run_cli("run", tmp_path / "nope.txt", "--model", tiny_model, "--db", db, env=env)
    assert result.returncode != 0 and "nope.txt" in result.stderr
    doc = tmp_path / "d.txt"
    doc.write_text("جملة.", encoding="utf-8")
    result = run_cli("run", doc, "--model", tmp_path / "no-such-model", "--db", db, env=env)
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1 and "no-such-model" in result.stderr


def test_cuda_without_gpu_is_a_clear_error(tmp_path, tiny_model, env):
    import ctranslate2

    if ctranslate2.get_cuda_device_count() > 0:
        pytest.skip("this machine has a GPU")
    doc = tmp_path / "d.txt"
    doc.write_text("جملة.", encoding="utf-8")
    result = run_cli("run", doc, "--model", tiny_model, "--db", tmp_path / "x.sqlite", "--device", "cuda", env=env)
    assert result.returncode == 1
    assert "no CUDA GPU" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_segment_command_jsonl_offsets_index_the_decoded_text(tmp_path):
    doc = tmp_path / "d.txt"
    doc.write_bytes("\ufeffعنوان الخبر\nقال الوزير: نعم. وأضاف أن العمل مستمر؟ نعم!\n".encode("utf-8"))
    result = run_cli("segment", doc, "--jsonl")
    assert result.returncode == 0, result.stderr
    text = doc.read_text(encoding="utf-8-sig")
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["text"] for o in objects][0] == "عنوان الخبر"
    assert len(objects) >= 4
    for o in objects:
        assert text[o["start"]:o["end"]] == o["text"]
        assert o["file"] == str(doc)
    plain = run_cli("segment", doc)
    assert plain.stdout.splitlines() == [o["text"] for o in objects]


def test_bundled_demo_model_is_the_default_and_survives_a_736_word_sentence(tmp_path, env):
    """No model installed: the demo model shipped with the package is used. The unsplit 736-word
    run-on sentence of seed 001 exceeds the model's 256 positions; it must be translated in windows
    (flagged), never crash or lose text."""
    seed = next(SEEDS.glob("001_*.txt"))
    db = tmp_path / "demo.sqlite"
    result = run_cli("run", seed, "--db", db, "--max-words", "0", env=env)
    assert result.returncode == 0, result.stderr
    assert "model demo-ar-en-tatoeba (demo model" in result.stderr
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT s.text, t.text, sc.signals FROM segments s JOIN translations t"
                           " ON t.segment_id = s.id JOIN scores sc ON sc.translation_id = t.id").fetchall()
        model = con.execute("SELECT name FROM models").fetchone()[0]
    assert model == "demo-ar-en-tatoeba"
    longest = max(rows, key=lambda r: len(r[0].split()))
    assert len(longest[0].split()) > 700 and longest[1].strip()
    assert json.loads(longest[2])["source_windows"] > 1
