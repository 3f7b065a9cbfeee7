"""The alignment editor's JSON API over real HTTP (`translate review` subprocess, real store): the shapes
of issue 19, CSRF, 400 for ops that cannot apply (nothing changes), 409 for a stale view, undo."""
from __future__ import annotations

import sqlite3

import pytest
from aligned_story import ARABIC, ENGLISH, EXPECTED, align_story, assert_consistent
import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_review import Server, csrf_of
from test_team_review import Client, add_user


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    db, _ = align_story(tmp_path_factory.mktemp("align-api"))
    server = Server(db)
    token = csrf_of(web.get(server.base + "/").text)
    yield db, server, token
    server.stop()


def post(server, token, path, body, csrf=True):
    headers = {"X-CSRF-Token": token} if csrf else {}
    return web.post(server.base + path, json=body, headers=headers)


def test_list_and_get_have_the_issue_shape(served):
    _, server, _ = served
    listed = web.get(server.base + "/api/alignments").json()
    assert len(listed) == 1
    entry = listed[0]
    assert {"id", "ar_file", "en_file", "rows", "confirmed", "non_1_1"} <= set(entry)
    assert entry["ar_file"].endswith("story.ar.txt") and entry["en_file"].endswith("story.en.txt")
    assert (entry["rows"], entry["non_1_1"]) == (len(EXPECTED), 3)
    got = web.get(server.base + f"/api/alignments/{entry['id']}").json()
    assert got["ar"] == ARABIC and got["en"] == ENGLISH
    assert [(r["ar"], r["en"]) for r in got["rows"]] == EXPECTED
    assert all(r["status"] in ("auto", "confirmed") for r in got["rows"])
    assert all((r["score"] is None) == (not r["ar"] or not r["en"]) for r in got["rows"])
    assert web.get(server.base + "/api/alignments/999").status_code == 404


def test_ops_need_the_csrf_header_and_cannot_apply_answers_400_changing_nothing(served):
    db, server, token = served
    [entry] = web.get(server.base + "/api/alignments").json()
    path = f"/api/alignments/{entry['id']}/ops"
    before = web.get(server.base + f"/api/alignments/{entry['id']}").json()
    assert post(server, token, path, {"op": "merge", "row": 0}, csrf=False).status_code == 403
    for body in ({"op": "up", "row": 0, "side": "ar"}, {"op": "up", "row": "x", "side": "ar"},
                 {"op": "down", "row": 40, "side": "en"}, {"op": "fly", "row": 0}, {"op": "split", "row": 0},
                 {"op": "split_sentence", "side": "en", "at": 0, "offset": 0},
                 {"op": "join_sentences", "side": "en", "at": 3}, {"op": "merge", "row": 0, "version": "old"}):
        response = post(server, token, path, body)
        assert response.status_code == 400, (body, response.text)
        error = response.json()["error"]
        assert error and "\n" not in error
    response = web.post(server.base + path, content=b"{not json", headers={"X-CSRF-Token": token,
                                                                            "Content-Type": "application/json"})
    assert response.status_code == 400
    assert web.get(server.base + f"/api/alignments/{entry['id']}").json() == before


def test_an_op_answers_the_new_alignment_a_stale_view_gets_409_and_undo_restores(served):
    db, server, token = served
    [entry] = web.get(server.base + "/api/alignments").json()
    base = f"/api/alignments/{entry['id']}"
    seen = web.get(server.base + base).json()
    # the acceptance shape: no version, no reviewer
    moved = post(server, token, base + "/ops", {"op": "up", "row": 2, "side": "en"})
    assert moved.status_code == 200, moved.text
    after = moved.json()
    assert [(r["ar"], r["en"]) for r in after["rows"]] == [([0], [0]), ([1, 2], [1, 2]), ([3], [3]), ([4], [])]
    assert after["rows"][1]["status"] == "confirmed" and after["version"] == seen["version"] + 1
    assert web.get(server.base + base).json() == after
    # the pair list counts the pairs the links make now: the replaced pair is history, not a pair to review
    counts = web.get(server.base + "/api/counts").json()["store"]
    assert counts["total"] == 3 and counts["pending"] == 3
    listed = web.get(server.base + "/").text
    assert f'id="pair-{after["rows"][1]["pair"]}"' in listed
    assert f'id="pair-{seen["rows"][1]["pair"]}"' not in listed
    # a second reviewer still looking at the old rows
    stale = post(server, token, base + "/ops", {"op": "merge", "row": 0, "version": seen["version"],
                                                "reviewer": "second"})
    assert stale.status_code == 409
    assert stale.json()["alignment"] == after
    with sqlite3.connect(db) as conn:
        log = conn.execute("SELECT op, reviewer FROM link_log ORDER BY id").fetchall()
    assert log[-1] == ("up", "api")
    undone = post(server, token, base + "/undo", {"version": after["version"], "reviewer": "first"})
    assert undone.status_code == 200, undone.text
    assert [(r["ar"], r["en"]) for r in undone.json()["rows"]] == EXPECTED
    again = post(server, token, base + "/undo", {})
    assert again.status_code == 400 and "nothing to undo" in again.json()["error"]


def test_the_pages_link_the_alignment(served):
    _, server, _ = served
    [entry] = web.get(server.base + "/api/alignments").json()
    listing = web.get(server.base + "/align").text
    assert f'href="/align/{entry["id"]}"' in listing
    page = web.get(server.base + f"/align/{entry['id']}")
    assert page.status_code == 200 and "story.en.txt" in page.text
    assert web.get(server.base + "/align/77").status_code == 404


def test_aligned_pairs_and_their_document_link_to_the_alignment(served):
    db, server, _ = served
    [entry] = web.get(server.base + "/api/alignments").json()
    got = web.get(server.base + f"/api/alignments/{entry['id']}").json()
    listing = web.get(server.base + "/").text
    for k, row in enumerate(got["rows"]):
        if row["pair"] is not None:
            assert f'href="/align/{entry["id"]}#row-{k}"' in listing
    with sqlite3.connect(db) as conn:
        ar_document = conn.execute("SELECT id FROM documents WHERE lang = 'ar'").fetchone()[0]
    document = web.get(server.base + f"/doc/{ar_document}").text
    assert f'href="/align/{entry["id"]}"' in document


json_values = st.one_of(st.none(), st.booleans(), st.integers(-3, 12), st.integers(10 ** 18, 10 ** 30),
                        st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=5), st.lists(st.integers(0, 3), max_size=2))

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.fixed_dictionaries({}, optional={
    "op": st.one_of(st.sampled_from(["up", "down", "merge", "split", "gap", "close", "swap", "split_sentence",
                                     "join_sentences", "confirm", "confirm_to", "realign"]), json_values),
    "row": json_values, "side": st.one_of(st.sampled_from(["ar", "en"]), json_values), "at": json_values,
    "offset": json_values, "version": json_values}))
def test_any_body_gets_an_answer_never_a_server_error_and_the_invariant_holds(served, body):
    from translate.store import Store

    db, server, token = served
    response = post(server, token, "/api/alignments/1/ops", body)
    assert response.status_code in (200, 400, 409), (body, response.text)
    if response.status_code != 200:
        assert "\n" not in response.json()["error"]
    with Store(db, readonly=True) as store:
        assert_consistent(store, 1)


def test_in_team_review_the_alignment_pages_show_who_is_signed_in_and_ops_record_the_tokens_reviewer(tmp_path):
    db, _ = align_story(tmp_path)
    lead, reviewer = add_user(db, "Nadia", "lead"), add_user(db, "Layla")
    server = Server(db, "--overlap", "0")
    try:
        assert web.get(server.base + "/align").status_code == 401
        layla, nadia = Client(server, reviewer), Client(server, lead)
        [entry] = layla.http.get("/api/alignments").json()
        for client, name, is_lead in ((layla, "Layla", False), (nadia, "Nadia", True)):
            for page in ("/align", f"/align/{entry['id']}"):
                html = client.http.get(page).text
                assert f'value="{name}" readonly' in html and "Signed in as" in html, page
                assert ('href="/adjudicate"' in html) == is_lead, page
        # the name in the body is ignored: the link's reviewer is the token's
        moved = layla.post(f"/api/alignments/{entry['id']}/ops", {"op": "up", "row": 2, "side": "en",
                                                                   "reviewer": "Mallory"})
        assert moved.status_code == 200, moved.text
        with sqlite3.connect(db) as con:
            names = {r[0] for r in con.execute("SELECT reviewer FROM links WHERE status = 'confirmed'")}
        assert names == {"Layla"}
        layla.close()
        nadia.close()
    finally:
        server.stop()
