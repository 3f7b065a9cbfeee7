"""Hostile input files through the real CLI: undecodable file names, mixed encodings, HTML saved as .txt."""
from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path

import pytest

from conftest import ROOT, run_cli, run_with_tiny_model, stored_documents

SEED = sorted((ROOT / "seeds").glob("*.txt"))[0]
PARTIAL = 3       # documented exit status: some inputs refused, the others stored

GOOD_A = "قال الرئيس إن الحكومة ستعمل على تحسين الاقتصاد.\n"
GOOD_Z = "وأكد الوزير أن المفاوضات مستمرة مع الدول المجاورة.\n"
ARABIC_NAME = "ملف".encode("cp1256") + b".txt"      # a Windows zip's file name: not UTF-8
BROKEN_NAME = b"\xff-broken.txt"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file names are bytes")


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def write_bytes_name(folder: Path, name: bytes, data: bytes) -> None:
    with open(os.path.join(os.fsencode(folder), name), "wb") as out:
        out.write(data)


# ---------------------------------------------------------------- file names


def test_undecodable_file_names_are_stored_escaped_and_one_bad_file_stops_nothing(tmp_path, tiny_model, env):
    folder = tmp_path / "zip-from-windows"
    folder.mkdir()
    (folder / "a.txt").write_text(GOOD_A, encoding="utf-8")
    write_bytes_name(folder, ARABIC_NAME, "خبر عاجل من العاصمة.\n".encode("utf-8"))
    write_bytes_name(folder, BROKEN_NAME, b"\x89PNG\r\n\x1a\n\x00\x00")     # undecodable name, binary content
    (folder / "z.txt").write_text(GOOD_Z, encoding="utf-8")
    db = tmp_path / "c.sqlite"

    result = run_with_tiny_model(tiny_model, env, db, folder)

    assert result.returncode == PARTIAL, result.stderr
    assert "Traceback" not in result.stderr
    errors = error_lines(result.stderr)
    assert errors == [f"error: {folder}/\\xff-broken.txt: binary data (NUL bytes), not a text file"]
    assert "1 input refused" in result.stderr
    stored = stored_documents(db)
    escaped = f"{folder}/\\xe3\\xe1\\xdd.txt"                 # the cp1256 bytes of "ملف", readable and lossless
    assert stored == {f"{folder}/a.txt": GOOD_A, escaped: "خبر عاجل من العاصمة.\n",
                      f"{folder}/z.txt": GOOD_Z}

    exported = tmp_path / "pairs.jsonl"
    done = run_cli("export", "--format", "jsonl", "-o", exported, "--db", db)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    assert escaped in {row["document"] for row in rows}


def test_a_run_whose_every_input_is_refused_exits_1(tmp_path, tiny_model, env):
    folder = tmp_path / "in"
    folder.mkdir()
    write_bytes_name(folder, BROKEN_NAME, b"\x00\x01")
    result = run_with_tiny_model(tiny_model, env, tmp_path / "c.sqlite", folder)
    assert result.returncode == 1
    assert error_lines(result.stderr) == [f"error: {folder}/\\xff-broken.txt: binary data (NUL bytes), "
                                          f"not a text file"]


def test_segment_prints_undecodable_names_escaped(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_bytes_name(folder, ARABIC_NAME, GOOD_A.encode("utf-8"))
    path = os.path.join(os.fsencode(folder), ARABIC_NAME)
    result = run_cli("segment", os.fsdecode(path), "--jsonl")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[0])["file"] == f"{folder}/\\xe3\\xe1\\xdd.txt"


# ---------------------------------------------------------------- encodings


def test_encoding_applies_only_to_files_that_are_not_utf8(tmp_path, tiny_model, env):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "utf8.txt").write_text(GOOD_A, encoding="utf-8")
    (folder / "utf8-bom.txt").write_bytes("\ufeff".encode("utf-8") + GOOD_Z.encode("utf-8"))
    windows = "ذكرت وكالة الأنباء أن الأمطار الغزيرة تسببت في فيضانات.\n"
    (folder / "windows.txt").write_bytes(windows.encode("cp1256"))
    db = tmp_path / "c.sqlite"

    result = run_with_tiny_model(tiny_model, env, db, folder, "--encoding", "cp1256")

    assert result.returncode == 0, result.stderr
    stored = stored_documents(db)
    assert stored[f"{folder}/utf8.txt"] == GOOD_A                 # not cp1256 mojibake of the UTF-8 bytes
    assert stored[f"{folder}/utf8-bom.txt"] == GOOD_Z
    assert stored[f"{folder}/windows.txt"] == windows


def test_a_long_cp1256_file_is_detected_with_a_warning(tmp_path, tiny_model, env):
    original = SEED.read_text(encoding="utf-8")[:3000]
    doc = tmp_path / "windows.txt"
    doc.write_bytes(original.encode("cp1256"))
    db = tmp_path / "c.sqlite"

    result = run_with_tiny_model(tiny_model, env, db, doc)

    assert result.returncode == 0, result.stderr
    assert f"warning: {doc}: not UTF-8; read as cp1256" in result.stderr
    assert stored_documents(db) == {str(doc): original}


def test_a_short_cp1256_file_is_refused_with_the_encoding_to_pass(tmp_path, tiny_model, env):
    # seven letters: also valid (and Arabic-looking) as ISO-8859-6, so no guess is safe
    doc = tmp_path / "short.txt"
    doc.write_bytes("نص عربي.".encode("cp1256"))
    good = tmp_path / "good.txt"
    good.write_text(GOOD_A, encoding="utf-8")
    db = tmp_path / "c.sqlite"

    result = run_with_tiny_model(tiny_model, env, db, doc, good)

    assert result.returncode == PARTIAL, result.stderr
    [error] = error_lines(result.stderr)
    assert error.startswith(f"error: {doc}: not valid UTF-8") and "--encoding cp1256" in error
    assert stored_documents(db) == {str(good): GOOD_A}

    fixed = run_with_tiny_model(tiny_model, env, db, doc, "--encoding", "cp1256")
    assert fixed.returncode == 0, fixed.stderr
    assert stored_documents(db)[str(doc)] == "نص عربي."


def test_text_in_no_arabic_encoding_is_refused_not_guessed(tmp_path, tiny_model, env):
    doc = tmp_path / "latin.txt"
    doc.write_bytes("Le président a déclaré que le gouvernement allait améliorer l'économie.".encode("cp1252"))
    result = run_with_tiny_model(tiny_model, env, tmp_path / "c.sqlite", doc)
    assert result.returncode == 1
    [error] = error_lines(result.stderr)
    assert str(doc) in error and "--encoding" in error


def test_utf16_with_a_byte_order_mark_is_read_and_wrong_encodings_are_refused(tmp_path, tiny_model, env):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "utf16.txt").write_bytes(GOOD_A.encode("utf-16"))
    # UTF-16 without a mark, read with --encoding cp1256, would store NULs between letters
    (folder / "utf16-nobom.txt").write_bytes(GOOD_Z.encode("utf-16-le"))
    db = tmp_path / "c.sqlite"

    result = run_with_tiny_model(tiny_model, env, db, folder, "--encoding", "cp1256")

    assert result.returncode == PARTIAL, result.stderr
    assert stored_documents(db) == {f"{folder}/utf16.txt": GOOD_A}
    [error] = error_lines(result.stderr)
    assert "utf16-nobom.txt" in error and "NUL" in error


# ---------------------------------------------------------------- HTML


PAGE = """<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>خبر</title>
<style>body { font-family: serif } .nav { color: red }</style>
<script>var tracking = "<p>ليس نصا</p>"; function f() { return 1; }</script></head>
<body><nav class="nav"><ul><li><a href="/">الرئيسية</a></li><li><a href="/sport">رياضة</a></li></ul></nav>
<article><h1>قال الرئيس إن الحكومة ستعمل على تحسين الاقتصاد</h1>
<p>وأكد الوزير أن المفاوضات مستمرة مع الدول المجاورة بشأن المياه والحدود.</p>
<p>وذكرت وكالة الأنباء أن الأمطار الغزيرة تسببت في فيضانات في عدة مدن.</p></article>
<footer>حقوق النشر &copy; 2024</footer></body></html>
"""


def test_an_html_page_saved_as_txt_is_refused_unless_html_is_given(tmp_path, tiny_model, env):
    page = tmp_path / "page.txt"
    page.write_text(PAGE, encoding="utf-8")
    db = tmp_path / "c.sqlite"

    refused = run_with_tiny_model(tiny_model, env, db, page)
    assert refused.returncode == 1
    [error] = error_lines(refused.stderr)
    assert error.startswith(f"error: {page}: looks like an HTML page") and "--html" in error

    done = run_with_tiny_model(tiny_model, env, db, page, "--html")
    assert done.returncode == 0, done.stderr
    [text] = stored_documents(db).values()
    assert "وأكد الوزير أن المفاوضات مستمرة مع الدول المجاورة بشأن المياه والحدود." in text
    assert "وذكرت وكالة الأنباء" in text
    for markup in ("<", "tracking", "font-family", "الرئيسية"):        # no tags, script, style or menu
        assert markup not in text
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM translations").fetchone()[0] >= 2


def test_plain_text_with_a_few_angle_brackets_is_not_html(tmp_path, tiny_model, env):
    doc = tmp_path / "article.txt"
    text = GOOD_A + "وقال إن النسبة <5% في المئة <b> هذا العام.\n" + GOOD_Z
    doc.write_text(text, encoding="utf-8")
    db = tmp_path / "c.sqlite"
    result = run_with_tiny_model(tiny_model, env, db, doc)
    assert result.returncode == 0, result.stderr
    assert stored_documents(db) == {str(doc): text}


def test_unknown_encoding_is_a_usage_error(tmp_path, tiny_model, env):
    doc = tmp_path / "d.txt"
    doc.write_text(GOOD_A, encoding="utf-8")
    result = run_with_tiny_model(tiny_model, env, tmp_path / "c.sqlite", doc, "--encoding", "no-such-codec")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --encoding no-such-codec: unknown encoding (e.g. cp1256, iso8859_6)"
    assert not (tmp_path / "c.sqlite").exists()
