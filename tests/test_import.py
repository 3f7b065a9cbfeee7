"""Importing translation memories: TMX 1.4 (language variants, inline markup, props), TSV, JSONL, the
round trip through export, and refusing bad files whole."""
from __future__ import annotations

import json
import sqlite3

import pytest
from conftest import run_cli

PAIRS = [
    ("ذهب الولد إلى المدرسة صباحا.", "The boy went to school in the morning."),
    ("كانت السماء تمطر بغزارة.", "It was raining heavily."),
    ("في عام ٢٠١٩ زار ٣ وزراء مدينة بوسطن.", "In 2019, 3 ministers visited Boston."),
]

TMX = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE tmx SYSTEM "tmx14.dtd">
<tmx version="1.4">
  <header creationtool="other-tool" creationtoolversion="2" datatype="html" segtype="sentence"
          adminlang="en-US" srclang="en-US" o-tmf="xliff"/>
  <body>
    <tu tuid="a1" creationdate="20240101T120000Z">
      <prop type="x-client">news desk</prop>
      <note>checked</note>
      <tuv xml:lang="en-US"><seg>The boy went to <bpt i="1">&lt;b&gt;</bpt>school<ept i="1">&lt;/b&gt;</ept> in the morning.</seg></tuv>
      <tuv xml:lang="ar-EG"><seg>ذهب الولد إلى <ph>&lt;br/&gt;</ph>المدرسة صباحا.</seg></tuv>
    </tu>
    <tu>
      <tuv xml:lang="AR"><seg>كانت السماء تمطر بغزارة.</seg></tuv>
      <tuv xml:lang="fr"><seg>Il pleuvait fort.</seg></tuv>
      <tuv xml:lang="en"><seg>It was raining <hi type="b">heavily</hi>.</seg></tuv>
    </tu>
    <tu>
      <tuv xml:lang="ar"><seg>نص بلا ترجمة.</seg></tuv>
      <tuv xml:lang="fr"><seg>Texte sans traduction anglaise.</seg></tuv>
    </tu>
  </body>
</tmx>
"""


def stored(db) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT s.text, t.text, t.origin, t.status, sc.score, sc.label, sc.signals FROM translations t"
            " JOIN segments s ON s.id = t.segment_id JOIN scores sc ON sc.translation_id = t.id ORDER BY t.id").fetchall()


def test_tmx_import_keeps_markup_as_text_and_props(tmp_path):
    tmx, db = tmp_path / "memory.tmx", tmp_path / "corpus.sqlite"
    tmx.write_text(TMX, encoding="utf-8")
    result = run_cli("import", tmx, "--db", db)
    assert result.returncode == 0, result.stderr
    assert "imported 2 new pairs" in result.stderr
    rows = stored(db)
    assert [(r[0], r[1]) for r in rows] == [
        ("ذهب الولد إلى <br/>المدرسة صباحا.", "The boy went to <b>school</b> in the morning."),
        ("كانت السماء تمطر بغزارة.", "It was raining heavily.")]
    assert all(r[2] == "imported" and r[3] == "pending" and 0 <= r[4] <= 1 for r in rows)
    props = json.loads(rows[0][6])["props"]
    assert props == {"tuid": "a1", "creationdate": "20240101T120000Z", "x-client": "news desk", "note": "checked"}
    assert "src_coverage" in json.loads(rows[0][6])        # scored like any pair
    again = run_cli("import", tmx, "--db", db)
    # the unit with only Arabic and French is counted as skipped, as TSV and JSONL count an empty side
    assert again.returncode == 0 and "imported 0 new pairs (2 already stored, 1 skipped" in again.stderr
    assert len(stored(db)) == 2


@pytest.fixture
def corpus(tmp_path):
    """A store holding aligned pairs, made by the real CLI."""
    ar, en, db = tmp_path / "a.txt", tmp_path / "e.txt", tmp_path / "source.sqlite"
    ar.write_text("\n".join(a for a, _ in PAIRS) + "\n", encoding="utf-8")
    en.write_text("\n".join(e for _, e in PAIRS) + "\n", encoding="utf-8")
    result = run_cli("align", ar, en, "--presegmented", "--no-bridge", "--db", db)
    assert result.returncode == 0, result.stderr
    return db


@pytest.mark.parametrize("fmt", ["tmx", "jsonl", "tsv"])
def test_export_import_export_gives_the_same_pairs(corpus, tmp_path, fmt):
    first, second, db = tmp_path / f"first.{fmt}", tmp_path / f"second.{fmt}", tmp_path / "copy.sqlite"
    assert run_cli("export", "--format", fmt, "-o", first, "--db", corpus).returncode == 0
    result = run_cli("import", first, "--db", db)
    assert result.returncode == 0, result.stderr
    assert run_cli("export", "--format", fmt, "-o", second, "--db", db).returncode == 0

    def pairs(path):
        from translate.tm_import import read_pairs

        return [(p.source, p.target) for p in read_pairs(path)]

    assert pairs(first) == pairs(second) == PAIRS
    with sqlite3.connect(db) as conn:
        assert {r[0] for r in conn.execute("SELECT origin FROM translations")} == {"imported"}


def test_tsv_and_jsonl_of_other_tools(tmp_path):
    tsv, jsonl, db = tmp_path / "plain.tsv", tmp_path / "plain.jsonl", tmp_path / "corpus.sqlite"
    tsv.write_text("".join(f"{a}\t{e}\n" for a, e in PAIRS[:2]), encoding="utf-8")
    jsonl.write_text(json.dumps({"ar": PAIRS[2][0], "en": PAIRS[2][1], "domain": "news"}, ensure_ascii=False) + "\n",
                     encoding="utf-8")
    assert run_cli("import", tsv, "--db", db).returncode == 0
    assert run_cli("import", jsonl, "--db", db).returncode == 0
    rows = stored(db)
    assert [(r[0], r[1]) for r in rows] == PAIRS
    assert json.loads(rows[2][6])["props"] == {"domain": "news"}


def one_line_error(result, path) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and str(path) in lines[0], result.stderr
    return lines[0]


@pytest.mark.parametrize("broken, line, words", [
    (TMX.replace("</seg></tuv>\n      <tuv xml:lang=\"ar-EG\">", "</tuv>\n      <tuv xml:lang=\"ar-EG\">"), 10,
     "not well-formed"),
    (TMX.replace('<tuv xml:lang="AR"><seg>كانت السماء تمطر بغزارة.</seg></tuv>',
                 '<seg>كانت السماء تمطر بغزارة.</seg>'), 14, "<seg> is not allowed inside <tu>"),
    (TMX.replace('srclang="en-US" ', ""), 4, "srclang"),
    (TMX.replace('<prop type="x-client">', "<prop>"), 8, "type"),
])
def test_bad_tmx_is_refused_whole(tmp_path, broken, line, words):
    tmx, db = tmp_path / "bad.tmx", tmp_path / "corpus.sqlite"
    tmx.write_text(broken, encoding="utf-8")
    message = one_line_error(run_cli("import", tmx, "--db", db), tmx)
    assert f"line {line}:" in message and words in message
    assert not db.exists()


def test_wrong_languages_and_bad_lines(tmp_path):
    db = tmp_path / "corpus.sqlite"
    french = tmp_path / "fr.tmx"
    french.write_text(TMX.replace('"ar-EG"', '"de"').replace('"AR"', '"de"').replace('xml:lang="ar"', 'xml:lang="it"'),
                      encoding="utf-8")
    message = one_line_error(run_cli("import", french, "--db", db), french)
    assert "no translation unit with both Arabic and English" in message and "de, en, en-us, fr, it" in message
    swapped = tmp_path / "swapped.tsv"
    swapped.write_text("".join(f"{e}\t{a}\n" for a, e in PAIRS), encoding="utf-8")
    assert "Arabic is in the target column" in one_line_error(run_cli("import", swapped, "--db", db), swapped)
    ragged = tmp_path / "ragged.tsv"
    ragged.write_text(f"{PAIRS[0][0]}\t{PAIRS[0][1]}\n{PAIRS[1][0]}\n", encoding="utf-8")
    assert "line 2: 1 tab-separated fields" in one_line_error(run_cli("import", ragged, "--db", db), ragged)
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps({"ar": PAIRS[0][0], "en": PAIRS[0][1]}) + "\n{oops\n", encoding="utf-8")
    assert "line 2: not valid JSON" in one_line_error(run_cli("import", broken, "--db", db), broken)
    assert not db.exists()


def test_our_tmx_checks_agree_with_the_dtd(shared_dir, corpus, tmp_path):
    # the DTD is only in the development data: lxml validates there, our importer must agree
    lxml = pytest.importorskip("lxml.etree")
    dtd = lxml.DTD(str(shared_dir / "data" / "tmx" / "tmx14.dtd"))
    good = tmp_path / "good.tmx"
    good.write_text(TMX, encoding="utf-8")
    exported = tmp_path / "exported.tmx"
    assert run_cli("export", "--format", "tmx", "-o", exported, "--db", corpus).returncode == 0
    invalid = tmp_path / "invalid.tmx"
    invalid.write_text(TMX.replace('<tuv xml:lang="AR"><seg>كانت السماء تمطر بغزارة.</seg></tuv>',
                                   '<seg>كانت السماء تمطر بغزارة.</seg>'), encoding="utf-8")
    from translate.tm_import import TMImportError, read_pairs

    for path in (good, exported):
        assert dtd.validate(lxml.parse(str(path))), dtd.error_log
        assert read_pairs(path)
    assert not dtd.validate(lxml.parse(str(invalid)))
    with pytest.raises(TMImportError):
        read_pairs(invalid)


def test_imported_pairs_can_be_reviewed_and_exported(tmp_path):
    from translate.review.decisions import ReviewDecisions
    from translate.review.queries import ORDERS, Filter, ReviewQueries
    from translate.store import Store

    tmx, db, out = tmp_path / "memory.tmx", tmp_path / "corpus.sqlite", tmp_path / "approved.jsonl"
    tmx.write_text(TMX, encoding="utf-8")
    assert run_cli("import", tmx, "--db", db).returncode == 0
    with Store(db) as store:
        first = ReviewQueries(store).page(ORDERS["doc"], Filter(), size=10).rows[0]
        assert first["origin"] == "imported"
        ReviewDecisions(store).edit(first["id"], "The boy walked to school in the morning.", "tester")
    result = run_cli("export", "--format", "jsonl", "--status", "edited", "-o", out, "--db", db)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["target"], r["origin"], r["document"]) for r in records] == [
        ("The boy walked to school in the morning.", "imported", str(tmx))]


@pytest.mark.parametrize("fmt", ["tmx", "jsonl", "tsv"])
def test_line_breaks_tabs_and_markup_survive_the_round_trip(tmp_path, fmt):
    from translate.tm_import import read_pairs

    tricky = [("السطر الأول\nوالسطر الثاني\tبعد علامة جدولة.", "First line\nand second line\tafter a tab."),
              ("قال: \"<b>مرحبا</b>\" & وداعا \\ نهاية.", "He said: \"<b>hello</b>\" & goodbye \\ end.")]
    source, db = tmp_path / "tricky.jsonl", tmp_path / "corpus.sqlite"
    source.write_text("".join(json.dumps({"ar": a, "en": e}, ensure_ascii=False) + "\n" for a, e in tricky),
                      encoding="utf-8")
    assert run_cli("import", source, "--db", db).returncode == 0
    exported, copy, again = tmp_path / f"out.{fmt}", tmp_path / "copy.sqlite", tmp_path / f"again.{fmt}"
    assert run_cli("export", "--format", fmt, "-o", exported, "--db", db).returncode == 0
    assert [(p.source, p.target) for p in read_pairs(exported)] == tricky
    assert run_cli("import", exported, "--db", copy).returncode == 0
    assert run_cli("export", "--format", fmt, "-o", again, "--db", copy).returncode == 0
    assert [(p.source, p.target) for p in read_pairs(again)] == tricky
