"""Input files as real users have them, through the real CLI (issue 24, items 7-10): folders of HTML pages
and upper-case extensions, `segment DIR`, files a folder holds that are not read, HTML lists and tables,
a wrong --encoding, and English lines inside an Arabic article."""
from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from conftest import run_cli, run_with_tiny_model, stored_documents
from test_review import Server
import web

GOOD_A = "قال الرئيس إن الحكومة ستعمل على تحسين الاقتصاد.\n"
GOOD_Z = "وأكد الوزير أن المفاوضات مستمرة مع الدول المجاورة.\n"

PAGE = """<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>خبر</title></head>
<body><nav><ul><li><a href="/">الرئيسية</a></li><li><a href="/sport">رياضة</a></li></ul></nav>
<article><h1>وزير المالية يعلن نتائج العام الماضي</h1>
<p>قال وزير المالية في مؤتمر صحفي اليوم إن الاقتصاد الوطني سجل نموا ملحوظا خلال العام الماضي بفضل الإصلاحات.</p>
<ul><li>البند الأول من الإصلاحات يتعلق بالضرائب على الشركات.</li>
<li>البند الثاني يتعلق بتشجيع الاستثمار الأجنبي المباشر.</li></ul>
<p>وأضاف الوزير أن <b>الحكومة</b> ستواصل العمل على تحسين الخدمات العامة للمواطنين في جميع المناطق.</p>
<table><tr><th>السنة</th><th>النمو</th></tr><tr><td>عام 2022</td><td>3.5 في المئة</td></tr>
<tr><td>عام 2023</td><td>4.1 في المئة</td></tr></table>
<p>وختم بالقول إن المرحلة المقبلة ستشهد مزيدا من المشاريع التنموية الكبرى في البلاد.</p></article>
<footer>حقوق النشر &copy; 2024</footer></body></html>
"""


def lines_starting(stderr: str, prefix: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(prefix)]


def mixed_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.html").write_text(PAGE, encoding="utf-8")
    (folder / "sub" / "c.HTM").write_text(PAGE.replace("وزير المالية يعلن", "وزير الاقتصاد يعلن"), encoding="utf-8")
    (folder / "b.TXT").write_text(GOOD_A, encoding="utf-8")
    (folder / "d.txt").write_text(GOOD_Z, encoding="utf-8")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 not text")
    (folder / "notes.md").write_text("# notes\n", encoding="utf-8")
    return folder


# ---------------------------------------------------------------- item 7: folders


def test_run_dir_with_html_reads_html_pages_and_upper_case_extensions(tmp_path, tiny_model, env):
    folder = mixed_folder(tmp_path)
    db = tmp_path / "c.sqlite"
    result = run_with_tiny_model(tiny_model, env, db, folder, "--html")
    assert result.returncode == 0, result.stderr
    stored = stored_documents(db)
    assert set(stored) == {str(folder / name) for name in ("a.html", "sub/c.HTM", "b.TXT", "d.txt")}
    assert stored[str(folder / "b.TXT")] == GOOD_A
    # every other file of the folder is named, with the reason it was not read
    skipped = lines_starting(result.stderr, "warning:")
    assert sorted(skipped) == sorted([
        f"warning: {folder / 'notes.md'}: skipped: not a .txt, .html or .htm file",
        f"warning: {folder / 'photo.jpg'}: skipped: not a .txt, .html or .htm file"])


def test_run_dir_without_html_names_the_pages_it_skips_and_reads_upper_case_txt(tmp_path, tiny_model, env):
    folder = mixed_folder(tmp_path)
    db = tmp_path / "c.sqlite"
    result = run_with_tiny_model(tiny_model, env, db, folder)
    assert result.returncode == 0, result.stderr
    assert set(stored_documents(db)) == {str(folder / "b.TXT"), str(folder / "d.txt")}
    skipped = "\n".join(lines_starting(result.stderr, "warning:"))
    for name in ("a.html", "sub/c.HTM"):
        assert f"{folder / name}: skipped: an HTML page (pass --html to translate its article text)" in skipped
    for name in ("notes.md", "photo.jpg"):
        assert f"{folder / name}: skipped: not a .txt file" in skipped


def test_a_folder_without_readable_files_is_one_error_naming_what_is_read(tmp_path, tiny_model, env):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "a.html").write_text(PAGE, encoding="utf-8")
    result = run_with_tiny_model(tiny_model, env, tmp_path / "c.sqlite", folder)
    assert result.returncode == 1
    assert lines_starting(result.stderr, "error:") == ["error: no .txt input files found"]
    assert "a.html: skipped: an HTML page" in result.stderr


def test_segment_dir_works_like_run_dir(tmp_path):
    folder = mixed_folder(tmp_path)
    result = run_cli("segment", folder, "--jsonl")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert {row["file"] for row in rows} == {str(folder / "b.TXT"), str(folder / "d.txt")}
    assert [row["text"] for row in rows] == [GOOD_A.strip(), GOOD_Z.strip()]
    assert "a.html: skipped: an HTML page" in result.stderr
    with_html = run_cli("segment", folder, "--html")
    assert with_html.returncode == 0, with_html.stderr
    assert "البند الثاني يتعلق بتشجيع الاستثمار الأجنبي المباشر." in with_html.stdout.splitlines()
    missing = run_cli("segment", tmp_path / "nowhere")
    assert missing.returncode == 1
    assert f"error: {tmp_path / 'nowhere'}: no such file or directory" in missing.stderr


# ---------------------------------------------------------------- item 8: HTML as plain text


def test_html_lists_and_tables_are_stored_as_plain_lines_without_markdown_marks(tmp_path, tiny_model, env):
    page = tmp_path / "page.html"
    page.write_text(PAGE, encoding="utf-8")
    db = tmp_path / "c.sqlite"
    result = run_with_tiny_model(tiny_model, env, db, page, "--html")
    assert result.returncode == 0, result.stderr
    [text] = stored_documents(db).values()
    lines = text.split("\n")
    for expected in ("البند الأول من الإصلاحات يتعلق بالضرائب على الشركات.",
                     "البند الثاني يتعلق بتشجيع الاستثمار الأجنبي المباشر.",
                     "السنة", "النمو", "عام 2022", "3.5 في المئة", "عام 2023", "4.1 في المئة",
                     "وأضاف الوزير أن الحكومة ستواصل العمل على تحسين الخدمات العامة للمواطنين في جميع المناطق."):
        assert expected in lines, (expected, lines)
    for mark in ("|", "---", "- ", "**", "*", "#"):
        assert not any(line.startswith(mark) or line.endswith(mark.strip()) for line in lines), (mark, lines)
    assert "|" not in text and "الرئيسية" not in text and "<" not in text
    with sqlite3.connect(db) as con:
        sources = [r[0] for r in con.execute("SELECT text FROM segments")]
    assert "البند الأول من الإصلاحات يتعلق بالضرائب على الشركات." in sources


# ---------------------------------------------------------------- item 9: a wrong --encoding


def test_an_encoding_that_reads_an_arabic_file_as_mojibake_is_refused_naming_the_right_one(tmp_path, tiny_model,
                                                                                            env):
    doc = tmp_path / "windows.txt"
    doc.write_bytes((GOOD_A + GOOD_Z).encode("cp1256"))
    db = tmp_path / "c.sqlite"
    for wrong in ("latin-1", "cp1252"):
        result = run_with_tiny_model(tiny_model, env, db, doc, "--encoding", wrong)
        assert result.returncode == 1
        [error] = lines_starting(result.stderr, "error:")
        assert error.startswith(f"error: {doc}: read as ") and "no Arabic letters" in error
        assert "--encoding cp1256" in error
    assert not stored_documents(db) if db.exists() else True
    right = run_with_tiny_model(tiny_model, env, db, doc, "--encoding", "cp1256")
    assert right.returncode == 0, right.stderr
    assert list(stored_documents(db).values()) == [GOOD_A + GOOD_Z]


def test_a_latin_script_file_in_latin_1_is_still_read_as_asked(tmp_path):
    doc = tmp_path / "french.txt"
    doc.write_bytes("Le président a dit que l'économie était forte.\n".encode("latin-1"))
    result = run_cli("segment", doc, "--encoding", "latin-1")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Le président a dit que l'économie était forte.\n"


# ---------------------------------------------------------------- item 10: English lines in an Arabic article

ENGLISH_QUOTE = 'He said: "We will not give up, whatever it takes."'
ENGLISH_TITLE = "Reuters / AP"


def test_latin_script_lines_are_kept_as_they_are_not_translated(tmp_path, tiny_model, env):
    article = tmp_path / "mixed.txt"
    article.write_text(GOOD_A + ENGLISH_QUOTE + "\n" + GOOD_Z + ENGLISH_TITLE + "\n", encoding="utf-8")
    db = tmp_path / "c.sqlite"
    result = run_with_tiny_model(tiny_model, env, db, article)
    assert result.returncode == 0, result.stderr
    # only the two Arabic sentences went to the model
    assert "(translated 2, reused 0, copied 2 Latin-script)" in result.stderr
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT s.text, t.text, t.origin, sc.signals FROM translations t"
                           " JOIN segments s ON s.id = t.segment_id JOIN scores sc ON sc.translation_id = t.id"
                           " ORDER BY s.start").fetchall()
    assert [r[2] for r in rows] == ["mt", "copied", "mt", "copied"]
    for source, target, origin, signals in rows:
        if origin == "copied":
            assert target == source and json.loads(signals)["copied"] is True
        else:
            assert "copied" not in json.loads(signals)
    assert {r[1] for r in rows if r[2] == "copied"} == {ENGLISH_QUOTE, ENGLISH_TITLE}

    # a second run adds nothing and sends nothing to the model
    again = run_with_tiny_model(tiny_model, env, db, article)
    assert again.returncode == 0, again.stderr
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM translations").fetchone()[0] == 4

    # the export says what the pair is
    out = tmp_path / "out.jsonl"
    exported = run_cli("export", "-f", "jsonl", "-o", out, "--db", db)
    assert exported.returncode == 0, exported.stderr
    records = {r["source"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert records[ENGLISH_QUOTE]["origin"] == "copied" and records[ENGLISH_QUOTE]["target"] == ENGLISH_QUOTE
    assert records[ENGLISH_QUOTE]["signals"]["copied"] is True
    assert records[GOOD_A.strip()]["origin"] == "mt"

    # and so does the review page
    server = Server(db)
    try:
        page = web.get(server.base + "/").text
    finally:
        server.stop()
    assert len(re.findall(r'<div class="origin">Latin-script line kept as it is \(not translated\)', page)) == 2
    assert page.count("inside the Arabic: kept as it is, not translated") == 2


def test_a_latin_line_of_one_article_under_two_names_is_copied_once(tmp_path, tiny_model, env):
    folder = tmp_path / "twice"
    folder.mkdir()
    for name in ("a.txt", "b.txt"):
        (folder / name).write_text(ENGLISH_QUOTE + "\n" + GOOD_A, encoding="utf-8")
    db = tmp_path / "c.sqlite"
    result = run_with_tiny_model(tiny_model, env, db, folder)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT origin, COUNT(*) FROM translations GROUP BY origin ORDER BY origin").fetchall() \
            == [("copied", 1), ("mt", 1)]


def test_context_of_a_copied_line_is_the_translated_sentences_around_it(tmp_path, tiny_model, env):
    article = tmp_path / "mixed.txt"
    article.write_text(GOOD_A + ENGLISH_QUOTE + "\n" + GOOD_Z, encoding="utf-8")
    db = tmp_path / "c.sqlite"
    assert run_with_tiny_model(tiny_model, env, db, article).returncode == 0
    with sqlite3.connect(db) as con:
        ids = [r[0] for r in con.execute("SELECT t.id FROM translations t JOIN segments s ON s.id = t.segment_id"
                                         " ORDER BY s.start")]
    server = Server(db)
    try:
        copied = web.get(f"{server.base}/api/pairs/{ids[1]}/context").json()
        first = web.get(f"{server.base}/api/pairs/{ids[0]}/context").json()
    finally:
        server.stop()
    assert copied["before"]["source"] == GOOD_A.strip() and copied["after"]["source"] == GOOD_Z.strip()
    assert first["after"]["source"] == ENGLISH_QUOTE
