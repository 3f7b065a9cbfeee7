"""Document alignment: which English document translates which Arabic one, and `translate align DIR DIR`."""
from __future__ import annotations

import json
import random
import sqlite3

import pytest
from conftest import run_cli

from translate.docalign import match_documents

ARTICLES = [
    (["أعلن علماء من جامعة ستانفورد يوم الاثنين عن أداة تشخيصية جديدة.", "تكلف الشريحة حوالي سنت واحد."],
     ["Scientists from Stanford University announced a new diagnostic tool on Monday.",
      "The chip costs about one cent."]),
    (["تحطمت الطائرة على المدرج في الساعة 9:30 صباحا.", "أغلق المطار أمام الرحلات التجارية."],
     ["The plane crashed onto the runway at 9:30 am.", "The airport was closed to commercial flights."]),
    (["ذهب الولد إلى المدرسة صباحا.", "كانت السماء تمطر بغزارة، لذلك حمل معه مظلة كبيرة."],
     ["The boy went to school in the morning.", "It was raining heavily, so he carried a big umbrella."]),
    (["فاز الفريق بالمباراة ٣ مقابل ١ في مدريد.", "سجل اللاعب هدفين في الشوط الثاني."],
     ["The team won the match 3-1 in Madrid.", "The player scored two goals in the second half."]),
]


def test_matching_pairs_and_leaves_orphans_unmatched():
    arabic = ["\n".join(ar) for ar, _ in ARTICLES]
    english = ["\n".join(en) for _, en in ARTICLES]
    # English in another order, and the translation of Arabic article 1 missing
    order = [3, 0, 2]
    pairs = match_documents(arabic, [english[k] for k in order])
    assert sorted((a, order[e]) for a, e, _ in pairs) == [(0, 0), (2, 2), (3, 3)]
    assert all(0.95 <= confidence <= 1 for _, _, confidence in pairs)
    # the texts are read once (an archive is never held in memory): generators do
    again = match_documents(iter(arabic), (english[k] for k in order))
    assert [(p.ar, p.en) for p in again] == [(p.ar, p.en) for p in pairs]


def test_documents_that_share_only_a_name_and_common_words_are_not_paired():
    # unrelated articles that mention the same place: a wrong pair would poison every sentence pair
    arabic = ["زار الرئيس مدريد يوم الاثنين والتقى رئيس الوزراء لمناقشة التجارة.",
              "ذهب الولد إلى المدرسة صباحا وكانت السماء تمطر بغزارة."]
    english = ["The museum in Madrid opened a new exhibition of paintings on Monday.",
               "The team won the match in the second half."]
    assert match_documents(arabic, english) == []


def test_neighbourhood_levels_and_rivals_match_a_direct_count():
    from translate.docalign import NEIGHBOURS, neighbourhood

    rng = random.Random(3)
    owner = [rng.randrange(6) for _ in range(60)] + [9]           # document 9 has one candidate only
    cosines = [round(rng.random(), 3) + k * 1e-6 for k in range(61)]      # no ties
    import numpy as np

    level, rival = neighbourhood(np.array(owner), np.array(cosines))
    for k in range(61):
        others = sorted((c for j, c in enumerate(cosines) if owner[j] == owner[k] and j != k), reverse=True)
        if not others:
            assert np.isnan(level[k]) and np.isnan(rival[k])
            continue
        assert level[k] == pytest.approx(sum(others[:NEIGHBOURS]) / len(others[:NEIGHBOURS]))
        assert rival[k] == pytest.approx(others[0])


def test_strongest_rivals_and_ranks_match_a_direct_count():
    import numpy as np
    from translate.docalign import strongest_rivals

    rng = random.Random(4)
    owner = np.array([rng.randrange(5) for _ in range(40)] + [9])          # document 9 has one candidate only
    other = np.arange(41) + 100
    scores = np.array([rng.uniform(-6, 8) + k * 1e-6 for k in range(41)])   # no ties
    rival, rank = strongest_rivals(owner, other, scores)
    for k in range(41):
        mine = sorted((j for j in range(41) if owner[j] == owner[k]), key=lambda j: -scores[j])
        assert rank[k] == mine.index(k)
        others = [j for j in mine if j != k]
        assert rival[k] == (other[others[0]] if others else -1)


def _near_copies(shared_dir, count=12):
    """FLORES articles as near copies: each English story (its first two sentences, then two more of its
    own) beside a copy with the same lead and two sentences of another article as its tail; the Arabic
    of the story only."""
    docs = [json.loads(line) for line in
            (shared_dir / "data" / "flores-dev" / "flores-dev.docs.jsonl").read_text(encoding="utf-8").splitlines()]
    docs = [d for d in docs if len(d["ar"]) >= 4][:count + 1]
    arabic, story, copy = [], [], []
    for k in range(count):
        own, other = docs[k], docs[k + 1]
        arabic.append("\n".join(own["ar"][:4]))
        story.append("\n".join(own["en"][:4]))
        copy.append("\n".join(own["en"][:2] + other["en"][2:4]))
    return arabic, story, copy


def test_contrast_favours_the_story_over_its_near_copy(shared_dir):
    import numpy as np
    from translate.docalign import index_documents
    from translate.docalign.contrast import side_contrast

    arabic, story, copy = _near_copies(shared_dir)
    n = len(arabic)
    indexed = index_documents(arabic, story + copy)
    rows, stories, copies = np.arange(n), np.arange(n), np.arange(n) + n
    favour = side_contrast(indexed.ar, indexed.en, rows, stories, copies)
    # the Arabic translates the story's own tail, not the copy's: positive against the copy...
    assert (favour > 0).all(), favour
    # ... and the copy's contrast against the story is the same, negated
    assert side_contrast(indexed.ar, indexed.en, rows, copies, stories) == pytest.approx(-favour)
    # from the English side: the story translates the Arabic's exclusive part, not an unrelated Arabic one
    assert (side_contrast(indexed.en, indexed.ar, stories, rows, np.roll(rows, 1)) > 0).all()


def test_near_copies_are_told_apart(shared_dir):
    arabic, story, copy = _near_copies(shared_dir)
    english = story + copy
    order = list(range(len(english)))
    random.Random(6).shuffle(order)
    pairs = match_documents(arabic, [english[k] for k in order])
    # every Arabic document paired with its own story, never with the copy that shares its lead
    assert sorted((p.ar, order[p.en]) for p in pairs) == [(k, k) for k in range(len(arabic))]


def test_a_large_group_of_candidate_pairs_is_linked_one_to_one():
    from translate.docalign import EXACT_GROUP, best_assignment

    rng = random.Random(2)
    size = EXACT_GROUP
    edges = {(a, e): rng.uniform(0, 3) for a in range(size) for e in range(size) if rng.random() < 0.2}
    chosen = best_assignment(edges, 1.0)
    assert len({a for a, _ in chosen}) == len(chosen) == len({e for _, e in chosen}) > size // 3
    assert all(edges[k] > 1.0 for k in chosen)
    # competitive linking: the best edge of all is always taken
    assert max(edges, key=edges.get) in chosen


def test_flores_folders(shared_dir):
    # 60 FLORES articles each side, 20% of the English removed: every remaining pair found, the rest unmatched
    docs = [json.loads(line) for line in
            (shared_dir / "data" / "flores-dev" / "flores-dev.docs.jsonl").read_text(encoding="utf-8").splitlines()]
    docs = docs[::4][:60]
    rng = random.Random(5)
    kept = sorted(rng.sample(range(len(docs)), 48))
    rng.shuffle(kept)
    pairs = match_documents(["\n".join(d["ar"]) for d in docs], ["\n".join(docs[k]["en"]) for k in kept])
    found = {a: kept[e] for a, e, _ in pairs}
    assert sum(1 for a, k in found.items() if a == k) >= 47
    assert sum(1 for a, k in found.items() if a != k) <= 1


@pytest.fixture
def folders(tmp_path):
    ar_dir, en_dir = tmp_path / "ar", tmp_path / "en"
    ar_dir.mkdir()
    en_dir.mkdir()
    names = ["x91.txt", "b07.txt", "q3.txt", "m44.txt"]
    for k, (ar, en) in enumerate(ARTICLES):
        (ar_dir / names[k]).write_text("\n".join(ar) + "\n", encoding="utf-8")
        if k != 1:                                      # the English of the plane crash is missing
            (en_dir / f"{(k * 7) % 5}-{names[-1 - k]}").write_text(" ".join(en) + "\n", encoding="utf-8")
    return ar_dir, en_dir


def test_align_folders_prints_pairs_stores_them_and_resumes(folders, tmp_path):
    ar_dir, en_dir = folders
    db = tmp_path / "corpus.sqlite"
    result = run_cli("align", ar_dir, en_dir, "--no-bridge", "--jsonl", "--db", db)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    paired = {r["ar_file"].rsplit("/", 1)[1]: r for r in records if r["ar_file"] and r["en_file"]}
    assert sorted(paired) == ["m44.txt", "q3.txt", "x91.txt"]
    assert paired["x91.txt"]["en_file"].endswith("m44.txt")      # Arabic article 0: its English was named so
    stanford = paired["x91.txt"]["beads"]
    assert [(b["ar"], b["en"]) for b in stanford] == [
        ([ARTICLES[0][0][0]], [ARTICLES[0][1][0]]), ([ARTICLES[0][0][1]], [ARTICLES[0][1][1]])]
    assert all(0.5 < b["score"] <= 1 for b in stanford)
    unmatched = [r for r in records if r["en_file"] is None]
    assert len(unmatched) == 1 and unmatched[0]["ar_file"].endswith("b07.txt") and unmatched[0]["beads"] == []
    assert "3 pairs (3 aligned, 0 aligned before), 1 Arabic and 0 English unmatched" in result.stderr
    with sqlite3.connect(db) as conn:
        count = conn.execute("SELECT COUNT(*) FROM translations WHERE origin = 'human'").fetchone()[0]
    assert count == 6

    again = run_cli("align", ar_dir, en_dir, "--no-bridge", "--jsonl", "--db", db)
    assert again.returncode == 0, again.stderr
    assert "3 pairs (0 aligned, 3 aligned before)" in again.stderr
    assert all(r["beads"] is None for r in map(json.loads, again.stdout.splitlines()) if r["ar_file"] and r["en_file"])
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM translations").fetchone()[0] == count


def test_a_rerun_reuses_the_saved_document_matching_until_a_file_changes(folders, tmp_path):
    ar_dir, en_dir = folders
    db = tmp_path / "corpus.sqlite"
    first = run_cli("align", ar_dir, en_dir, "--no-bridge", "--jsonl", "--db", db)
    assert first.returncode == 0, first.stderr
    assert "reusing the document matching" not in first.stderr
    with sqlite3.connect(db) as conn:
        saved = conn.execute("SELECT ar_path, en_path, confidence FROM document_matches ORDER BY position").fetchall()
        assert conn.execute("SELECT ar_documents, en_documents FROM document_matchings").fetchall() == [(4, 3)]
    assert sorted(ar for ar, _, _ in saved) == ["m44.txt", "q3.txt", "x91.txt"]
    # the rerun takes the pairs from the store, not from a new matching: a confidence changed there is
    # the one it reports
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE document_matches SET confidence = 0.9512 WHERE ar_path = 'x91.txt'")
    again = run_cli("align", ar_dir, en_dir, "--no-bridge", "--jsonl", "--db", db)
    assert again.returncode == 0, again.stderr
    assert "reusing the document matching saved by an earlier run of this alignment (3 pairs)" in again.stderr
    assert "3 pairs (0 aligned, 3 aligned before)" in again.stderr
    records = {r["ar_file"].rsplit("/", 1)[1]: r for r in map(json.loads, again.stdout.splitlines()) if r["ar_file"]}
    assert records["x91.txt"]["score"] == 0.9512 and records["x91.txt"]["en_file"].endswith("m44.txt")
    assert records["b07.txt"]["en_file"] is None
    # a changed file is a new alignment: matched again, and saved beside the first matching
    (en_dir / "0-m44.txt").write_text(" ".join(ARTICLES[0][1]) + " Updated.\n", encoding="utf-8")
    changed = run_cli("align", ar_dir, en_dir, "--no-bridge", "--jsonl", "--db", db)
    assert changed.returncode == 0, changed.stderr
    assert "reusing the document matching" not in changed.stderr
    assert "3 pairs (1 aligned, 2 aligned before)" in changed.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM document_matchings").fetchone()[0] == 2


def test_align_folders_with_the_demo_model(folders, tmp_path):
    from translate.models import ModelError, resolve_model

    try:
        resolve_model("demo-ar-en-tatoeba")
    except ModelError:
        pytest.skip("demo model not installed")
    ar_dir, en_dir = folders
    db = tmp_path / "corpus.sqlite"
    result = run_cli("align", ar_dir, en_dir, "--model", "demo-ar-en-tatoeba", "--db", db)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT t.bridge, m.name FROM translations t JOIN models m ON m.id = t.model_id").fetchall()
    assert len(rows) == 6 and all(bridge and name == "demo-ar-en-tatoeba" for bridge, name in rows)


def test_align_needs_two_files_or_two_folders(folders, tmp_path):
    ar_dir, en_dir = folders
    one_file = next(en_dir.iterdir())
    result = run_cli("align", ar_dir, one_file, "--db", tmp_path / "c.sqlite")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and "two files or two folders" in lines[0]
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli("align", ar_dir, empty, "--no-bridge", "--db", tmp_path / "c.sqlite")
    assert result.returncode == 1 and str(empty) in result.stderr and "no readable .txt" in result.stderr


def test_assignment_is_the_best_one_to_one_total():
    import itertools

    from translate.docalign import best_assignment

    # greedy would take (0, 0) first (2.9) and leave row 1 with nothing: 1.7 in all; the best is 2.6
    edges = {(0, 0): 2.9, (0, 1): 2.5, (1, 0): 2.8, (2, 2): 1.1}
    assert sorted(best_assignment(edges, 1.2)) == [(0, 1), (1, 0)]
    rng = random.Random(1)
    for _ in range(200):
        n, m = rng.randint(1, 5), rng.randint(1, 5)
        edges = {(a, e): rng.uniform(0.5, 3) for a in range(n) for e in range(m) if rng.random() < 0.6}
        chosen = best_assignment(edges, 1.2)
        assert len({a for a, _ in chosen}) == len(chosen) == len({e for _, e in chosen})
        usable = [k for k in edges if edges[k] > 1.2]
        best = max(sum(edges[k] - 1.2 for k in combo) for r in range(len(usable) + 1)
                   for combo in itertools.combinations(usable, r)
                   if len({a for a, _ in combo}) == r == len({e for _, e in combo}))
        assert sum(edges[k] - 1.2 for k in chosen) == pytest.approx(best)


def test_align_folders_plain_output(folders, tmp_path):
    ar_dir, en_dir = folders
    result = run_cli("align", ar_dir, en_dir, "--no-bridge", "--no-store", "--db", tmp_path / "unused.sqlite")
    assert result.returncode == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert sorted((r[0].rsplit("/", 1)[1], r[3]) for r in rows) == [
        ("b07.txt", "unmatched"), ("m44.txt", "2 sentence pairs"), ("q3.txt", "2 sentence pairs"),
        ("x91.txt", "2 sentence pairs")]
    assert not (tmp_path / "unused.sqlite").exists()


# -- two files: the document check --------------------------------------------------------------
def _two_files(tmp_path, arabic: list[str], english: list[str]):
    ar, en = tmp_path / "a.txt", tmp_path / "e.txt"
    ar.write_text("\n".join(arabic) + "\n", encoding="utf-8")
    en.write_text("\n".join(english) + "\n", encoding="utf-8")
    return ar, en


def _stored(db):
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT t.text, s.label, s.score, s.signals FROM translations t"
                            " JOIN scores s ON s.translation_id = t.id").fetchall()


def test_two_unrelated_files_are_refused_and_stored_as_bad_with_force(tmp_path, shared_dir):
    docs = [json.loads(line) for line in
            (shared_dir / "data" / "flores-dev" / "flores-dev.docs.jsonl").read_text(encoding="utf-8").splitlines()]
    ar, en = _two_files(tmp_path, docs[0]["ar"], docs[7]["en"])       # two unrelated news articles
    db = tmp_path / "c.sqlite"
    refused = run_cli("align", ar, en, "--no-bridge", "--db", db)
    lines = refused.stderr.strip().splitlines()
    assert refused.returncode == 1 and len(lines) == 1
    assert str(ar) in lines[0] and str(en) in lines[0] and "not look like translations" in lines[0]
    assert _stored(db) == []
    forced = run_cli("align", ar, en, "--no-bridge", "--force", "--db", db)
    assert forced.returncode == 0, forced.stderr
    stored = _stored(db)
    assert stored and all(label == "bad" and json.loads(signals)["not_a_translation"]
                          for _, label, _, signals in stored)
    # the real translation of the same article passes the check
    ar, en = _two_files(tmp_path, docs[7]["ar"], docs[7]["en"])
    result = run_cli("align", ar, en, "--no-bridge", "--db", db)
    assert result.returncode == 0, result.stderr


def test_inputs_in_the_wrong_language_are_refused_in_one_line(tmp_path):
    arabic, english = ARTICLES[0]
    ar, en = _two_files(tmp_path, arabic, english)
    db = tmp_path / "c.sqlite"
    for args, named, words in (((en, ar), f"{en}, {ar}", "swapped"), ((ar, ar), str(ar), "not English"),
                               ((en, en), str(en), "not Arabic")):
        result = run_cli("align", *args, "--no-bridge", "--force", "--db", db)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 1 and len(lines) == 1, result.stderr
        assert named in lines[0] and words in lines[0]
    assert _stored(db) == []


def test_a_confident_link_does_not_lift_an_untranslated_pair_out_of_bad(tmp_path):
    arabic = [ar for ar, _ in ARTICLES for ar in ar]
    english = [en for _, en in ARTICLES for en in en]
    english[3] = arabic[3]                      # one sentence left untranslated on the English side
    ar, en = _two_files(tmp_path, arabic, english)
    db = tmp_path / "c.sqlite"
    result = run_cli("align", ar, en, "--no-bridge", "--presegmented", "--db", db)
    assert result.returncode == 0, result.stderr
    stored = {text: (label, score) for text, label, score, _ in _stored(db)}
    assert len(stored) >= 6 and stored[arabic[3]][0] == "bad"
    assert sum(1 for label, _ in stored.values() if label != "bad") >= 5


# -- metadata -----------------------------------------------------------------------------------
def _write(path, lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _pairs_of(result, ar_dir, en_dir):
    return {r["ar_file"][len(str(ar_dir)) + 1:]: r["en_file"][len(str(en_dir)) + 1:]
            for r in map(json.loads, result.stdout.splitlines()) if r["ar_file"] and r["en_file"]}


def _align_jsonl(ar_dir, en_dir, *options):
    result = run_cli("align", ar_dir, en_dir, "--no-bridge", "--no-store", "--jsonl", *options,
                     "--db", ar_dir.parent / "unused.sqlite")
    assert result.returncode == 0, result.stderr
    return _pairs_of(result, ar_dir, en_dir)


def test_dates_in_paths_decide_between_copies_the_text_cannot_tell_apart(tmp_path):
    # the same brief published on two days: by content the copies tie, and no pair of them is made
    (brief_ar, brief_en), (other_ar, other_en) = ARTICLES[0], ARTICLES[3]
    plain, dated = tmp_path / "plain", tmp_path / "dated"
    for folder, ar_names, en_names in ((plain, ["s1.txt", "s2.txt"], ["a.txt", "b.txt"]),
                                       (dated, ["2024-01-01-story.txt", "2024-03-05-story.txt"],
                                        ["a-2024-03-05.txt", "b-2024-01-01.txt"])):
        for ar_name, en_name in zip(ar_names, en_names):
            _write(folder / "ar" / ar_name, brief_ar)
            _write(folder / "en" / en_name, brief_en)
        _write(folder / "ar" / "x.txt", other_ar)
        _write(folder / "en" / "y.txt", other_en)
    assert _align_jsonl(plain / "ar", plain / "en") == {"x.txt": "y.txt"}
    assert _align_jsonl(dated / "ar", dated / "en") == {
        "x.txt": "y.txt", "2024-01-01-story.txt": "b-2024-01-01.txt", "2024-03-05-story.txt": "a-2024-03-05.txt"}


def test_metadata_of_paths():
    import numpy as np

    from translate.docalign import DATE_EVIDENCE, PATH_EVIDENCE, Metadata, path_day, path_key

    assert path_key("2024/ar/story-ar.txt") == path_key("2024/en/story-en.txt") != path_key("2024/en/other-en.txt")
    assert path_key("news.ar.html.txt") == path_key("news.en.html.txt")
    assert path_day("2024/05/03/x.txt") == path_day("20240503-x.txt") == path_day("x_2024-05-03.txt")
    assert path_day("x-20241340.txt") is None and path_day("1234567.txt") is None
    metadata = Metadata(["ar/1.txt", "ar/2024-01-09-b.txt", "7.txt"], ["en/1.txt", "en/2024-01-01-b.txt", "7.txt"],
                        hints=[(2, 2)])
    # same names but for the marker: evidence; a bare shared number is not; dates 8 days apart count against
    assert metadata.proposed() == [(0, 0), (2, 2)]
    odds = metadata.log_odds(np.array([0, 1, 2, 0]), np.array([0, 1, 2, 1]))
    assert list(odds) == [PATH_EVIDENCE, DATE_EVIDENCE, 4.0, 0.0]


def test_pairs_hint_file(tmp_path):
    (brief_ar, brief_en), (other_ar, other_en) = ARTICLES[0], ARTICLES[3]
    for name in ("a1.txt", "a2.txt"):
        _write(tmp_path / "ar" / name, brief_ar)
    for name in ("e1.txt", "e2.txt"):
        _write(tmp_path / "en" / name, brief_en)
    _write(tmp_path / "ar" / "x.txt", other_ar)
    _write(tmp_path / "en" / "y.txt", other_en)
    hint = tmp_path / "hints.tsv"
    hint.write_text("# known pairs\na1.txt\te2.txt\na2.txt\te1.txt\n", encoding="utf-8")
    assert _align_jsonl(tmp_path / "ar", tmp_path / "en") == {"x.txt": "y.txt"}
    assert _align_jsonl(tmp_path / "ar", tmp_path / "en", "--pairs-hint", hint) == {
        "a1.txt": "e2.txt", "a2.txt": "e1.txt", "x.txt": "y.txt"}
    # a hint is evidence, not an order: a pair that shares nothing is still not made
    hint.write_text("a1.txt\te2.txt\nx.txt\te1.txt\n", encoding="utf-8")
    pairs = _align_jsonl(tmp_path / "ar", tmp_path / "en", "--pairs-hint", hint)
    assert pairs["a1.txt"] == "e2.txt" and pairs.get("x.txt") != "e1.txt"
    hint.write_text("a1.txt\te2.txt\na9.txt\te1.txt\n", encoding="utf-8")
    result = run_cli("align", tmp_path / "ar", tmp_path / "en", "--no-bridge", "--no-store",
                     "--pairs-hint", hint, "--db", tmp_path / "c.sqlite")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1
    assert f"{hint}: line 2" in lines[0] and "a9.txt" in lines[0] and "Arabic folder" in lines[0]
