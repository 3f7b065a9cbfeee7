"""Exports of repaired alignments (issue 19): pairs carry their link status, superseded pairs stay out,
the stand-off links export (JSONL) and XCES cesAlign, and `translate import` of a links export."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from aligned_story import ENGLISH, EXPECTED
from conftest import run_cli

from translate.alignment_edit import Op, apply_op
from translate.store import Store


def export(db, tmp_path, fmt, *extra):
    out = tmp_path / f"out.{fmt}"
    result = run_cli("export", "--db", db, "--format", fmt, "-o", out, *extra)
    assert result.returncode == 0, result.stderr
    return out, result


def test_pairs_carry_the_link_status_and_superseded_pairs_stay_out(aligned_story, tmp_path):
    db, pair_id = aligned_story
    with Store(db) as store:
        apply_op(store, pair_id, Op("up", row=2, side="en"), "rev")      # row 1 becomes 2-2, confirmed
    out, _ = export(db, tmp_path, "jsonl")
    records = {r["target"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert set(records) == {ENGLISH[0], ENGLISH[1] + " " + ENGLISH[2], ENGLISH[3]}
    assert records[ENGLISH[1] + " " + ENGLISH[2]]["link_status"] == "confirmed"
    assert records[ENGLISH[0]]["link_status"] == "auto"
    tmx, _ = export(db, tmp_path, "tmx")
    units = ET.parse(tmx).getroot().findall("./body/tu")
    statuses = [[p.text for p in tu.findall("prop") if p.get("type") == "x-link-status"] for tu in units]
    assert sorted(s for [s] in statuses) == ["auto", "auto", "confirmed"]


def test_links_and_xces_exports_and_links_import_into_another_store(aligned_story, story_files, tmp_path):
    db, pair_id = aligned_story
    with Store(db) as store:
        apply_op(store, pair_id, Op("up", row=2, side="en"), "rev")
        apply_op(store, pair_id, Op("confirm", row=0), "rev")
        ar_text = store.db.execute("SELECT text FROM documents WHERE lang = 'ar'").fetchone()[0]
        en_text = store.db.execute("SELECT text FROM documents WHERE lang = 'en'").fetchone()[0]
        expected_rows = [(r.ar, r.en, r.status) for r in store.load_alignment(pair_id).rows]
    links, result = export(db, tmp_path, "links")
    assert "exported 4 links" in result.stderr
    records = [json.loads(line) for line in links.read_text(encoding="utf-8").splitlines()]
    assert [(r["ar"], r["en"], r["status"]) for r in records] == expected_rows
    for record in records:
        assert all(ar_text[a:b] for a, b in record["ar_offsets"]) and all(en_text[a:b] for a, b in record["en_offsets"])
    assert " ".join(en_text[a:b] for a, b in records[1]["en_offsets"]) == ENGLISH[1] + " " + ENGLISH[2]
    assert all((r["score"] is None) == (not r["ar"] or not r["en"]) for r in records)

    xces, _ = export(db, tmp_path, "xces")
    group = ET.parse(xces).getroot().find("linkGrp")
    assert group.get("fromDoc").endswith("story.ar.txt") and group.get("toDoc").endswith("story.en.txt")
    assert [link.get("xtargets") for link in group.findall("link")] == ["s1;s1", "s2 s3;s2 s3", "s4;s4", "s5;"]
    assert [link.get("status") for link in group.findall("link")] == ["confirmed", "confirmed", "auto", "auto"]

    # another store holding the same documents, aligned without a bridge: the import makes its
    # alignment the exported one, statuses included
    ar, en, _ = story_files
    other = tmp_path / "other.sqlite"
    aligned_there = run_cli("align", ar, en, "--presegmented", "--no-bridge", "--db", other)
    assert aligned_there.returncode == 0, aligned_there.stderr
    imported = run_cli("import", links, "--db", other)
    assert imported.returncode == 0, imported.stderr
    assert "imported the links of 1 document pairs" in imported.stderr
    with Store(other) as store:
        [other_id] = [r[0] for r in store.db.execute("SELECT id FROM document_pairs")]
        assert [(r.ar, r.en, r.status) for r in store.load_alignment(other_id).rows] == expected_rows
        pairs = {r["target"] for r in store.iter_pairs()}
    assert pairs == {ENGLISH[0], ENGLISH[1] + " " + ENGLISH[2], ENGLISH[3]}


def test_a_bad_links_file_is_refused_with_its_line_and_nothing_changes(aligned_story, tmp_path):
    db, pair_id = aligned_story
    links, _ = export(db, tmp_path, "links")
    lines = links.read_text(encoding="utf-8").splitlines()
    broken = json.loads(lines[2])
    broken["ar_offsets"] = [[5, 2]]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([lines[0], lines[1], json.dumps(broken)] + lines[3:]) + "\n", encoding="utf-8")
    with Store(db) as store:
        before = store.load_alignment(pair_id).version
    result = run_cli("import", bad, "--db", db)
    assert result.returncode != 0
    assert f"{bad}: line 3:" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    # rows that leave a sentence out: refused by the alignment's invariant
    missing = tmp_path / "missing.jsonl"
    missing.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    result = run_cli("import", missing, "--format", "links", "--db", db)
    assert result.returncode != 0 and "missing.jsonl: line 1:" in result.stderr
    with Store(db) as store:
        assert store.load_alignment(pair_id).version == before
        assert [(r.ar, r.en) for r in store.load_alignment(pair_id).rows] == EXPECTED
    wrong = run_cli("export", "--db", db, "--format", "links", "--min-score", "0.5", "-o", tmp_path / "x.jsonl")
    assert wrong.returncode == 2 and "--min-score" in wrong.stderr
