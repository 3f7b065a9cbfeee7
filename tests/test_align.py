"""MT-bridged sentence alignment: beads, the `translate align` command, storing pairs, and errors."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from aligned_story import ARABIC, ENGLISH, EXPECTED, MT
from conftest import run_cli

from translate.align import align, english_sentences


@pytest.mark.parametrize("arabic", [None, ARABIC])
def test_align_finds_merge_insertion_and_drop(arabic):
    beads = align(MT, ENGLISH, arabic)
    assert [(b.ar, b.en) for b in beads] == EXPECTED
    assert all(b.score > 0.5 for b in beads if b.ar and b.en)


def test_align_long_document_stays_on_the_diagonal():
    # 300 distinct sentences, one dropped on the English side and one pair merged
    mt = [f"Sentence number {i} talks about topic {i * 7 % 31} and place {i * 13 % 47}." for i in range(300)]
    english = mt[:100] + mt[101:200] + [mt[200] + " " + mt[201]] + mt[202:]
    beads = align(mt, english)
    linked = {tuple(b.ar): tuple(b.en) for b in beads if b.ar and b.en}
    assert linked[(99,)] == (99,) and linked[(101,)] == (100,)
    assert linked[(200, 201)] == (199,)
    assert linked[(299,)] == (297,)
    assert ([100], []) in [(b.ar, b.en) for b in beads]


def test_english_splitter_keeps_abbreviations_together():
    sentences = english_sentences("Dr. Smith arrived at 5 p.m. on Monday. He left early.\nA new line.", False)
    assert sentences == ["Dr. Smith arrived at 5 p.m. on Monday.", "He left early.", "A new line."]


def test_align_command_prints_beads(story_files, tmp_path):
    ar, en, mt = story_files
    result = run_cli("align", ar, en, "--translations", mt, "--presegmented", "--jsonl", "--no-store",
                     "--db", tmp_path / "unused.sqlite")
    assert result.returncode == 0, result.stderr
    beads = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(b["ar"], b["en"]) for b in beads] == EXPECTED
    assert not (tmp_path / "unused.sqlite").exists()


def test_align_command_stores_pairs_once(story_files, tmp_path):
    ar, en, mt = story_files
    db = tmp_path / "corpus.sqlite"
    first = run_cli("align", ar, en, "--translations", mt, "--presegmented", "--db", db)
    assert first.returncode == 0, first.stderr
    assert "stored 3 new pairs" in first.stderr
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT t.text, t.bridge, t.segment_count, t.origin, t.model_id, sc.score, sc.label, sc.signals"
            " FROM translations t JOIN scores sc ON sc.translation_id = t.id ORDER BY t.id").fetchall()
        runs = conn.execute("SELECT kind, status FROM runs").fetchall()
    assert [r[0] for r in rows] == [ENGLISH[0], ENGLISH[1], ENGLISH[3]]
    assert rows[1][1] == MT[1] + " " + MT[2] and rows[1][2] == 2
    assert all(r[3] == "human" and r[4] is None for r in rows)
    signals = json.loads(rows[1][7])
    assert signals["alignment"] == "2-1" and signals["alignment_score"] > 0.5 and "src_coverage" in signals
    assert all(0.0 <= r[5] <= 1.0 and r[6] in ("good", "check", "bad") for r in rows)
    assert runs == [("align", "done")]

    again = run_cli("align", ar, en, "--translations", mt, "--presegmented", "--db", db)
    assert again.returncode == 0, again.stderr
    assert "stored 0 new pairs (3 already stored)" in again.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM translations").fetchone()[0] == 3
        # both sides are stored (issue 19): the English document's sentences are segments too
        by_lang = dict(conn.execute("SELECT d.lang, COUNT(*) FROM segments s JOIN documents d ON d.id = s.document_id"
                                    " GROUP BY d.lang").fetchall())
        assert by_lang == {"ar": len(ARABIC), "en": len(ENGLISH)}


def test_align_rejects_translations_of_the_wrong_length(story_files, tmp_path):
    ar, en, mt = story_files
    mt.write_text("\n".join(MT[:4]) + "\n", encoding="utf-8")
    result = run_cli("align", ar, en, "--translations", mt, "--presegmented", "--db", tmp_path / "c.sqlite")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(mt) in lines[0] and "4 lines" in lines[0] and "5 sentences" in lines[0]


def test_align_with_the_installed_model(story_files, tmp_path):
    from translate.models import ModelError, resolve_model

    try:
        resolve_model(None)
    except ModelError:
        pytest.skip("no translation model installed")
    ar, en, _ = story_files
    db = tmp_path / "corpus.sqlite"
    result = run_cli("align", ar, en, "--presegmented", "--jsonl", "--db", db)
    assert result.returncode == 0, result.stderr
    beads = [json.loads(line) for line in result.stdout.splitlines()]
    # every sentence of both sides appears exactly once, in order
    assert [i for b in beads for i in b["ar"]] == list(range(len(ARABIC)))
    assert [j for b in beads for j in b["en"]] == list(range(len(ENGLISH)))
    with sqlite3.connect(db) as conn:
        bridges = conn.execute("SELECT bridge, model_id FROM translations").fetchall()
    assert bridges and all(b and m is not None for b, m in bridges)


def test_eval_command(tmp_path):
    ref, hyp, short = tmp_path / "ref.en", tmp_path / "hyp.en", tmp_path / "short.en"
    ref.write_text("The man read the book.\nIt rained all day.\n", encoding="utf-8")
    hyp.write_text("The man read the book.\nIt was raining all day.\n", encoding="utf-8")
    short.write_text("The man read the book.\n", encoding="utf-8")
    result = run_cli("eval", "--ref", ref, "--hyp", hyp, "--json")
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)
    assert scores["sentences"] == 2 and 0 < scores["bleu"] < 100 and 0 < scores["chrf"] < 100
    perfect = json.loads(run_cli("eval", "--ref", ref, "--hyp", ref, "--json").stdout)
    assert perfect["bleu"] == pytest.approx(100.0) and perfect["ter"] == pytest.approx(0.0)
    mismatch = run_cli("eval", "--ref", ref, "--hyp", short)
    assert mismatch.returncode == 1 and str(short) in mismatch.stderr


def test_merged_pair_keeps_its_exact_source_when_spans_were_stored_before(story_files, tmp_path):
    import hashlib

    from translate.store import NewSegment, Store

    ar, en, mt = story_files
    db = tmp_path / "corpus.sqlite"
    text = ar.read_text(encoding="utf-8")
    start = text.index(ARABIC[2])
    with Store(db) as store:          # an earlier run stored the span of Arabic sentence 2 on its own
        document_id, _ = store.add_document(str(ar), text, hashlib.sha256(text.encode("utf-8")).hexdigest())
        store.add_segments(document_id, [NewSegment(0, start, start + len(ARABIC[2]), 0, 0, ARABIC[2])])
    result = run_cli("align", ar, en, "--translations", mt, "--presegmented", "--db", db)
    assert result.returncode == 0, result.stderr
    with Store(db) as store:
        pairs = {row["target"]: row["source"] for row in store.iter_pairs()}
    assert pairs[ENGLISH[1]] == ARABIC[1] + "\n" + ARABIC[2]
    assert pairs[ENGLISH[0]] == ARABIC[0]


def store_run(db: Path, text: str, spans: list[tuple[int, int]], english: list[str]) -> None:
    """A real store holding one finished translate run: the segments ``spans`` of ``text``, one
    translation each."""
    from translate.store import NewSegment, Store

    with Store(db) as store:
        document_id, _ = store.add_document("doc.txt", text, "sha-of-doc")
        ids = store.add_segments(document_id, [NewSegment(k, a, b, k, 0, text[a:b]) for k, (a, b) in enumerate(spans)])
        model_id = store.model_id("test-model", "0" * 64)
        run_id = store.start_run("translate", model_id, {})
        with store.transaction() as conn:
            for segment_id, target in zip(ids, english):
                store.add_translation(conn, segment_id, target, model_id, run_id, 0.5, "check", {})
        store.finish_run(run_id)


def test_eval_command_reads_a_stored_run(tmp_path):
    db, ref = tmp_path / "corpus.sqlite", tmp_path / "ref.en"
    text = "\n".join(ARABIC[:3])
    spans, start = [], 0
    for sentence in ARABIC[:3]:
        spans.append((start, start + len(sentence)))
        start += len(sentence) + 1
    store_run(db, text, spans, MT[:3])
    ref.write_text("\n".join(MT[:3]) + "\n", encoding="utf-8")
    result = run_cli("eval", "--ref", ref, "--db", db, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["bleu"] == pytest.approx(100.0)
    missing = run_cli("eval", "--ref", ref, "--db", db, "--run", "99")
    assert missing.returncode == 1 and "no run 99" in missing.stderr


def test_align_bridges_with_a_model_directory(story_files, tmp_path, tiny_model):
    # a tiny random-weight model: the MT is noise, but the whole bridge path runs and is stored
    ar, en, _ = story_files
    db = tmp_path / "corpus.sqlite"
    result = run_cli("align", ar, en, "--presegmented", "--jsonl", "--model", tiny_model, "--db", db)
    assert result.returncode == 0, result.stderr
    beads = [json.loads(line) for line in result.stdout.splitlines()]
    # a useless bridge counts for little: the lexicon, numbers and length still find every bead
    assert [(b["ar"], b["en"]) for b in beads] == EXPECTED
    with sqlite3.connect(db) as conn:
        models = conn.execute("SELECT name FROM models").fetchall()
        rows = conn.execute("SELECT bridge, model_id FROM translations").fetchall()
    assert models == [("tiny-ar-en",)]
    assert len(rows) == 3
    assert all(bridge is not None and model_id is not None for bridge, model_id in rows)


def test_align_without_a_bridge_uses_the_lexicon_numbers_and_names():
    beads = align(None, ENGLISH, ARABIC)
    assert [(b.ar, b.en) for b in beads] == EXPECTED
    assert all(b.score > 0.5 for b in beads if b.ar and b.en)


def test_names_numbers_and_skeletons():
    from translate.align import FEATURES, Problem, arabic_skeleton, english_skeleton, numbers

    assert arabic_skeleton("ستانفورد") == english_skeleton("Stanford")
    assert numbers("في عام ٢٠١٩ قتل ١٬٥٠٠ شخص") == numbers("In 2019, 1,500 people were killed") == {"2019", "1500"}
    # a name is the only word the lexicon cannot give: two sentences that differ only by it
    arabic = ["زار الرئيس ويلينغتون يوم الاثنين.", "زار الرئيس إنسيلادوس يوم الاثنين."]
    english = ["The president visited Enceladus on Monday.", "The president visited Wellington on Monday."]
    problem = Problem(None, english, arabic)
    names = FEATURES.index("names")
    assert problem.features(0, 1, 1, 1)[names] == problem.features(1, 1, 0, 1)[names] == 1.0
    assert problem.features(0, 1, 0, 1)[names] == problem.features(1, 1, 1, 1)[names] == 0.0
    assert problem.gain(0, 1, 1, 1) > problem.gain(0, 1, 0, 1)


def test_align_command_without_bridge(story_files, tmp_path):
    ar, en, _ = story_files
    result = run_cli("align", ar, en, "--presegmented", "--no-bridge", "--jsonl", "--db", tmp_path / "c.sqlite")
    assert result.returncode == 0, result.stderr
    assert [(b["ar"], b["en"]) for b in map(json.loads, result.stdout.splitlines())] == EXPECTED
    with sqlite3.connect(tmp_path / "c.sqlite") as conn:
        rows = conn.execute("SELECT bridge, model_id, origin FROM translations").fetchall()
    assert rows == [(None, None, "human")] * 3


def test_flores_alignment_without_a_bridge(shared_dir):
    # a few FLORES news articles as one document, with a merged and a dropped sentence on each side
    lines = [json.loads(line) for line in
             (shared_dir / "data" / "flores-dev" / "flores-dev.docs.jsonl").read_text(encoding="utf-8").splitlines()]
    arabic = [s for doc in lines[:8] for s in doc["ar"]]
    english = [s for doc in lines[:8] for s in doc["en"]]
    n = len(arabic)
    ar_units = [[k] for k in range(n) if k not in (3, 4, 12)]
    ar_units.insert(3, [3, 4])
    en_units = [[k] for k in range(n) if k not in (7, 20, 21)]
    en_units.insert(next(i for i, u in enumerate(en_units) if u[0] > 20), [20, 21])
    beads = align(None, [" ".join(english[k] for k in u) for u in en_units],
                  [" ".join(arabic[k] for k in u) for u in ar_units])
    gold = {(i, j) for i, a in enumerate(ar_units) for j, e in enumerate(en_units) if set(a) & set(e)}
    predicted = {(i, j) for b in beads for i in b.ar for j in b.en}
    assert len(predicted & gold) >= 0.95 * len(gold) and len(predicted - gold) <= 0.05 * len(predicted)


def test_eval_joins_the_segments_of_each_input_line(tmp_path):
    db, ref = tmp_path / "corpus.sqlite", tmp_path / "ref.en"
    # input line 0 holds two sentences (two segments), line 1 is blank, line 2 holds one
    text = ARABIC[0] + " " + ARABIC[1] + "\n\n" + ARABIC[2]
    spans = [(0, len(ARABIC[0])), (len(ARABIC[0]) + 1, len(ARABIC[0]) + 1 + len(ARABIC[1]))]
    spans.append((text.index(ARABIC[2]), len(text)))
    store_run(db, text, spans, MT[:3])
    ref.write_text(MT[0] + " " + MT[1] + "\n\n" + MT[2] + "\n", encoding="utf-8")
    result = run_cli("eval", "--ref", ref, "--db", db, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"sentences": 3, "bleu": pytest.approx(100.0), "chrf": pytest.approx(100.0),
                                         "ter": pytest.approx(0.0), "run": 1}
    assert "joined 3 segment translations into the 3 input lines" in result.stderr
    ref.write_text(MT[0] + "\n" + MT[1] + "\n", encoding="utf-8")
    mismatch = run_cli("eval", "--ref", ref, "--db", db)
    assert mismatch.returncode == 1 and "3 input lines" in mismatch.stderr and "has 2 lines" in mismatch.stderr


def test_translation_tables_hold_content_words_only():
    from translate.align import translation_tables
    from translate.lexicon import ARABIC_STOPWORDS, ENGLISH_STOPWORDS

    ar_to_en, en_to_ar = translation_tables()
    assert ar_to_en and en_to_ar
    # frequent words get a share of many rare words' translations in IBM Model 1: as keys they would
    # link "the" or في with hundreds of content words
    assert not set(ar_to_en) & ARABIC_STOPWORDS and not set(en_to_ar) & ENGLISH_STOPWORDS
    assert not any(v & ENGLISH_STOPWORDS for v in ar_to_en.values())
    assert not any(v & ARABIC_STOPWORDS for v in en_to_ar.values())


def test_a_useless_bridge_weighs_less_than_a_good_one_in_a_small_document():
    from translate.align import Problem

    # output that resembles nothing (as a random-weight model's): little spread, no gap
    noise = ["w" * (4 + k) + "ط" * (20 + 7 * k) + " several" * k for k in range(len(ARABIC))]
    assert Problem(noise, ENGLISH, ARABIC).scale["bridge"] < Problem(MT, ENGLISH, ARABIC).scale["bridge"]


def test_align_with_another_lexicon_inside_the_block_only():
    from translate.align import Problem, using_lexicon
    from translate.lexicon import Lexicon

    assert Problem(None, ENGLISH, ARABIC).en[1][0].known
    with using_lexicon(Lexicon({}, {})):
        assert not Problem(None, ENGLISH, ARABIC).en[1][0].known
    assert Problem(None, ENGLISH, ARABIC).en[1][0].known
