"""Nothing a user had is lost on the way in or out (issue 24, items 1–3), through the real CLI:
TSV written with csv quoting, an edited article run again, and translation memories round-tripped."""
from __future__ import annotations

import csv
import json
import sqlite3

import pytest
from conftest import run_cli

PAIRS = [
    ("قبل \"ذا سيمبسونز\" كان المسلسل مختلفا.", "Before \"The Simpsons\" the series was different."),
    ("قال الوزير:\t\"سنبني مدرسة\".", "The minister said:\t\"We will build a school.\""),
    ("كانت السماء تمطر بغزارة\nفي المساء.", "It was raining heavily\nin the evening."),
]


def stored_pairs(db) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return con.execute(
            "SELECT s.text, COALESCE((SELECT e.text FROM edits e WHERE e.translation_id = t.id AND e.undone_at IS NULL"
            " ORDER BY e.id DESC LIMIT 1), t.text), t.status FROM translations t"
            " JOIN segments s ON s.id = t.segment_id ORDER BY t.id").fetchall()


# -- 1. TSV with csv quoting ---------------------------------------------------------------------
def test_tsv_written_by_the_csv_module_reads_right(tmp_path):
    tsv, db = tmp_path / "memory.tsv", tmp_path / "corpus.sqlite"
    with open(tsv, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", quoting=csv.QUOTE_ALL)    # the header quoted too
        writer.writerow(["ar", "en"])
        writer.writerows(PAIRS)
    result = run_cli("import", tsv, "--db", db)
    assert result.returncode == 0, result.stderr
    assert [(a, e) for a, e, _ in stored_pairs(db)] == PAIRS


def test_tsv_with_minimal_quoting_and_crlf(tmp_path):
    tsv, db = tmp_path / "memory.tsv", tmp_path / "corpus.sqlite"
    with open(tsv, "w", encoding="utf-8-sig", newline="") as fh:           # as spreadsheets and pandas write it
        writer = csv.writer(fh, delimiter="\t", lineterminator="\r\n")
        writer.writerows(PAIRS)
    assert tsv.read_text(encoding="utf-8-sig").startswith('"قبل ""ذا سيمبسونز""')
    result = run_cli("import", tsv, "--db", db)
    assert result.returncode == 0, result.stderr
    assert [(a, e) for a, e, _ in stored_pairs(db)] == PAIRS


def test_tsv_with_broken_quoting_is_refused_naming_the_line(tmp_path):
    tsv, db = tmp_path / "broken.tsv", tmp_path / "corpus.sqlite"
    tsv.write_text(f"{PAIRS[2][0].replace(chr(10), ' ')}\tplain\n\"قال\" الوزير\tThe minister said\n", encoding="utf-8")
    result = run_cli("import", tsv, "--db", db)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert str(tsv) in lines[0] and "line 2" in lines[0] and "quoting" in lines[0]
    assert not db.exists() or stored_pairs(db) == []
    # the same file read with quotes as plain text
    result = run_cli("import", tsv, "--no-quotes", "--db", db)
    assert result.returncode == 0, result.stderr
    assert stored_pairs(db)[1][:2] == ("\"قال\" الوزير", "The minister said")


def test_our_tsv_export_reads_back_and_reads_in_the_csv_module(tmp_path):
    jsonl, db, out, copy = tmp_path / "in.jsonl", tmp_path / "a.sqlite", tmp_path / "out.tsv", tmp_path / "b.sqlite"
    jsonl.write_text("".join(json.dumps({"ar": a, "en": e}, ensure_ascii=False) + "\n" for a, e in PAIRS),
                     encoding="utf-8")
    assert run_cli("import", jsonl, "--db", db).returncode == 0
    assert run_cli("export", "-f", "tsv", "-o", out, "--db", db).returncode == 0
    # one pair a line; a csv reader sees the quotes as quotes (tabs and newlines stay escaped)
    with open(out, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert [r["target"] for r in rows][0] == PAIRS[0][1]
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1 + len(PAIRS)
    result = run_cli("import", out, "--db", copy)
    assert result.returncode == 0, result.stderr
    assert [(a, e) for a, e, _ in stored_pairs(copy)] == PAIRS


# -- 2. an edited article is a new version ----------------------------------------------------------
ARTICLE = ["قال الوزير إن الحكومة ستبني مدرسة جديدة في المدينة.",
           "وأضاف أن المشروع سيكتمل العام المقبل.",
           "وكانت الأمطار غزيرة أمس في المنطقة.",
           "وأكد المسؤولون أن الطرق ستفتح قريبا."]


def test_an_edited_article_supersedes_its_earlier_version_and_keeps_the_reviews(tmp_path, tiny_model):
    from translate.review.decisions import ReviewDecisions
    from translate.store import Store

    article, db = tmp_path / "news" / "article.txt", tmp_path / "corpus.sqlite"
    article.parent.mkdir()
    article.write_text("\n".join(ARTICLE) + "\n", encoding="utf-8")
    args = ("--model", tiny_model, "--beam", "1", "--db", db)
    assert run_cli("run", article, *args).returncode == 0
    with Store(db) as store:
        ids = [r[0] for r in store.db.execute("SELECT id FROM translations ORDER BY id")]
        review = ReviewDecisions(store)
        review.set_status(ids[0], "approved", "alice")
        review.edit(ids[1], "He added that the project will be finished next year.", "bob")
        review.set_status(ids[2], "rejected", "carol")
        review.set_reason(ids[2], "omission", "half missing", "carol")
        review.set_status(ids[3], "approved", "alice")

    # one word appended to the last line: a new version of the same file
    article.write_text("\n".join(ARTICLE[:3] + [ARTICLE[3][:-1] + " جدا."]) + "\n", encoding="utf-8")
    result = run_cli("run", article, *args)
    assert result.returncode == 0, result.stderr
    assert "1 documents are new versions" in result.stderr
    assert "4 of their reviewed pairs are kept" in result.stderr and "3 unchanged sentences kept their review" \
        in result.stderr

    out = tmp_path / "out.jsonl"
    result = run_cli("export", "-f", "jsonl", "-o", out, "--db", db)
    assert result.returncode == 0, result.stderr
    assert "4 reviewed pairs" in result.stderr and "--include-superseded" in result.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["source"] for r in records] == ARTICLE[:3] + [ARTICLE[3][:-1] + " جدا."]     # each source once
    assert [(r["status"], r["reviewer"]) for r in records] == [
        ("approved", "alice"), ("edited", "bob"), ("rejected", "carol"), ("pending", None)]
    assert records[1]["target"] == "He added that the project will be finished next year."
    assert (records[2]["reject_reason"], records[2]["reject_comment"]) == ("omission", "half missing")

    result = run_cli("export", "-f", "jsonl", "-o", out, "--include-superseded", "--db", db)
    assert result.returncode == 0, result.stderr
    everything = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(everything) == 8 and sum(r["source"] == ARTICLE[3] for r in everything) == 1

    # the earlier content run again is current again, with its own reviews
    article.write_text("\n".join(ARTICLE) + "\n", encoding="utf-8")
    assert run_cli("run", article, *args).returncode == 0
    assert run_cli("export", "-f", "jsonl", "-o", out, "--db", db).returncode == 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["source"] for r in records] == ARTICLE
    assert records[3]["status"] == "approved"


# -- 3. translation memories round-trip -----------------------------------------------------------------
@pytest.fixture
def reviewed(tmp_path):
    """A store of three aligned pairs: one approved, one edited, one rejected with a reason."""
    from translate.review.decisions import ReviewDecisions
    from translate.store import Store

    ar, en, db = tmp_path / "a.txt", tmp_path / "e.txt", tmp_path / "source.sqlite"
    ar.write_text("\n".join(a.replace("\n", " ").replace("\t", " ") for a, _ in PAIRS) + "\n", encoding="utf-8")
    en.write_text("\n".join(e.replace("\n", " ").replace("\t", " ") for _, e in PAIRS) + "\n", encoding="utf-8")
    result = run_cli("align", ar, en, "--presegmented", "--no-bridge", "--db", db)
    assert result.returncode == 0, result.stderr
    with Store(db) as store:
        ids = [r[0] for r in store.db.execute("SELECT id FROM translations ORDER BY id")]
        review = ReviewDecisions(store)
        review.set_status(ids[0], "approved", "alice")
        review.edit(ids[1], "The minister said: \"We will build a new school.\"", "bob")
        review.set_status(ids[2], "rejected", "carol")
        review.set_reason(ids[2], "mistranslation", "wrong tense", "carol")
    return db


def review_of(db) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return con.execute(
            "SELECT t.status, t.reject_reason, t.reject_comment, t.text,"
            " (SELECT e.text FROM edits e WHERE e.translation_id = t.id AND e.undone_at IS NULL),"
            " (SELECT l.reviewer FROM review_log l WHERE l.translation_id = t.id ORDER BY l.id DESC LIMIT 1)"
            " FROM translations t ORDER BY t.id").fetchall()


@pytest.mark.parametrize("fmt", ["tmx", "jsonl", "tsv"])
def test_our_exports_round_trip_the_review(reviewed, tmp_path, fmt):
    out, copy, again = tmp_path / f"out.{fmt}", tmp_path / "copy.sqlite", tmp_path / f"again.{fmt}"
    assert run_cli("export", "-f", fmt, "-o", out, "--db", reviewed).returncode == 0
    result = run_cli("import", out, "--db", copy)
    assert result.returncode == 0, result.stderr
    assert "3 with their review" in result.stderr
    before, after = review_of(reviewed), review_of(copy)
    assert [r[:3] for r in after] == [r[:3] for r in before]
    assert [(r[3], r[4], r[5]) for r in after] == [(r[3], r[4], r[5]) for r in before]     # machine text + edit
    # and out again: the same file content, pair for pair
    assert run_cli("export", "-f", fmt, "-o", again, "--db", copy).returncode == 0
    from translate.tm_import import read_pairs

    first, second = read_pairs(out), read_pairs(again)
    assert [(p.source, p.target, p.mt_text, p.decision.status if p.decision else None) for p in first] == \
        [(p.source, p.target, p.mt_text, p.decision.status if p.decision else None) for p in second]


def test_approved_export_imports_approved(reviewed, tmp_path):
    out, copy = tmp_path / "approved.tmx", tmp_path / "copy.sqlite"
    assert run_cli("export", "-f", "tmx", "--status", "approved", "-o", out, "--db", reviewed).returncode == 0
    assert run_cli("import", out, "--db", copy).returncode == 0
    assert [r[0] for r in review_of(copy)] == ["approved"]


FOREIGN_TMX = """<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4">
  <header creationtool="OtherCAT" creationtoolversion="9.1" datatype="plaintext" segtype="sentence"
          adminlang="en-US" srclang="ar-SA" o-tmf="OtherTM">
    <prop type="x-project">Gulf news 2024</prop>
    <note>exported for the archive</note>
  </header>
  <body>
    <tu tuid="n-17" creationdate="20240301T101500Z" changedate="20240302T080000Z" creationid="hana" usagecount="3">
      <note>checked by the desk</note>
      <prop type="x-domain">economy</prop>
      <prop type="x-client">wire</prop>
      <tuv xml:lang="ar-SA" creationid="hana"><prop type="x-variant">gulf</prop><seg>ارتفع النفط ٣ في المئة.</seg></tuv>
      <tuv xml:lang="en-US"><note>tense kept</note><seg>Oil rose 3 <bpt i="1">&lt;a title="<sub>per  cent , today</sub>"&gt;</bpt>percent<ept i="1">&lt;/a&gt;</ept>.</seg></tuv>
    </tu>
    <tu tuid="n-18"><tuv xml:lang="ar"><seg>نص بلا ترجمة إنجليزية.</seg></tuv></tu>
  </body>
</tmx>
"""


def unit_view(path):
    """What a TMX's first unit and header carry, in a comparable form."""
    lxml = pytest.importorskip("lxml.etree")
    root = lxml.parse(str(path)).getroot()
    header = root.find("header")
    unit = root.find("body/tu")
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    foreign = {k: v for k, v in unit.attrib.items() if k != "changedate"}
    return {
        "header": ([(p.get("type"), p.text) for p in header.findall("prop")], [n.text for n in header.findall("note")]),
        "attrs": foreign,
        "props": [(p.get("type"), p.text) for p in unit.findall("prop") if not p.get("type").startswith("x-")
                  or p.get("type") in ("x-domain", "x-client")],
        "notes": [n.text for n in unit.findall("note")],
        "variants": [(v.get(lang), dict((k, x) for k, x in v.attrib.items() if k != lang),
                      [(p.get("type"), p.text) for p in v.findall("prop")], [n.text for n in v.findall("note")],
                      v.find("seg").text) for v in unit.findall("tuv")],
    }


def test_foreign_tmx_round_trips_what_its_units_carry(tmp_path):
    tmx, db = tmp_path / "foreign.tmx", tmp_path / "a.sqlite"
    tmx.write_text(FOREIGN_TMX, encoding="utf-8")
    result = run_cli("import", tmx, "--db", db)
    assert result.returncode == 0, result.stderr
    assert "imported 1 new pairs (0 already stored, 1 skipped" in result.stderr
    out = tmp_path / "out.tmx"
    assert run_cli("export", "-f", "tmx", "-o", out, "--db", db).returncode == 0
    view = unit_view(out)
    assert view["header"] == ([("x-project", "Gulf news 2024")], ["exported for the archive"])
    assert view["attrs"]["tuid"] == "n-17" and view["attrs"]["creationdate"] == "20240301T101500Z"
    assert view["attrs"]["creationid"] == "hana" and view["attrs"]["usagecount"] == "3"
    assert view["props"] == [("x-domain", "economy"), ("x-client", "wire")]
    assert view["notes"] == ["checked by the desk"]
    (ar_lang, ar_attrs, ar_props, _, _), (en_lang, _, _, en_notes, en_seg) = view["variants"]
    assert (ar_lang, ar_attrs, ar_props) == ("ar-SA", {"creationid": "hana"}, [("x-variant", "gulf")])
    assert (en_lang, en_notes) == ("en-US", ["tense kept"])
    assert 'title="per  cent , today"' in en_seg          # the text inside <sub> keeps its spacing
    with sqlite3.connect(db) as con:
        original = con.execute("SELECT changedate FROM (SELECT json_extract(signals, '$.tmx.attrs.changedate')"
                               " AS changedate FROM scores)").fetchone()[0]
    assert original == "20240302T080000Z"

    # through JSONL and back: still all there
    jsonl, db2, again = tmp_path / "out.jsonl", tmp_path / "b.sqlite", tmp_path / "again.tmx"
    assert run_cli("export", "-f", "jsonl", "-o", jsonl, "--db", db).returncode == 0
    assert run_cli("import", jsonl, "--db", db2).returncode == 0
    assert run_cli("export", "-f", "tmx", "-o", again, "--db", db2).returncode == 0
    assert unit_view(again) == view


def test_foreign_tmx_export_is_valid_against_the_dtd(shared_dir, tmp_path):
    lxml = pytest.importorskip("lxml.etree")
    tmx, db, out = tmp_path / "foreign.tmx", tmp_path / "a.sqlite", tmp_path / "out.tmx"
    tmx.write_text(FOREIGN_TMX, encoding="utf-8")
    assert run_cli("import", tmx, "--db", db).returncode == 0
    assert run_cli("export", "-f", "tmx", "-o", out, "--db", db).returncode == 0
    dtd = lxml.DTD(str(shared_dir / "data" / "tmx" / "tmx14.dtd"))
    assert dtd.validate(lxml.parse(str(out))), dtd.error_log


# -- 4. eval --db picks a run that translated, and a re-segmented run is evaluable -------------------------
def test_eval_takes_the_newest_run_with_translations_and_a_resegmented_run(tmp_path, tiny_model):
    long_line = ("قال الوزير إن الحكومة ستبني مدرسة جديدة في المدينة وإن المشروع سيكتمل في العام المقبل بعد أن"
                 " وافق البرلمان على الميزانية وأكد المسؤولون أن الطرق ستفتح قريبا")
    article, ref, db = tmp_path / "article.txt", tmp_path / "ref.txt", tmp_path / "corpus.sqlite"
    article.write_text("\n".join(ARTICLE + [long_line]) + "\n", encoding="utf-8")
    ref.write_text("\n".join(f"Reference sentence {k}." for k in range(5)) + "\n", encoding="utf-8")
    args = ("--model", tiny_model, "--beam", "1", "--db", db)
    assert run_cli("run", article, *args).returncode == 0
    assert run_cli("run", article, *args).returncode == 0            # finds everything done: stores nothing
    result = run_cli("eval", "--ref", ref, "--db", db, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["sentences"] == 5 and json.loads(result.stdout)["run"] == 1

    assert run_cli("run", article, "--max-words", "8", *args).returncode == 0   # the long line in parts
    result = run_cli("eval", "--ref", ref, "--db", db, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["run"] == 3 and "joined" in result.stderr
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM translations WHERE run_id = 3").fetchone()[0] < \
            con.execute("SELECT COUNT(*) FROM segments WHERE superseded_at IS NULL").fetchone()[0]
    # every line is scored with its translation (the lines the re-run left alone too), as the export has them
    out, hyp = tmp_path / "out.jsonl", tmp_path / "hyp.txt"
    assert run_cli("export", "-f", "jsonl", "--join-parts", "-o", out, "--db", db).returncode == 0
    hyp.write_text("".join(json.loads(line)["target"] + "\n" for line in out.read_text(encoding="utf-8").splitlines()),
                   encoding="utf-8")
    from_file = json.loads(run_cli("eval", "--ref", ref, "--hyp", hyp, "--json").stdout)
    assert {k: v for k, v in json.loads(result.stdout).items() if k != "run"} == from_file
    assert run_cli("eval", "--ref", ref, "--db", db, "--run", "1").returncode == 0   # the earlier segmentation
