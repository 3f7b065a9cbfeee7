"""Store migrations, resumable runs, long-input handling and the three export formats."""
from __future__ import annotations

import json
import sqlite3

import pytest

from conftest import ROOT, run_cli
from translate import pipeline
from translate.models import resolve_model
from translate.export import TSV_COLUMNS
from translate.store import MIGRATIONS, Store, StoreError
from translate.translate import Engine

SEED = sorted((ROOT / "seeds").glob("*.txt"))[2]


@pytest.fixture(scope="module")
def engine(tiny_model):
    return Engine(resolve_model(str(tiny_model)), beam=1, threads=1)


@pytest.fixture(scope="module")
def filled_db(tmp_path_factory, engine):
    db = tmp_path_factory.mktemp("store") / "corpus.sqlite"
    doc = tmp_path_factory.mktemp("docs") / "doc.txt"
    doc.write_text('قال "الوزير" إن <العمل> & الإنتاج مستمران.\nوأضاف أن النمو بلغ ٧٫٩ في المئة.\n',
                   encoding="utf-8")
    with Store(db) as store:
        pipeline.run([SEED, doc], store, engine)
    return db


def test_migrations_are_recorded_and_not_reapplied(tmp_path):
    db = tmp_path / "s.sqlite"
    Store(db).close()
    Store(db).close()
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
        assert [r[0] for r in rows] == [m[0] for m in MIGRATIONS]
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_foreign_or_newer_databases_are_refused_untouched(tmp_path):
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE notes (x TEXT)")
        con.execute("INSERT INTO notes VALUES ('keep me')")
    with pytest.raises(StoreError, match="not a translate store"):
        Store(other)
    with sqlite3.connect(other) as con:
        assert con.execute("SELECT x FROM notes").fetchall() == [("keep me",)]
    newer = tmp_path / "newer.sqlite"
    Store(newer).close()
    with sqlite3.connect(newer) as con:
        con.execute("INSERT INTO schema_migrations VALUES (999, 'future', 'x')")
    with pytest.raises(StoreError, match="newer"):
        Store(newer)
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="garbage.sqlite"):
        Store(garbage)


def test_interrupted_run_resumes_without_translating_twice(tmp_path, engine, monkeypatch):
    db = tmp_path / "r.sqlite"
    monkeypatch.setattr(pipeline, "CHUNK_SEGMENTS", 4)
    monkeypatch.setattr(pipeline, "FIRST_CHUNK_WORDS", 10**6)     # chunks of exactly 4 segments
    chunks_done = 0

    def interrupt_after_two_chunks(_bytes):
        nonlocal chunks_done
        chunks_done += 1
        if chunks_done == 2:
            raise KeyboardInterrupt

    with Store(db) as store:
        with pytest.raises(KeyboardInterrupt):
            pipeline.run([SEED], store, engine, progress=interrupt_after_two_chunks)
        stored = store.counts()["translations"]
        assert stored == 8
        assert store.db.execute("SELECT status FROM runs").fetchone()[0] == "interrupted"
        summary = pipeline.run([SEED], store, engine)
        total = len(list(pipeline.iter_segments(pipeline.read_document(SEED))))
        assert store.counts()["translations"] == total
        assert summary.segments == total - 8


def test_long_source_is_translated_in_windows_and_flagged_not_truncated(engine):
    words = ("قال الرئيس إن الحكومة ستعمل على تحسين الاقتصاد " * 60).strip()
    pieces = engine.sp_source.encode(words, out_type=str)
    assert len(pieces) > engine.max_source_tokens
    hyp = engine.translate([words])[0]
    assert hyp.source_tokens == len(pieces)
    assert hyp.flags["source_windows"] == -(-len(pieces) // engine.max_source_tokens)
    short = engine.translate(["قال الرئيس."])[0]
    assert short.flags["source_windows"] == 1


def test_jsonl_export_has_every_field_and_exact_offsets(filled_db, tmp_path):
    out = tmp_path / "out.jsonl"
    result = run_cli("export", "--db", filled_db, "--format", "jsonl", "-o", out)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    with sqlite3.connect(filled_db) as con:
        assert len(records) == con.execute("SELECT COUNT(*) FROM translations").fetchone()[0]
        texts = dict(con.execute("SELECT path, text FROM documents"))
    for r in records:
        for key in ("id", "document", "start", "end", "source", "target", "model", "status", "score", "signals"):
            assert key in r
        assert texts[r["document"]][r["start"]:r["end"]] == r["source"]
        assert r["model"] == "tiny-ar-en" and r["status"] == "pending"
        assert isinstance(r["signals"], dict)


def test_export_filters_by_score_and_status(filled_db, tmp_path):
    with sqlite3.connect(filled_db) as con:
        scores = sorted(r[0] for r in con.execute("SELECT score FROM scores"))
        first_id = con.execute("SELECT MIN(id) FROM translations").fetchone()[0]
        con.execute("UPDATE translations SET status='approved' WHERE id=?", (first_id,))
    median = scores[len(scores) // 2]
    out = tmp_path / "f.jsonl"
    assert run_cli("export", "--db", filled_db, "-f", "jsonl", "-o", out, "--min-score", median).returncode == 0
    kept = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(kept) == sum(1 for s in scores if s >= median)
    assert run_cli("export", "--db", filled_db, "-f", "jsonl", "-o", out, "--status", "approved").returncode == 0
    assert [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()] == [first_id]
    bad = run_cli("export", "--db", filled_db, "-f", "jsonl", "-o", out, "--status", "maybe")
    assert bad.returncode != 0 and "maybe" in bad.stderr


def test_tsv_export_one_line_per_pair(filled_db, tmp_path):
    out = tmp_path / "out.tsv"
    assert run_cli("export", "--db", filled_db, "-f", "tsv", "-o", out).returncode == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    with sqlite3.connect(filled_db) as con:
        assert len(lines) == 1 + con.execute("SELECT COUNT(*) FROM translations").fetchone()[0]
    assert all(len(line.split("\t")) == len(TSV_COLUMNS) for line in lines)


def test_tmx_export_is_valid_against_the_tmx14_dtd(filled_db, tmp_path, shared_dir):
    from lxml import etree

    out = tmp_path / "out.tmx"
    result = run_cli("export", "--db", filled_db, "--format", "tmx", "-o", out)
    assert result.returncode == 0, result.stderr
    dtd = etree.DTD(str(shared_dir / "data" / "tmx" / "tmx14.dtd"))
    tree = etree.parse(str(out))
    assert dtd.validate(tree), dtd.error_log.filter_from_errors()
    root = tree.getroot()
    assert root.find("header").get("srclang") == "ar"
    units = root.findall("body/tu")
    with sqlite3.connect(filled_db) as con:
        assert len(units) == con.execute("SELECT COUNT(*) FROM translations").fetchone()[0]
    xml_lang = "{http://www.w3.org/XML/1998/namespace}lang"
    sources = [tu.find(f"tuv[@{xml_lang}='ar']/seg").text for tu in units]
    assert 'قال "الوزير" إن <العمل> & الإنتاج مستمران.' in sources   # escaped and read back intact
    props = {p.get("type") for p in units[0].findall("prop")}
    assert {"x-score", "x-status", "x-document", "x-model"} <= props


def test_export_of_missing_store_is_an_error_and_creates_nothing(tmp_path):
    result = run_cli("export", "--db", tmp_path / "none.sqlite", "-f", "jsonl", "-o", tmp_path / "x.jsonl")
    assert result.returncode == 1 and "none.sqlite" in result.stderr
    assert not (tmp_path / "none.sqlite").exists() and not (tmp_path / "x.jsonl").exists()


def test_failed_export_keeps_the_previous_file(filled_db, tmp_path):
    out = tmp_path / "keep.jsonl"
    out.write_text("previous export\n", encoding="utf-8")
    result = run_cli("export", "--db", filled_db, "-f", "xml", "-o", out)
    assert result.returncode != 0 and "xml" in result.stderr
    assert out.read_text(encoding="utf-8") == "previous export\n"


def test_join_parts_exports_a_split_sentence_as_one_pair(tmp_path, engine):
    text = ("قال الوزير إن الحكومة ستعمل على تحسين الاقتصاد، وأضاف أن المفاوضات مستمرة مع الدول المجاورة، "
            "كما أكد أن الأمطار تسببت في فيضانات في عدة مدن.\nجملة قصيرة.\n")
    doc = tmp_path / "long.txt"
    doc.write_text(text, encoding="utf-8")
    db = tmp_path / "parts.sqlite"
    with Store(db) as store:
        pipeline.run([doc], store, engine, max_words=8)
    parts_out, joined_out = tmp_path / "parts.jsonl", tmp_path / "joined.jsonl"
    assert run_cli("export", "--db", db, "-f", "jsonl", "-o", parts_out).returncode == 0
    result = run_cli("export", "--db", db, "-f", "jsonl", "-o", joined_out, "--join-parts")
    assert result.returncode == 0, result.stderr
    parts = [json.loads(line) for line in parts_out.read_text(encoding="utf-8").splitlines()]
    joined = [json.loads(line) for line in joined_out.read_text(encoding="utf-8").splitlines()]
    first_sentence = [p for p in parts if p["sentence"] == 0]
    assert len(first_sentence) >= 2 and [p["part"] for p in first_sentence] == list(range(len(first_sentence)))
    assert len(joined) == len(parts) - len(first_sentence) + 1
    whole = joined[0]
    assert whole["source"] == text[whole["start"]:whole["end"]] == text.splitlines()[0]
    assert whole["target"] == " ".join(p["target"] for p in first_sentence)
    assert whole["score"] == min(p["score"] for p in first_sentence)
    assert joined[1]["source"] == "جملة قصيرة."
