"""Alignments as stand-off links (issue 19): both sides stored, one alignment per document pair, the
editor's operations with their invariant (every sentence in exactly one row), undo, stale views."""
from __future__ import annotations

import re

import pytest
from aligned_story import ARABIC, ENGLISH, EXPECTED, MT, align_story, assert_consistent
from conftest import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from translate.alignment_edit import OPS, Op, OpError, Stale, apply_op, parse_op, undo
from translate.store import Store


def current_pairs(db) -> dict[str, dict]:
    """English -> {id, status, source} of the pairs exports and the review list show."""
    with Store(db, readonly=True) as store:
        return {r["target"]: {"id": r["id"], "status": r["status"], "source": r["source"]} for r in store.iter_pairs()}


def rows_of(store: Store, pair_id: int) -> list[tuple[list[int], list[int]]]:
    return [(r.ar, r.en) for r in store.load_alignment(pair_id).rows]


# -- storing ------------------------------------------------------------------------------------
def test_align_stores_both_sides_and_every_row_as_a_link(aligned_story):
    db, pair_id = aligned_story
    with Store(db) as store:
        alignment = store.load_alignment(pair_id)
        assert [s.text for s in alignment.ar] == ARABIC and [s.text for s in alignment.en] == ENGLISH
        assert [s.bridge for s in alignment.ar] == MT
        assert [(r.ar, r.en) for r in alignment.rows] == EXPECTED     # 0-1 and 1-0 rows kept
        assert all(r.status == "auto" for r in alignment.rows)
        langs = dict(store.db.execute("SELECT id, lang FROM documents").fetchall())
        assert langs[alignment.ar_document_id] == "ar" and langs[alignment.en_document_id] == "en"
        en_text = store.db.execute("SELECT text FROM documents WHERE id = ?", (alignment.en_document_id,)).fetchone()[0]
        assert all(en_text[s.start:s.end] == s.text for s in alignment.en)
        assert_consistent(store, pair_id)
    assert set(current_pairs(db)) == {ENGLISH[0], ENGLISH[1], ENGLISH[3]}


def test_aligning_again_with_another_bridge_keeps_one_alignment_and_no_duplicate_pairs(story_files, tmp_path):
    ar, en, mt = story_files
    db = tmp_path / "corpus.sqlite"
    first = run_cli("align", ar, en, "--presegmented", "--no-bridge", "--db", db)
    assert first.returncode == 0, first.stderr
    before = current_pairs(db)
    second = run_cli("align", ar, en, "--translations", mt, "--presegmented", "--db", db)
    assert second.returncode == 0, second.stderr
    with Store(db) as store:
        assert store.db.execute("SELECT COUNT(*) FROM document_pairs").fetchone()[0] == 1
        [pair_id] = [r[0] for r in store.db.execute("SELECT id FROM document_pairs")]
        assert_consistent(store, pair_id)
        assert [s.bridge for s in store.load_alignment(pair_id).ar] == MT
    after = current_pairs(db)
    assert len(after) == len(rows_with_both_sides(db))
    # a pair both alignments make is the same pair (same id)
    for english in set(before) & set(after):
        assert before[english]["id"] == after[english]["id"]


def rows_with_both_sides(db) -> list:
    with Store(db, readonly=True) as store:
        [pair_id] = [r[0] for r in store.db.execute("SELECT id FROM document_pairs")]
        return [r for r in store.load_alignment(pair_id).rows if r.ar and r.en]


def test_aligning_again_keeps_confirmed_rows_and_review_decisions(aligned_story, story_files):
    db, pair_id = aligned_story
    ar, en, mt = story_files
    with Store(db) as store:
        # the reviewer moves English 2 (the added sentence) into the row of Arabic 1-2 by hand and
        # approves the first pair in the pair list
        apply_op(store, pair_id, Op("up", row=2, side="en"), "rev")
        first_pair = store.load_alignment(pair_id).rows[0].translation_id
        store.db.execute("UPDATE translations SET status = 'approved' WHERE id = ?", (first_pair,))
        store.db.commit()
        fixed = rows_of(store, pair_id)
        assert fixed[1] == ([1, 2], [1, 2])
    again = run_cli("align", ar, en, "--presegmented", "--no-bridge", "--db", db)
    assert again.returncode == 0, again.stderr
    assert "kept 1 confirmed rows" in again.stderr
    with Store(db) as store:
        alignment = store.load_alignment(pair_id)
        # row 1 was confirmed by the op; row 0 (automatic) was aligned again, to the same link
        assert (alignment.rows[0].status, alignment.rows[1].status) == ("auto", "confirmed")
        assert rows_of(store, pair_id)[:2] == fixed[:2]
        assert alignment.rows[0].translation_id == first_pair
        status = store.db.execute("SELECT status FROM translations WHERE id = ?", (first_pair,)).fetchone()[0]
        assert status == "approved"
        assert alignment.bridge == ""           # aligned without a bridge this time
        assert_consistent(store, pair_id)


def test_a_store_with_pairs_from_before_links_keeps_their_decisions(story_files, tmp_path):
    """Pairs an older version stored (no links) are reused by the links that make them, with their review."""
    import hashlib

    ar, en, mt = story_files
    db = tmp_path / "corpus.sqlite"
    text = ar.read_text(encoding="utf-8")
    with Store(db) as store:      # as the aligner stored pairs before migration 7: no English document, no links
        document_id, _ = store.add_document(str(ar), text, hashlib.sha256(text.encode()).hexdigest())
        from translate.store import NewSegment
        start = text.index(ARABIC[3])
        [segment_id] = store.add_segments(document_id, [NewSegment(3, start, start + len(ARABIC[3]), 3, 0, ARABIC[3])])
        run_id = store.start_run("align", None, {})
        with store.transaction() as conn:
            old = store.add_translation(conn, segment_id, ENGLISH[3], None, run_id, 0.7, "good", {}, origin="human")
            conn.execute("UPDATE translations SET status = 'approved' WHERE id = ?", (old,))
        store.finish_run(run_id)
    result = run_cli("align", ar, en, "--translations", mt, "--presegmented", "--db", db)
    assert result.returncode == 0, result.stderr
    pairs = current_pairs(db)
    assert pairs[ENGLISH[3]] == {"id": old, "status": "approved", "source": ARABIC[3]}
    assert len(pairs) == 3


def test_a_reviewed_pair_from_before_links_that_the_aligner_would_not_make_becomes_a_confirmed_row(story_files, tmp_path):
    import hashlib

    from translate.store import NewSegment

    ar, en, mt = story_files
    db = tmp_path / "corpus.sqlite"
    text = ar.read_text(encoding="utf-8")
    with Store(db) as store:      # an older aligner linked Arabic 1 alone with English 1; a reviewer approved it
        document_id, _ = store.add_document(str(ar), text, hashlib.sha256(text.encode()).hexdigest())
        start = text.index(ARABIC[1])
        [segment_id] = store.add_segments(document_id, [NewSegment(1, start, start + len(ARABIC[1]), 1, 0, ARABIC[1])])
        run_id = store.start_run("align", None, {})
        with store.transaction() as conn:
            old = store.add_translation(conn, segment_id, ENGLISH[1], None, run_id, 0.7, "good", {}, origin="human")
            conn.execute("UPDATE translations SET status = 'approved' WHERE id = ?", (old,))
        store.finish_run(run_id)
    result = run_cli("align", ar, en, "--translations", mt, "--presegmented", "--db", db)
    assert result.returncode == 0, result.stderr
    assert "kept 1 confirmed rows" in result.stderr
    pairs = current_pairs(db)
    assert pairs[ENGLISH[1]] == {"id": old, "status": "approved", "source": ARABIC[1]}
    with Store(db) as store:
        [pair_id] = [r[0] for r in store.db.execute("SELECT id FROM document_pairs")]
        alignment = store.load_alignment(pair_id)
        confirmed = [(r.ar, r.en) for r in alignment.rows if r.status == "confirmed"]
        assert confirmed == [([1], [1])]
        assert_consistent(store, pair_id)


# -- operations -----------------------------------------------------------------------------------
def test_each_op_changes_the_rows_as_the_api_says(aligned_story):
    db, pair_id = aligned_story
    with Store(db) as store:
        def run(op, **kw):
            apply_op(store, pair_id, Op(op, **kw), "rev")
            assert_consistent(store, pair_id)
            return rows_of(store, pair_id)

        assert run("up", row=2, side="en") == [([0], [0]), ([1, 2], [1, 2]), ([3], [3]), ([4], [])]
        assert run("split", row=1, side="en", at=1) == [([0], [0]), ([1, 2], [1]), ([], [2]), ([3], [3]), ([4], [])]
        assert run("down", row=0, side="ar") == [([], [0]), ([0, 1, 2], [1]), ([], [2]), ([3], [3]), ([4], [])]
        assert run("up", row=1, side="ar") == [([0], [0]), ([1, 2], [1]), ([], [2]), ([3], [3]), ([4], [])]
        assert run("merge", row=1) == [([0], [0]), ([1, 2], [1, 2]), ([3], [3]), ([4], [])]
        assert run("gap", row=1, side="en") == [([0], [0]), ([1, 2], []), ([3], [1, 2]), ([4], [3])]
        assert run("close", row=1, side="en") == [([0], [0]), ([1, 2], [1, 2]), ([3], [3]), ([4], [])]
        assert run("split", row=1, side="ar", at=1) == [([0], [0]), ([1], [1, 2]), ([2], []), ([3], [3]), ([4], [])]
        assert run("swap", row=2, side="en") == [([0], [0]), ([1], []), ([2], [1, 2]), ([3], [3]), ([4], [])]
        statuses = [r.status for r in store.load_alignment(pair_id).rows]
        assert statuses[1:3] == ["confirmed", "confirmed"] and statuses[4] == "auto"
        run("confirm_to", row=3)
        assert [r.status for r in store.load_alignment(pair_id).rows] == ["confirmed"] * 4 + ["auto"]


def test_sentence_split_and_join_add_spans_and_keep_the_text(aligned_story):
    db, pair_id = aligned_story
    with Store(db) as store:
        sentence = ENGLISH[1]
        cut = sentence.index(" so he")
        apply_op(store, pair_id, Op("split_sentence", side="en", at=1, offset=cut), "rev")
        alignment = store.load_alignment(pair_id)
        assert [s.text for s in alignment.en][1:3] == ["It was raining heavily,", "so he carried a big umbrella."]
        assert alignment.rows[1].en == [1, 2] and alignment.rows[2].en == [3]
        assert_consistent(store, pair_id)
        apply_op(store, pair_id, Op("join_sentences", side="en", at=1), "rev")
        alignment = store.load_alignment(pair_id)
        assert [s.text for s in alignment.en] == ENGLISH
        assert_consistent(store, pair_id)
        with pytest.raises(OpError, match="different rows"):
            apply_op(store, pair_id, Op("join_sentences", side="en", at=0), "rev")


@pytest.mark.parametrize("body, message", [
    ({"op": "up", "row": 0, "side": "ar"}, "row 0 has no row above"),
    ({"op": "down", "row": 4, "side": "ar"}, "no row below"),
    ({"op": "merge", "row": 99}, "no row 99"),
    ({"op": "close", "row": 0, "side": "ar"}, "only an empty cell"),
    ({"op": "split", "row": 0, "side": "ar", "at": 1}, "split it at"),
    ({"op": "up", "row": 3, "side": "en"}, None),                    # applies (control)
])
def test_ops_that_cannot_apply_change_nothing(aligned_story, body, message):
    db, pair_id = aligned_story
    with Store(db) as store:
        before = store.load_alignment(pair_id)
        if message is None:
            apply_op(store, pair_id, parse_op(body), "rev")
            assert store.load_alignment(pair_id).version == before.version + 1
            return
        with pytest.raises(OpError, match=message):
            apply_op(store, pair_id, parse_op(body), "rev")
        after = store.load_alignment(pair_id)
        assert (after.version, rows_of(store, pair_id)) == (before.version, [(r.ar, r.en) for r in before.rows])


@pytest.mark.parametrize("body", [{"op": "jump"}, {"op": "up", "side": "ar"}, {"op": "up", "row": -1, "side": "ar"},
                                  {"op": "up", "row": True, "side": "ar"}, {"op": "gap", "row": 1, "side": "fr"},
                                  {"op": "split_sentence", "side": "ar", "at": 0}])
def test_malformed_ops_are_refused(body):
    with pytest.raises(OpError):
        parse_op(body)


def test_a_stale_version_is_refused_and_undo_restores_links_and_decisions(aligned_story):
    db, pair_id = aligned_story
    with Store(db) as store:
        start = store.load_alignment(pair_id)
        original_rows = rows_of(store, pair_id)
        moved_pair = start.rows[1].translation_id
        store.db.execute("UPDATE translations SET status = 'rejected', reject_reason = 'misaligned' WHERE id = ?",
                         (moved_pair,))
        store.db.commit()
        apply_op(store, pair_id, Op("up", row=2, side="en"), "first", version=start.version)
        with pytest.raises(Stale) as stale:
            apply_op(store, pair_id, Op("merge", row=0), "second", version=start.version)
        assert stale.value.alignment.version == start.version + 1
        assert moved_pair not in {p["id"] for p in current_pairs(db).values()}
        undo(store, pair_id, "first")
        assert rows_of(store, pair_id) == original_rows
        restored = store.db.execute("SELECT status, reject_reason, superseded_at FROM translations WHERE id = ?",
                                    (moved_pair,)).fetchone()
        assert tuple(restored) == ("rejected", "misaligned", None)
        assert_consistent(store, pair_id)
        with pytest.raises(OpError, match="nothing to undo"):
            undo(store, pair_id, "first")
        log = store.db.execute("SELECT op, reviewer FROM link_log WHERE document_pair_id = ? ORDER BY id",
                               (pair_id,)).fetchall()
        assert [tuple(r) for r in log] == [("create", "aligner"), ("up", "first"), ("undo", "first")]


def test_realign_below_keeps_the_confirmed_rows(aligned_story):
    db, pair_id = aligned_story
    with Store(db) as store:
        apply_op(store, pair_id, Op("merge", row=0), "rev")           # a wrong manual fix, confirmed
        apply_op(store, pair_id, Op("merge", row=2), "rev")           # another, below
        alignment = store.load_alignment(pair_id)
        assert [r.status for r in alignment.rows] == ["confirmed", "auto", "confirmed"]
        apply_op(store, pair_id, Op("confirm", row=0), "rev")
        # the last confirmed row is row 2: nothing below; un-confirming is not an op, so undo the merge
        undo(store, pair_id, "rev")
        rows = rows_of(store, pair_id)
        assert rows[0] == ([0, 1, 2], [0, 1])
        apply_op(store, pair_id, Op("realign"), "rev")
        assert rows_of(store, pair_id) == [([0, 1, 2], [0, 1]), ([], [2]), ([3], [3]), ([4], [])]
        assert_consistent(store, pair_id)


# -- the property: no sequence of ops loses a sentence -----------------------------------------------
op_strategy = st.fixed_dictionaries({
    "op": st.sampled_from([o for o in OPS if o != "realign"] + ["undo"]),
    "row": st.integers(0, 7), "side": st.sampled_from(["ar", "en"]), "at": st.integers(0, 6),
    "offset": st.integers(0, 70)})

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(op_strategy, min_size=1, max_size=12))
def test_no_sequence_of_ops_loses_a_sentence(aligned_once, ops):
    db, pair_id = aligned_once
    with Store(db) as store:
        for body in ops:
            before = store.load_alignment(pair_id)
            try:
                if body["op"] == "undo":
                    undo(store, pair_id, "prop")
                else:
                    apply_op(store, pair_id, parse_op(body), "prop")
            except OpError:
                after = store.load_alignment(pair_id)
                assert after.version == before.version
            assert_consistent(store, pair_id)
        # splits and joins only move boundaries: no character of a sentence is lost
        alignment = store.load_alignment(pair_id)
        for side, sentences in (("ar", ARABIC), ("en", ENGLISH)):
            kept = "".join(s.text for s in alignment.sentences(side))
            assert re.sub(r"\s", "", kept) == re.sub(r"\s", "", "".join(sentences))


@pytest.fixture(scope="module")
def aligned_once(tmp_path_factory):
    """One aligned store for every example of the property test (each example goes on from where the
    previous one left the alignment: longer sequences, and the store must stay consistent throughout)."""
    return align_story(tmp_path_factory.mktemp("prop"))


def test_folder_alignment_stores_one_alignment_per_document_pair(tmp_path):
    from test_docalign import ARTICLES

    ar_dir, en_dir = tmp_path / "ar", tmp_path / "en"
    ar_dir.mkdir()
    en_dir.mkdir()
    for k, (ar, en) in enumerate(ARTICLES):
        (ar_dir / f"a{k}.txt").write_text("\n".join(ar) + "\n", encoding="utf-8")
        (en_dir / f"e{k}.txt").write_text(" ".join(en) + "\n", encoding="utf-8")
    db = tmp_path / "corpus.sqlite"
    for bridge in ("--no-bridge", "--no-bridge"):         # the second run skips what the first stored
        result = run_cli("align", ar_dir, en_dir, bridge, "--db", db)
        assert result.returncode == 0, result.stderr
    with Store(db) as store:
        summaries = store.alignment_summaries(0.6)
        assert len(summaries) == len(ARTICLES)
        for summary in summaries:
            assert summary["ar_file"].rsplit("/", 1)[1][1:] == summary["en_file"].rsplit("/", 1)[1][1:]
            assert summary["rows"] == 2 and summary["non_1_1"] == 0
            assert_consistent(store, summary["id"])
