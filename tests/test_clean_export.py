"""Training exports (`translate export --clean ...`): filters with reasons, deduplication, decontamination,
leak-free splits, Moses and Parquet output, report and manifest — through the real CLI on real stores."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli
from translate.exclude import read_exclusion
from translate.store import Store
from translate.textkey import key_hash, normalise
from translate.tm_import import import_pairs, read_tsv

GOOD = [
    ("ذهب الولد إلى المدرسة في الصباح الباكر.", "The boy went to school early in the morning."),
    ("تشرق الشمس كل يوم من جهة الشرق.", "The sun rises every day in the east."),
    ("أحب قراءة الكتب في المساء.", "I love reading books in the evening."),
    ("كان الطقس جميلا أمس في المدينة.", "The weather was nice in the city yesterday."),
]
# (arabic, english, the filter that must name it)
FAULTS = [
    ("هذا نص عربي طويل بما فيه الكفاية للاختبار.", "Ceci est une phrase française assez longue pour être reconnue.",
     "target-language"),
    ("مرحبا بكم في موقعنا الجديد.", "مرحبا بكم في موقعنا الجديد.", "untranslated"),
    ("قرأت ثلاثة كتب في عام ٢٠٢٠.", "I read three books in 2021.", "numbers"),
    ("زار الوزير الرياض أمس.", "The minister visited الرياض yesterday.", "target-script"),
    ("The meeting starts at noon today.", "The meeting will start at noon today.", "source-script"),
    ("https://example.com/page", "https://example.com/page2", "markup-only"),
    ("نعم.", "Yes, I really think that this is absolutely the right thing to do today.", "ratio"),
    ("من هر روز به مدرسه می‌روم و کتاب‌های زیادی می‌خوانم.", "I go to school every day and read many books.",
     "source-language"),
]


def make_store(tmp_path: Path, documents: dict[str, list[tuple[str, str]]]) -> Path:
    """A real store: each document is a TSV translation memory imported as `translate import` does (in this
    process: one subprocess per document would make the tests slow)."""
    db = tmp_path / "corpus.sqlite"
    with Store(db) as store:
        for name, pairs in documents.items():
            tsv = tmp_path / f"{name}.tsv"
            tsv.write_text("ar\ten\n" + "".join(f"{a}\t{e}\n" for a, e in pairs), encoding="utf-8")
            summary = import_pairs(store, tsv, read_tsv(tsv), {"format": "tsv"})
            assert summary.stored == len(pairs)
    return db


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def pair_count(db: Path) -> int:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT COUNT(*) FROM translations").fetchone()[0]


def test_clean_names_the_filter_that_removed_each_pair(tmp_path):
    db = make_store(tmp_path, {"doc": GOOD + [(a, e) for a, e, _ in FAULTS]})
    with sqlite3.connect(db) as con:    # a reviewer rejected the second good pair
        con.execute("UPDATE translations SET status='rejected' WHERE text=?", (GOOD[1][1],))
    out, rejected = tmp_path / "clean.jsonl", tmp_path / "rejected.jsonl"
    result = run_cli("export", "--db", db, "--clean", "--format", "jsonl", "-o", out, "--rejected", rejected)
    assert result.returncode == 0, result.stderr
    kept = read_jsonl(out)
    assert sorted(r["target"] for r in kept) == sorted(e for a, e in GOOD if e != GOOD[1][1])
    removed = {r["target"]: r for r in read_jsonl(rejected)}
    assert removed[GOOD[1][1]]["rejected_by"] == "status"
    for arabic, english, reason in FAULTS:
        assert removed[english]["rejected_by"] == reason, (english, removed[english])
        assert reason in removed[english]["reasons"]
        assert removed[english]["source"] == arabic
    assert removed["مرحبا بكم في موقعنا الجديد."]["reasons"] == ["untranslated", "target-script"]
    assert len(kept) + len(removed) == pair_count(db)       # nothing left out silently
    manifest = json.loads((tmp_path / "clean.jsonl.manifest.json").read_text(encoding="utf-8"))
    counts = manifest["counts"]
    assert counts["pairs_in"] == pair_count(db) and counts["pairs_out"] == len(kept)
    assert counts["removed_by_filter"]["numbers"] == 1 and counts["removed_by_filter"]["status"] == 1
    assert manifest["filters"]["max_ratio"] == 3.0 and manifest["dedup"]["mode"] == "exact"
    assert len(manifest["store"]["sha256"]) == 64 and manifest["format"] == "jsonl"
    assert "removed by numbers" in result.stderr and "out" in result.stderr


def test_thresholds_are_settable_and_filters_can_be_turned_off(tmp_path):
    db = make_store(tmp_path, {"doc": GOOD + [(a, e) for a, e, _ in FAULTS]})
    out = tmp_path / "out.jsonl"
    result = run_cli("export", "--db", db, "--clean", "-f", "jsonl", "-o", out, "--max-words", "7",
                     "--no-filter", "numbers,ratio,target-language", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert not out.exists()
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines() if line.startswith("out"))
    table = result.stdout
    assert "removed by length" in table and "removed by numbers" not in table
    assert "removed by ratio" not in table and "removed by target-language" not in table
    # with numbers, ratio and language off, a pair goes out when both sides have 7 words or fewer
    # (and no other filter names it): the short good pairs and the pair whose numbers disagree
    short = [e for a, e in GOOD if max(len(a.split()), len(e.split())) <= 7]
    long_faults = [e for a, e, reason in FAULTS if reason in ("ratio", "target-language")]
    assert 0 < len(short) < len(GOOD) and all(len(e.split()) > 7 for e in long_faults)
    assert int(lines["out"]) == len(short) + 1
    removed = dict(line.split()[2:4] for line in table.splitlines() if line.strip().startswith("removed by"))
    assert int(removed["length"]) == len(GOOD) - len(short) + len(long_faults)


def test_duplicates_differing_in_arabic_spelling_keep_the_reviewed_copy(tmp_path):
    plain = ("ذهبت الطالبة إلى الجامعة.", "The student went to the university.")
    db = make_store(tmp_path, {"doc": [
        plain,
        ("ذَهَبَتْ الطَّالِبَةُ إِلَى الجَامِعَةِ.", "the student went to the  university"),     # diacritics, case, space
        ("ذهبت الطالبه الى الجامعـــة.", "The Student went to the university!"),             # ة/ه, أ/ا, tatweel
        ("ولدت في عام ١٩٩٠.", "I was born in 1990."),
        ("ولدت في عام 1990.", "I was born in 1990."),                                          # digits
    ]})
    with sqlite3.connect(db) as con:
        approved = con.execute("SELECT id FROM translations WHERE text=?", ("The Student went to the university!",)
                               ).fetchone()[0]
        con.execute("UPDATE translations SET status='approved' WHERE id=?", (approved,))
    out, rejected = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    result = run_cli("export", "--db", db, "--clean", "-f", "jsonl", "-o", out, "--rejected", rejected)
    assert result.returncode == 0, result.stderr
    kept = read_jsonl(out)
    assert len(kept) == 2
    assert approved in [r["id"] for r in kept]               # the reviewer's copy wins
    duplicates = read_jsonl(rejected)
    assert {r["rejected_by"] for r in duplicates} == {"duplicate"} and len(duplicates) == 3
    assert all(r["duplicate_of"] in [k["id"] for k in kept] for r in duplicates)
    manifest = json.loads((tmp_path / "out.jsonl.manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["duplicates"] == 3 and manifest["counts"]["duplicate_rate"] == 0.6
    # --dedup none keeps every copy
    none = tmp_path / "all.jsonl"
    assert run_cli("export", "--db", db, "--clean", "--dedup", "none", "-f", "jsonl", "-o", none).returncode == 0
    assert len(read_jsonl(none)) == 5


def test_near_duplicates_and_caps(tmp_path):
    base_ar = "أعلنت وزارة الصحة اليوم عن افتتاح مستشفى جديد في وسط المدينة لخدمة السكان."
    base_en = "The ministry of health announced today the opening of a new hospital in the city centre to serve residents."
    db = make_store(tmp_path, {"doc": [
        (base_ar, base_en),
        (base_ar.replace("اليوم", "الأحد"), base_en.replace("today", "on Sunday")),          # near-duplicate
        ("يحب الأطفال اللعب في الحديقة بعد المدرسة.", "Children love playing in the park after school."),
        ("يحب الأطفال اللعب في الحديقة بعد المدرسة.", "Kids like to play in the garden after school."),  # same source
    ]})
    exact = run_cli("export", "--db", db, "--clean", "-f", "jsonl", "-o", tmp_path / "e.jsonl")
    assert exact.returncode == 0, exact.stderr
    assert len(read_jsonl(tmp_path / "e.jsonl")) == 4
    rejected = tmp_path / "rej.jsonl"
    near = run_cli("export", "--db", db, "--clean", "--dedup", "near", "--max-targets-per-source", "1", "-f", "jsonl",
                   "-o", tmp_path / "n.jsonl", "--rejected", rejected)
    assert near.returncode == 0, near.stderr
    assert len(read_jsonl(tmp_path / "n.jsonl")) == 2
    assert sorted(r["rejected_by"] for r in read_jsonl(rejected)) == ["near-duplicate", "source-cap"]


def test_dry_run_prints_the_report_and_writes_nothing(tmp_path):
    db = make_store(tmp_path, {"doc": GOOD})
    out = tmp_path / "out.ar"
    result = run_cli("export", "--db", db, "--clean", "--format", "moses", "-o", tmp_path / "out", "--dry-run",
                     "--rejected", tmp_path / "rej.jsonl")
    assert result.returncode == 0, result.stderr
    assert f"pairs in {len(GOOD)}" in " ".join(result.stdout.split())
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("corpus") and p.suffix != ".tsv") == []
    assert not out.exists()


def test_moses_files_are_line_aligned_with_ids(tmp_path):
    db = make_store(tmp_path, {"doc": GOOD})
    with sqlite3.connect(db) as con:     # a reviewer's edit with a line break inside the sentence
        first = con.execute("SELECT MIN(id) FROM translations").fetchone()[0]
        con.execute("INSERT INTO edits (translation_id, text, reviewer, created_at) VALUES (?, ?, 'r', '2026')",
                    (first, "The boy went to school\nearly in the morning."))
    result = run_cli("export", "--db", db, "--clean", "--format", "moses", "-o", tmp_path / "corpus.clean")
    assert result.returncode == 0, result.stderr
    ar = (tmp_path / "corpus.clean.ar").read_text(encoding="utf-8").splitlines()
    en = (tmp_path / "corpus.clean.en").read_text(encoding="utf-8").splitlines()
    ids = (tmp_path / "corpus.clean.ids").read_text(encoding="utf-8").splitlines()
    assert len(ar) == len(en) == len(ids) == len(GOOD)
    assert ar == [a for a, _ in GOOD]
    assert en[0] == "The boy went to school early in the morning." and en[1:] == [e for _, e in GOOD[1:]]
    assert ids[0] == str(first)
    assert (tmp_path / "corpus.clean.manifest.json").exists()


def test_parquet_has_the_jsonl_columns_and_the_split(tmp_path):
    import pyarrow.parquet as pq

    db = make_store(tmp_path, {f"d{i}": [GOOD[i]] for i in range(len(GOOD))})
    out = tmp_path / "corpus.parquet"
    result = run_cli("export", "--db", db, "--clean", "--format", "parquet", "-o", out, "--split",
                     "train=0.5,test=0.5")
    assert result.returncode == 0, result.stderr
    table = pq.read_table(out)
    jsonl = tmp_path / "all.jsonl"
    assert run_cli("export", "--db", db, "-f", "jsonl", "-o", jsonl).returncode == 0
    records = read_jsonl(jsonl)
    assert table.column_names == list(records[0]) + ["split"]
    rows = table.to_pylist()
    assert [r["target"] for r in rows] == [r["target"] for r in records]
    assert [json.loads(r["signals"]) for r in rows] == [r["signals"] for r in records]
    assert {r["split"] for r in rows} <= {"train", "test"}
    manifest = json.loads((tmp_path / "corpus.parquet.manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["out"] == {p: sum(r["split"] == p for r in rows) for p in ("train", "test")}
    datasets = pytest.importorskip("datasets")
    loaded = datasets.load_dataset("parquet", data_files=str(out), split="train",
                                   cache_dir=str(tmp_path / "hf-cache"))
    assert loaded.num_rows == len(rows) and loaded[0]["source"] == rows[0]["source"]


def _story(n: int, shared: tuple[str, str] | None = None) -> list[tuple[str, str]]:
    numbers_ar = "٠١٢٣٤٥٦٧٨٩"
    pairs = [(f"قال التقرير رقم {''.join(numbers_ar[int(c)] for c in str(n))} إن الوضع تحسن كثيرا {k} مرة.",
              f"Report number {n} said the situation improved a lot {k} times.") for k in range(1, 4)]
    return pairs + ([shared] if shared else [])


def test_split_is_by_document_leak_free_and_the_same_every_time(tmp_path):
    story = ("نقلت وكالات الأنباء أن المفاوضات استؤنفت صباح اليوم في جنيف.",
             "News agencies reported that the negotiations resumed this morning in Geneva.")
    short = ("شكرا جزيلا.", "Thank you very much.")          # too short to link documents
    documents = {f"doc{n}": _story(n) for n in range(30)}
    documents["agency1"] = _story(101, story)
    documents["agency2"] = _story(102, (story[0].replace("أن", "ان"), story[1]))   # the same story, another agency
    for n in (3, 17, 25):
        documents[f"doc{n}"].append(short)
    db = make_store(tmp_path, documents)
    outputs = {}
    for run in ("a", "b"):
        folder = tmp_path / run
        folder.mkdir()
        result = run_cli("export", "--db", db, "--clean", "--split", "train=0.6,dev=0.2,test=0.2", "-f", "jsonl",
                         "-o", folder / "corpus.jsonl", "--rejected", folder / "rejected.jsonl")
        assert result.returncode == 0, result.stderr
        outputs[run] = {p: (folder / f"corpus.{p}.jsonl").read_text(encoding="utf-8") for p in ("train", "dev", "test")}
    assert outputs["a"] == outputs["b"]
    parts = {p: [json.loads(line) for line in text.splitlines()] for p, text in outputs["a"].items()}
    assert all(parts.values())                                   # every part has documents
    assert all(r["split"] == p for p, records in parts.items() for r in records)
    documents_in = {p: {r["document"] for r in records} for p, records in parts.items()}
    sentences_in = {p: {normalise(r[side]) for r in records for side in ("source", "target")}
                    for p, records in parts.items()}
    for a in parts:
        for b in parts:
            if a < b:
                assert not documents_in[a] & documents_in[b]
                assert not sentences_in[a] & sentences_in[b]
    agency_parts = {p for p, docs in documents_in.items() for d in docs if "agency" in d}
    assert len(agency_parts) == 1                               # the shared story kept both documents together
    written = sum(len(r) for r in parts.values()) + len(read_jsonl(tmp_path / "a" / "rejected.jsonl"))
    assert written == pair_count(db)
    manifest = json.loads((tmp_path / "a" / "corpus.manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["out"] == {p: len(r) for p, r in parts.items()}


def test_worker_processes_give_the_same_export(tmp_path):
    db = make_store(tmp_path, {f"d{i}": _story(i) + [GOOD[i % len(GOOD)]] for i in range(12)})
    outputs = {}
    for workers in ("1", "3"):
        folder = tmp_path / f"w{workers}"
        folder.mkdir()
        result = run_cli("export", "--db", db, "--clean", "--dedup", "near", "--split", "train=0.5,test=0.5",
                         "--workers", workers, "-f", "jsonl", "-o", folder / "c.jsonl", "--rejected", folder / "r.jsonl")
        assert result.returncode == 0, result.stderr
        outputs[workers] = [(folder / name).read_text(encoding="utf-8") for name in ("c.train.jsonl", "c.test.jsonl",
                                                                                    "r.jsonl")]
    assert outputs["1"] == outputs["3"]
    assert sum(len(text.splitlines()) for text in outputs["1"]) == pair_count(db)


def test_jsonl_lines_are_the_plain_export_lines_with_the_split_or_the_reasons(tmp_path):
    """A JSONL training export writes each pair's record in its first pass (in the worker processes) and
    copies it in the second: every line must be the plain export's line of that pair with the fields added."""
    db = make_store(tmp_path, {f"d{i}": _story(i) + [GOOD[i % len(GOOD)], FAULTS[i % len(FAULTS)][:2]]
                               for i in range(8)})
    plain = tmp_path / "plain.jsonl"
    assert run_cli("export", "--db", db, "-f", "jsonl", "-o", plain).returncode == 0
    plain_lines = {json.loads(line)["id"]: line for line in plain.read_text(encoding="utf-8").splitlines()}
    folder = tmp_path / "out"
    folder.mkdir()
    result = run_cli("export", "--db", db, "--clean", "--split", "train=0.5,test=0.5", "--workers", "2",
                     "-f", "jsonl", "-o", folder / "c.jsonl", "--rejected", folder / "r.jsonl")
    assert result.returncode == 0, result.stderr
    seen = []
    for part in ("train", "test"):
        for line in (folder / f"c.{part}.jsonl").read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            assert line == plain_lines[record["id"]][:-1] + f', "split": "{part}"}}'
            seen.append(record["id"])
    rejected = (folder / "r.jsonl").read_text(encoding="utf-8").splitlines()
    assert rejected
    for line in rejected:
        record = json.loads(line)
        assert line.startswith(plain_lines[record["id"]][:-1] + ', "rejected_by": ')
        assert record["reasons"] and record["rejected_by"]
        seen.append(record["id"])
    assert sorted(seen) == sorted(plain_lines)                    # every pair once
    assert sorted(p.name for p in folder.iterdir()) == ["c.manifest.json", "c.test.jsonl", "c.train.jsonl",
                                                        "r.jsonl"]   # no temporary file left


def test_exclude_removes_test_set_sentences_and_counts_per_file(tmp_path):
    db = make_store(tmp_path, {"doc": GOOD})
    arabic_test = tmp_path / "test.ar"
    arabic_test.write_text("ذَهَبَ الوَلَدُ إلى المدرسةِ في الصباحِ الباكِرِ\nجملة أخرى لا توجد.\n", encoding="utf-8")
    english_test = tmp_path / "test.jsonl"
    english_test.write_text(json.dumps({"source": "x", "target": "the SUN rises every day in the east"}) + "\n",
                            encoding="utf-8")
    out, rejected = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    result = run_cli("export", "--db", db, "--clean", "-f", "jsonl", "-o", out, "--exclude", arabic_test,
                     "--exclude", english_test, "--rejected", rejected, "--report")
    assert result.returncode == 0, result.stderr
    assert [r["target"] for r in read_jsonl(out)] == [GOOD[2][1], GOOD[3][1]]
    assert sorted(r["rejected_by"] for r in read_jsonl(rejected)) == [f"excluded:{arabic_test}",
                                                                      f"excluded:{english_test}"]
    manifest = json.loads((tmp_path / "out.jsonl.manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["excluded"] == {str(arabic_test): 1, str(english_test): 1}
    assert [e["sentences"] for e in manifest["exclude"]] == [2, 2]
    assert "excluded by test.ar" in result.stdout


@pytest.mark.parametrize("suffix", [".txt", ".jsonl"])
def test_an_exclusion_line_holding_unicode_line_separators_stays_one_sentence(tmp_path, suffix):
    # U+2028 and U+0085 are legal unescaped in JSON and in a line of text; str.splitlines cut there, and
    # the test sentence was then not excluded at all (two halves that match nothing)
    sentence, other = "ذهب الولد\u2028إلى المدرسة\u0085في الصباح", "جملة أخرى"
    path = tmp_path / f"test{suffix}"
    lines = [sentence, other] if suffix == ".txt" else [json.dumps({"ar": s}, ensure_ascii=False)
                                                        for s in (sentence, other)]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    exclusion = read_exclusion(path)
    assert exclusion.sentences == 2
    keys = np.array([key_hash(normalise(s)) for s in (sentence, other)], dtype=np.uint64)
    assert exclusion.matches(keys).tolist() == [True, True]


@pytest.mark.parametrize("args, message", [
    (["--split", "train=0.9,test=0.2"], "sum to 1.1, not 1"),
    (["--split", "train0.9"], "NAME=FRACTION"),
    (["--max-ratio", "0.5"], "--max-ratio 0.5: must be 1 or more"),
    (["--min-lang-prob", "2"], "--min-lang-prob 2.0: must be in 0.5..1"),
    (["--keep-status", "approved,good"], "--keep-status: unknown status"),
    (["--dedup", "fuzzy"], "--dedup 'fuzzy'"),
    (["--exclude", "missing-test-set.txt"], "missing-test-set.txt: cannot read exclusion file"),
    (["--format", "xml"], "unknown format 'xml'"),
])
def test_bad_options_are_one_line_errors_and_write_nothing(tmp_path, args, message):
    db = make_store(tmp_path, {"doc": GOOD[:2]})
    out = tmp_path / "out.jsonl"
    full = ["export", "--db", db, "--clean", "-o", out, "--rejected", tmp_path / "rej.jsonl"]
    result = run_cli(*full, *(["-f", "jsonl"] if "--format" not in args else []), *args, cwd=None)
    assert result.returncode != 0
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not out.exists() and not (tmp_path / "rej.jsonl").exists()
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name or "manifest" in p.name]


def test_existing_outputs_need_force(tmp_path):
    db = make_store(tmp_path, {"doc": GOOD})
    out = tmp_path / "out.jsonl"
    (tmp_path / "out.jsonl.manifest.json").write_text("keep me", encoding="utf-8")
    result = run_cli("export", "--db", db, "--clean", "-f", "jsonl", "-o", out)
    assert result.returncode == 1 and "out.jsonl.manifest.json: already exists (--force replaces it)" in result.stderr
    assert not out.exists()
    assert (tmp_path / "out.jsonl.manifest.json").read_text(encoding="utf-8") == "keep me"
    result = run_cli("export", "--db", db, "--clean", "-f", "jsonl", "-o", out, "--force")
    assert result.returncode == 0, result.stderr
    assert len(read_jsonl(out)) == len(GOOD)
    assert json.loads((tmp_path / "out.jsonl.manifest.json").read_text(encoding="utf-8"))["counts"]["pairs_out"] == 4


def test_split_tmx_and_tsv_parts_are_complete_files(tmp_path):
    from lxml import etree

    db = make_store(tmp_path, {f"d{i}": _story(i) for i in range(12)})
    for fmt in ("tmx", "tsv"):
        (tmp_path / fmt).mkdir()
        result = run_cli("export", "--db", db, "--clean", "-f", fmt, "-o", tmp_path / fmt / f"c.{fmt}", "--split",
                         "train=0.5,test=0.5")
        assert result.returncode == 0, result.stderr
    total = 0
    for part in ("train", "test"):
        tree = etree.parse(str(tmp_path / "tmx" / f"c.{part}.tmx"))
        units = tree.findall(".//tu")
        tsv = (tmp_path / "tsv" / f"c.{part}.tsv").read_text(encoding="utf-8").splitlines()
        assert len(tsv) - 1 == len(units)
        total += len(units)
    assert total == pair_count(db)


def test_review_stats_page_shows_the_training_export_counts(tmp_path):
    import re
    import time

    import web
    from test_review import Server

    pairs = GOOD + [(a, e) for a, e, _ in FAULTS] + [("ذَهَبَ الوَلَدُ إلى المدرسة في الصباح الباكر", GOOD[0][1].upper())]
    db = make_store(tmp_path, {"doc": pairs})
    dry = run_cli("export", "--db", db, "--clean", "-f", "jsonl", "-o", tmp_path / "x.jsonl", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    expected = {line.split()[2]: int(line.split()[3]) for line in dry.stdout.splitlines()
                if line.strip().startswith("removed by") and int(line.split()[3])}
    server = Server(db, "--reviewer", "tester")
    try:
        deadline = time.monotonic() + 60
        while "being computed" in (html := web.get(server.base + "/stats").text) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        server.stop()
    section = html[html.index('id="training-export"'):]
    section = section[:section.index("</section>")]
    assert f"{len(GOOD)} of {len(pairs)} pairs" in section
    shown = dict((name, int(n.replace(",", ""))) for name, n in
                 re.findall(r"<tr><td>([a-z-]+)</td><td>([\d,]+)</td>", section))
    assert shown == {**expected, "duplicate": 1}


def test_the_language_identifier_on_a_batch_decides_as_on_each_sentence():
    """identify_many walks py3langid's model for many sentences at once in numpy: the same language and,
    up to float32 rounding, the same probability as py3langid on each sentence alone."""
    from translate import langid

    texts = ([t for pair in GOOD for t in pair] + [t for a, e, _ in FAULTS for t in (a, e)]
             + ["", "12 34", "OK", "ALL CAPITALS ARE LOWERED FIRST", "في عام ۲۰۲۰ و ٢٠٢١"])
    alone = [langid.identify(t) for t in texts]
    together = langid.identify_many(texts, 0.9)
    assert [lang for lang, _ in together] == [lang for lang, _ in alone]
    assert max(abs(p - q) for (_, p), (_, q) in zip(together, alone)) < langid.BATCH_MARGIN
    langs = ["en"] * len(texts)
    flagged = langid.are_other_languages(texts, langs, 0.9)
    french = FAULTS[0][1]
    assert flagged[texts.index(french)] and not flagged[texts.index(GOOD[0][1])]
