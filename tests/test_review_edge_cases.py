"""The review server's edge cases (issue 24, item 6), over HTTP against a real `translate review` process and
a real store: deeply nested JSON, what a reviewer name may be, the context of a sentence that is both
machine-translated and aligned, the stats page's counts after a re-segmentation, and scores shown next to
the legend's thresholds."""
from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from pathlib import Path

import httpx

import pytest

from test_review import Server, csrf_of
import web
from translate.score import BAD_THRESHOLD, GOOD_THRESHOLD, signals_for
from translate.store import NewSegment, Store

SENTENCES = [("ذهب الولد إلى المدرسة صباحا.", "The boy went to school in the morning."),
             ("الجو جميل اليوم في القاهرة.", "The weather is nice today in Cairo."),
             ("قال الوزير إن الاجتماع انتهى.", "The minister said the meeting was over.")]
# just under the good threshold, just under the bad one, and one well inside each label
SCORES = [GOOD_THRESHOLD - 0.0005, BAD_THRESHOLD - 0.0005, 0.75]


def label_of(score: float) -> str:
    return "good" if score >= GOOD_THRESHOLD else "check" if score >= BAD_THRESHOLD else "bad"


def build_store(path: Path) -> dict[str, list[int]]:
    """One document both machine-translated (one pair per sentence) and aligned with its human translation
    (one pair per sentence, on the same segments), as `run` then `align` of one article store it."""
    store = Store(path)
    model = store.model_id("tiny-ar-en", "0" * 64)
    run = store.start_run("translate", model, {"test": True})
    text = "\n".join(source for source, _ in SENTENCES)
    document_id, _ = store.add_document("news/a.txt", text, hashlib.sha256(text.encode()).hexdigest())
    segments, start = [], 0
    for i, (source, _) in enumerate(SENTENCES):
        segments.append(NewSegment(i, start, start + len(source), i, 0, source))
        start += len(source) + 1
    segment_ids = store.add_segments(document_id, segments)
    ids: dict[str, list[int]] = {"mt": [], "human": []}
    with store.transaction() as db:
        for segment_id, (source, target), score in zip(segment_ids, SENTENCES, SCORES):
            ids["mt"].append(store.add_translation(db, segment_id, "MT: " + target, model, run, score,
                                                   label_of(score), signals_for(source, target)))
            ids["human"].append(store.add_translation(db, segment_id, target, None, run, 0.9, "good",
                                                      signals_for(source, target), origin="human",
                                                      bridge="MT: " + target))
    store.close()
    return ids


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    db = tmp_path_factory.mktemp("edge") / "corpus.sqlite"
    ids = build_store(db)
    server = Server(db)
    token = csrf_of(web.get(server.base + "/").text)
    yield db, ids, server, token
    server.stop()


def post(server, token, path, body: bytes | str) -> httpx.Response:
    return web.post(server.base + path, content=body, timeout=30,
                      headers={"X-CSRF-Token": token, "Content-Type": "application/json"})


def statuses(db: Path) -> dict[int, str]:
    with sqlite3.connect(db) as con:
        return dict(con.execute("SELECT id, status FROM translations"))


def test_deeply_nested_json_is_a_400_not_a_server_error(served):
    db, ids, server, token = served
    before = statuses(db)
    for body in ("[" * 100_000 + "]" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000):
        answer = post(server, token, f"/api/pairs/{ids['mt'][0]}/approve", body)
        assert answer.status_code == 400, answer.text
        assert "nested" in answer.json()["error"]
    assert statuses(db) == before


@pytest.mark.parametrize("reviewer", [42, 3.5, True, {"name": "x"}, ["x"], "ali\x00", "a\nb", "x" * 101])
def test_reviewer_must_be_a_short_printable_string(served, reviewer):
    db, ids, server, token = served
    before = statuses(db)
    answer = post(server, token, f"/api/pairs/{ids['mt'][1]}/approve", json.dumps({"reviewer": reviewer}))
    assert answer.status_code == 400, answer.text
    assert "reviewer" in answer.json()["error"]
    assert statuses(db) == before


def test_a_plain_reviewer_name_is_saved(served):
    db, ids, server, token = served
    answer = post(server, token, f"/api/pairs/{ids['mt'][2]}/approve", '{"reviewer": "  Salma  "}')
    assert answer.status_code == 200, answer.text
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT reviewer FROM review_log WHERE translation_id = ?",
                           (ids["mt"][2],)).fetchall() == [("Salma",)]


def test_context_of_a_sentence_shows_its_neighbours_not_its_other_translation(served):
    _, ids, server, _ = served
    middle = web.get(f"{server.base}/api/pairs/{ids['mt'][1]}/context").json()
    assert middle["before"]["id"] == ids["mt"][0] and middle["after"]["id"] == ids["mt"][2]
    assert middle["after"]["source"] == SENTENCES[2][0]
    first = web.get(f"{server.base}/api/pairs/{ids['mt'][0]}/context").json()
    assert first["before"] is None and first["after"]["id"] == ids["mt"][1]
    # the human translations have their own neighbours, the human translations around them
    human = web.get(f"{server.base}/api/pairs/{ids['human'][1]}/context").json()
    assert human["before"]["id"] == ids["human"][0] and human["after"]["id"] == ids["human"][2]
    last = web.get(f"{server.base}/api/pairs/{ids['human'][2]}/context").json()
    assert last["after"] is None and last["before"]["target"] == SENTENCES[1][1]


def test_scores_are_shown_on_the_side_of_the_threshold_their_label_is(served):
    _, ids, server, _ = served
    page = web.get(server.base + "/").text
    shown = {int(i): (label, value) for i, label, value in re.findall(
        r'id="pair-(\d+)".*?<span class="score-value label-(\w+)"[^>]*>([^<]+)</span>', page, re.S)}
    for pair_id, score in zip(ids["mt"], SCORES):
        label, value = shown[pair_id]
        assert label == label_of(score)
        assert label_of(float(value)) == label, (score, value, label)   # the figure agrees with the legend
    assert shown[ids["mt"][0]][1] == f"{GOOD_THRESHOLD - 0.01:.2f}"
    # the document page shows the same figures
    doc_page = web.get(server.base + "/doc/1").text
    assert f">{GOOD_THRESHOLD - 0.01:.2f}<" in doc_page and f">{GOOD_THRESHOLD:.2f}<" not in doc_page.split("<tbody")[-1]


def test_stats_page_counts_only_the_current_segmentation(tmp_path, tiny_model):
    """A document run again with another --max-words: the old segmentation's pairs are superseded and left
    out of the header's count; the charts and tables below it must count the same pairs."""
    from conftest import run_cli

    article = tmp_path / "a.txt"
    words = " ".join(["وقال الوزير في المؤتمر الصحفي إن الحكومة ستعمل على تحسين الخدمات،"] * 4)
    article.write_text(words + "\nذهب الولد إلى المدرسة صباحا.\n", encoding="utf-8")
    db = tmp_path / "corpus.sqlite"
    for max_words in ("0", "12"):
        result = run_cli("run", article, "--model", tiny_model, "--db", db, "--beam", "1", "--max-words", max_words)
        assert result.returncode == 0, result.stderr
    with sqlite3.connect(db) as con:
        every = con.execute("SELECT COUNT(*) FROM translations").fetchone()[0]
        current = con.execute("SELECT COUNT(*) FROM translations t JOIN segments s ON s.id = t.segment_id"
                              " WHERE s.superseded_at IS NULL").fetchone()[0]
    assert every > current
    server = Server(db)
    try:
        page = web.get(server.base + "/stats").text
    finally:
        server.stop()
    header = int(re.search(r'id="stats-counts">([\d,]+) pairs', page).group(1).replace(",", ""))
    assert header == current
    by_status = sum(int(n.replace(",", "")) for n in re.findall(
        r"<figcaption>(?:pending|approved|edited|rejected) \(([\d,]+)\)</figcaption>", page))
    assert by_status == current
    documents = [int(n) for n in re.findall(r'<td><a href="/doc/\d+"[^>]*>[^<]*</a></td><td>(\d+)</td>', page)]
    assert sum(documents) == current


def test_scores_in_action_answers_and_history_use_the_same_cut(served):
    """What the page puts in a row after an action, and the score before an edit in the history."""
    _, ids, server, token = served
    pair_id = ids["mt"][0]                                       # scored just under the good threshold
    edited = post(server, token, f"/api/pairs/{pair_id}/edit",
                  json.dumps({"reviewer": "tester", "text": "The boy went to school in the morning."}))
    assert edited.status_code == 200, edited.text
    pair = edited.json()["pair"]
    assert label_of(float(pair["score_text"])) == label_of(pair["score"])
    history = web.get(f"{server.base}/api/pairs/{pair_id}/history").json()
    [edit] = history["edits"]
    assert edit["old_label"] == "check" and edit["old_score_text"] == f"{GOOD_THRESHOLD - 0.01:.2f}"
