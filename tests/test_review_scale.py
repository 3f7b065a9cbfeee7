"""The review page at corpus scale, over HTTP on a real SQLite store: orders and keyset paging, counts,
next pending, reject reasons (stored, filtered, exported), edits scored again, origins, the document and
stats pages, bad ids, body limits, and exposure beyond loopback (`translate review --host`)."""
from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from conftest import run_cli
from test_review import Server, csrf_of, make_store, row_ids
import web
from translate.review import create_app
from translate.store import Store

PAIRS = [(f"قال التقرير رقم {i} إن الأسعار ارتفعت.", f"Report number {i} said prices rose.", round((i * 37 % 100) / 100, 2))
         for i in range(130)]


@pytest.fixture
def served(tmp_path):
    db = tmp_path / "corpus.sqlite"
    ids = make_store(db, {"news/a.txt": PAIRS[:70], "news/b.txt": PAIRS[70:]})
    client = TestClient(create_app(db, reviewer="tester"), base_url="http://127.0.0.1")
    csrf = csrf_of(client.get("/").text)
    client.headers["X-CSRF-Token"] = csrf
    return db, ids, client


def sql(db: Path, query: str, *args):
    with sqlite3.connect(db) as con:
        return con.execute(query, args).fetchall()


def position_line(html: str) -> str:
    return re.sub(r"<[^>]+>", "", re.search(r'id="position"[^>]*>(.*?)</p>', html, re.S).group(1)).strip()


def walk(client: TestClient, url: str) -> tuple[list[int], list[str]]:
    """Every row id through the next links, and the position line of each page."""
    seen, positions = [], []
    while url:
        html = client.get(url).text
        seen += row_ids(html)
        positions.append(position_line(html))
        link = re.search(r'<a id="next-page" href="([^"]+)"', html)
        url = link.group(1).replace("&amp;", "&") if link else None
    return seen, positions


def test_each_order_pages_through_every_pair_once_with_positions(served):
    db, ids, client = served
    scores = dict(sql(db, "SELECT translation_id, score FROM scores"))
    for sort, expected in (("doc", ids),
                           ("score", sorted(ids, key=lambda i: (scores[i], i))),
                           ("-score", sorted(ids, key=lambda i: (-scores[i], -i)))):
        seen, positions = walk(client, f"/?sort={sort}")
        assert seen == expected, sort
        assert positions[0].startswith("Pairs 1–50 of 130") and positions[1].startswith("Pairs 51–100 of 130")
        assert positions[2].startswith("Pairs 101–130 of 130")
        # back from the last page gives the page before it, with its position
        html = client.get(f"/?sort={sort}&after={seen[99]}&at=101").text
        back = re.search(r'<a id="prev-page" href="([^"]+)"', html).group(1).replace("&amp;", "&")
        html = client.get(back).text
        assert row_ids(html) == seen[50:100] and position_line(html).startswith("Pairs 51–100 of 130")
    # a page opened at a pair has its position counted once shown
    html = client.get(f"/?from={ids[60]}").text
    assert position_line(html).startswith("Pairs …–… of 130") and f'data-count-from="{ids[60]}"' in html
    assert client.get("/api/position", params={"id": ids[60]}).json() == {"position": 61}
    assert client.get("/api/position", params={"id": ids[60], "sort": "score", "min": "0.5"}).json()[
        "position"] == 1 + sum(1 for i in ids if (scores[i], i) < (scores[ids[60]], ids[60]) and scores[i] >= 0.5)


def test_counts_on_the_page_are_the_sql_counts(served):
    db, ids, client = served
    for verb, pair in (("approve", ids[0]), ("reject", ids[1]), ("approve", ids[80])):
        assert client.post(f"/api/pairs/{pair}/{verb}", json={}).status_code == 200
    store = dict(sql(db, "SELECT status, COUNT(*) FROM translations GROUP BY status"))
    data = client.get("/api/counts").json()
    assert {k: data["store"][k] for k in store} == store and data["store"]["total"] == 130
    in_range = dict(sql(db, "SELECT t.status, COUNT(*) FROM translations t JOIN scores sc ON sc.translation_id = t.id"
                            " WHERE sc.score >= 0.2 AND sc.score <= 0.6 GROUP BY t.status"))
    data = client.get("/api/counts?min=0.2&max=0.6").json()
    assert {k: data["filter"][k] for k in in_range} == in_range
    assert data["filter"]["total"] == sum(in_range.values()) and data["store"]["total"] == 130
    # a filtered page shows the store's counts at once and asks for the filter's once shown
    html = client.get("/?min=0.2&max=0.6").text
    assert 'data-lazy="1"' in html
    shown = re.search(r'id="counts-store".*?count-total">([\d,]+)<', html, re.S).group(1)
    assert int(shown.replace(",", "")) == 130


def test_next_pending_skips_decided_pairs_across_pages(served):
    db, ids, client = served
    sql(db, "UPDATE translations SET status = 'approved' WHERE id < ?", ids[75])
    found = client.get("/api/next-pending", params={"after": ids[3]}).json()
    assert found["id"] == ids[75] and found["url"] == f"/?from={ids[75]}#pair-{ids[75]}"
    assert row_ids(client.get(found["url"].split("#")[0]).text)[0] == ids[75]
    sql(db, "UPDATE translations SET status = 'approved'")
    assert client.get("/api/next-pending", params={"after": ids[3]}).json() == {"id": None}


def test_reject_reason_is_stored_filtered_exported_and_undone(served, tmp_path):
    db, ids, client = served
    assert client.post(f"/api/pairs/{ids[2]}/reject", json={}).json()["changed"]
    reason = client.post(f"/api/pairs/{ids[2]}/reason", json={"reason": "misaligned", "comment": "belongs to #4"})
    assert reason.status_code == 200 and reason.json()["pair"]["reject_reason"] == "misaligned"
    assert client.post(f"/api/pairs/{ids[3]}/reason", json={"reason": "omission"}).status_code == 400  # not rejected
    assert client.post(f"/api/pairs/{ids[2]}/reason", json={"reason": "because"}).status_code == 400
    assert sql(db, "SELECT reject_reason, reject_comment FROM translations WHERE id = ?", ids[2]) == [
        ("misaligned", "belongs to #4")]
    assert row_ids(client.get("/?status=rejected&reason=misaligned").text) == [ids[2]]
    assert row_ids(client.get("/?reason=omission").text) == []
    out = tmp_path / "out.jsonl"
    assert run_cli("export", "--db", db, "--format", "jsonl", "--status", "rejected", "-o", out).returncode == 0
    record = json.loads(out.read_text(encoding="utf-8"))
    assert (record["reject_reason"], record["reject_comment"]) == ("misaligned", "belongs to #4")
    # undo the reason: rejected, no reason; undo the rejection: pending again
    log = reason.json()["log_ids"]
    assert client.post("/api/undo", json={"log_ids": log}).status_code == 200
    assert sql(db, "SELECT status, reject_reason FROM translations WHERE id = ?", ids[2]) == [("rejected", None)]
    assert client.post(f"/api/pairs/{ids[2]}/approve", json={}).status_code == 200
    assert sql(db, "SELECT status, reject_reason FROM translations WHERE id = ?", ids[2]) == [("approved", None)]


def test_an_edit_is_scored_again_and_undo_restores_the_score(served, tmp_path):
    db, ids, client = served
    (before,) = sql(db, "SELECT score, label, signals FROM scores WHERE translation_id = ?", ids[5])
    edit = client.post(f"/api/pairs/{ids[5]}/edit", json={"text": "Prices."})
    pair = edit.json()["pair"]
    assert pair["status"] == "edited" and pair["target"] == "Prices."
    (after,) = sql(db, "SELECT score, label, signals FROM scores WHERE translation_id = ?", ids[5])
    assert after[0] != before[0] and json.loads(after[2])["edited"] is True
    assert pair["score"] == after[0]
    assert any("shorter" in r for r in pair["reasons"])          # the reasons follow the new text
    history = client.get(f"/api/pairs/{ids[5]}/history").json()
    assert history["edits"][0]["old_score"] == before[0] and history["origin_text"] == "machine translation"
    out = tmp_path / "out.jsonl"
    assert run_cli("export", "--db", db, "--format", "jsonl", "--status", "edited", "-o", out).returncode == 0
    record = json.loads(out.read_text(encoding="utf-8"))
    assert (record["target"], record["score"]) == ("Prices.", after[0])
    assert client.post("/api/undo", json={"log_ids": edit.json()["log_ids"]}).status_code == 200
    assert sql(db, "SELECT score, label, signals FROM scores WHERE translation_id = ?", ids[5]) == [before]


def test_bulk_approve_covers_the_whole_filter_and_one_undo_reverts_it(served):
    db, ids, client = served
    client.post(f"/api/pairs/{ids[0]}/reject", json={})            # a decision it must keep
    wanted = {r[0] for r in sql(db, "SELECT t.id FROM translations t JOIN scores sc ON sc.translation_id = t.id"
                                    " WHERE t.status = 'pending' AND sc.score >= 0.6")}
    assert len(wanted) > 50                                          # more than a page
    count = client.post("/api/bulk-approve", json={"min_score": 0.6, "count_only": True}).json()["count"]
    assert count == len(wanted) and sql(db, "SELECT COUNT(*) FROM review_log") == [(1,)]
    done = client.post("/api/bulk-approve", json={"min_score": 0.6}).json()
    assert done["count"] == len(wanted)
    assert {r[0] for r in sql(db, "SELECT id FROM translations WHERE status = 'approved'")} == wanted
    # within one document only
    doc_b = sql(db, "SELECT id FROM documents WHERE path = 'news/b.txt'")[0][0]
    assert client.post(f"/api/bulk-approve?doc={doc_b}", json={"min_score": 0.0, "count_only": True}).json()[
        "count"] == sql(db, "SELECT COUNT(*) FROM translations t JOIN segments s ON s.id = t.segment_id"
                            " WHERE s.document_id = ? AND t.status = 'pending'", doc_b)[0][0]
    undone = client.post("/api/undo", json={"batch": done["batch"]}).json()
    assert undone["count"] == len(wanted)
    assert sql(db, "SELECT status, COUNT(*) FROM translations GROUP BY status") == [("pending", 129), ("rejected", 1)]


def test_origin_and_bridge_of_an_aligned_pair_are_shown(served):
    db, ids, client = served
    with Store(db) as s:
        segment = s.db.execute("SELECT id FROM segments ORDER BY id LIMIT 1").fetchone()[0]
        run = s.start_run("align", None, {})
        with s.transaction() as tx:
            pair = s.add_translation(tx, segment, "The report said prices went up.", None, run, 0.7, "good", {},
                                     origin="human", bridge="Report number 0 said prices rose.")
    html = client.get(f"/?from={pair}").text
    row = html[html.index(f'id="pair-{pair}"'):]
    row = row[:row.index("</tr>")]
    assert "aligned human translation" in row and "MT bridge:" in row and "Report number 0 said prices rose." in row
    assert client.get(f"/api/pairs/{pair}/history").json()["origin_text"] == "aligned human translation"


def test_document_view_context_and_stats(served):
    db, ids, client = served
    doc_a = sql(db, "SELECT id FROM documents WHERE path = 'news/a.txt'")[0][0]
    html = client.get(f"/doc/{doc_a}").text
    assert row_ids(html) == ids[:70]
    context = client.get(f"/api/pairs/{ids[10]}/context").json()
    assert (context["before"]["id"], context["after"]["id"]) == (ids[9], ids[11])
    assert client.get(f"/api/pairs/{ids[0]}/context").json()["before"] is None
    assert client.get(f"/api/pairs/{ids[69]}/context").json()["after"] is None     # not into the next document
    client.post(f"/api/pairs/{ids[1]}/reject", json={})
    client.post(f"/api/pairs/{ids[1]}/reason", json={"reason": "omission"})
    stats = client.get("/stats").text
    assert "<svg" in stats and "130 pairs" in stats and "omission" in stats and "news/a.txt" in stats


@pytest.mark.parametrize("url", ["/?doc=99999999999999999999999", "/?after=99999999999999999999999",
                                 "/?from=-1", "/?before=1e3", "/?at=x&after=1", "/?sort=worst",
                                 "/?reason=bored", "/api/next-pending?after=18446744073709551616"])
def test_bad_numbers_in_the_address_are_400(served, url):
    _, _, client = served
    response = client.get(url)
    assert response.status_code == 400 and response.text.count("\n") <= 1


@pytest.mark.parametrize("url", ["/doc/99999999999999999999999", "/doc/abc", "/api/pairs/99999999999999999999999/history",
                                 "/api/pairs/9223372036854775807/context", "/?from=9223372036854775807"])
def test_unknown_or_impossible_ids_are_404(served, url):
    _, _, client = served
    assert client.get(url).status_code == 404
    assert client.get("/api/position", params={"id": "9223372036854775807"}).status_code == 404


def test_posts_with_impossible_ids_or_large_bodies_are_refused_before_the_store(served):
    db, ids, client = served
    assert client.post("/api/pairs/99999999999999999999999/approve", json={}).status_code == 404
    assert client.post("/api/undo", json={"log_ids": ["99999999999999999999999"]}).status_code == 400
    big = b'{"text": "' + b"x" * 2_000_000 + b'"}'
    response = client.post(f"/api/pairs/{ids[0]}/edit", content=big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    # without the CSRF token nothing is read or written, whatever the size
    without_token = TestClient(client.app, base_url="http://127.0.0.1")
    response = without_token.post(f"/api/pairs/{ids[0]}/approve", json={"reviewer": "x"})
    assert response.status_code == 403
    assert sql(db, "SELECT COUNT(*) FROM review_log") == [(0,)]


def test_a_chunked_body_past_the_limit_is_cut_off(tmp_path):
    db = tmp_path / "corpus.sqlite"
    ids = make_store(db, {"a.txt": PAIRS[:2]})
    server = Server(db, "--reviewer", "tester")
    try:
        csrf = csrf_of(web.get(server.base + "/").text)

        def chunks():
            yield b'{"text": "'
            for _ in range(40):
                yield b"x" * 100_000
            yield b'"}'
        response = web.post(f"{server.base}/api/pairs/{ids[0]}/edit", content=chunks(), timeout=30,
                              headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"})
        assert response.status_code == 413
    finally:
        server.stop()
    assert sql(db, "SELECT COUNT(*) FROM edits") == [(0,)]


def test_listening_beyond_loopback_needs_a_token_and_keeps_a_host_allow_list(tmp_path):
    db = tmp_path / "corpus.sqlite"
    make_store(db, {"a.txt": PAIRS[:2]})
    server = Server(db, "--host", "0.0.0.0", "--allow-host", "review.example")
    try:
        assert web.get(server.base + "/").status_code == 401               # no token: nothing readable
        assert web.get(server.base + "/healthz").status_code == 401
    finally:
        err = server.stop()
    token = re.search(r"\?token=([\w-]+)", err).group(1)                     # generated and printed
    assert "other machines on the network can reach the page" in err and "review.example" in err
    server = Server(db, "--host", "0.0.0.0", "--allow-host", "review.example", "--token", token)
    try:
        ok = web.get(server.base + "/healthz", params={"token": token}, headers={"Host": "review.example"})
        assert ok.status_code in (200, 303)
        rebinding = web.get(server.base + "/healthz", params={"token": token}, headers={"Host": "evil.example"})
        assert rebinding.status_code == 400
    finally:
        server.stop()


def test_a_store_made_before_migration_3_gets_the_search_index_and_reasons(tmp_path, monkeypatch):
    import translate.store.schema as store_module

    db = tmp_path / "old.sqlite"
    current = store_module.MIGRATIONS
    monkeypatch.setattr(store_module, "MIGRATIONS", [m for m in current if m[0] < 3])
    ids = make_store(db, {"news/un.txt": [("قالت الأمم المتحدة إن المساعدات وصلت.", "The UN said aid arrived.", 0.7)]})
    assert sql(db, "SELECT MAX(version) FROM schema_migrations") == [(2,)]
    monkeypatch.setattr(store_module, "MIGRATIONS", current)
    client = TestClient(create_app(db), base_url="http://127.0.0.1")           # opening it migrates
    assert 3 in {v for (v,) in sql(db, "SELECT version FROM schema_migrations")}
    assert row_ids(client.get("/", params={"q": "الامم"}).text) == ids
    assert sql(db, "SELECT reject_reason FROM translations") == [(None,)]


def test_superseded_pairs_are_hidden_by_default_and_counted_out(served):
    db, ids, client = served
    # a re-run with other segmentation settings superseded the first ten spans of document a
    sql(db, "UPDATE segments SET superseded_at = '2026-12-01T00:00:00+00:00' WHERE id IN"
            " (SELECT segment_id FROM translations WHERE id <= ?)", ids[9])
    walked, _ = walk(client, "/")
    assert walked == ids[10:]
    assert sorted(walk(client, "/?superseded=1")[0]) == ids
    # positions count only the pairs shown, in every order
    for sort in ("doc", "score", "-score"):
        order, _ = walk(client, f"/?sort={sort}")
        for rank in (0, 37, len(order) - 1):
            assert client.get("/api/position", params={"id": order[rank], "sort": sort}).json() == {
                "position": rank + 1}
    current = dict(sql(db, "SELECT t.status, COUNT(*) FROM translations t JOIN segments s ON s.id = t.segment_id"
                           " WHERE s.superseded_at IS NULL GROUP BY t.status"))
    counts = client.get("/api/counts").json()["store"]
    assert counts["total"] == 120 and counts["pending"] == current["pending"]
    assert client.get("/api/counts?min=0.5").json()["filter"]["total"] == sql(
        db, "SELECT COUNT(*) FROM translations t JOIN segments s ON s.id = t.segment_id JOIN scores sc"
            " ON sc.translation_id = t.id WHERE s.superseded_at IS NULL AND sc.score >= 0.5")[0][0]
    assert client.get("/api/counts?superseded=1").json()["filter"]["total"] == 130


def test_a_store_that_cannot_be_written_is_browsed_and_actions_get_503(tmp_path):
    import os
    import shutil

    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: chmod cannot make a file read-only for root")
    prefix = (["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner,-linux_immutable", "--"]
              if os.geteuid() == 0 else [])
    folder = tmp_path / "store"
    folder.mkdir()
    db = folder / "corpus.sqlite"
    ids = make_store(db, {"a.txt": PAIRS[:3]})
    with Store(db) as s:                           # merged into the main file: no -wal left to replay
        s.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.chmod(db, 0o444)
    os.chmod(folder, 0o555)
    try:
        server = Server(db, "--reviewer", "tester", prefix=prefix)
        try:
            page = web.get(server.base + "/")
            assert page.status_code == 200 and row_ids(page.text) == ids
            assert web.get(server.base + "/stats").status_code == 200
            answer = web.post(f"{server.base}/api/pairs/{ids[0]}/approve", json={},
                                headers={"X-CSRF-Token": csrf_of(page.text)})
            assert answer.status_code == 503 and "cannot be written" in answer.json()["error"]
        finally:
            err = server.stop()
        assert "cannot be written" in err
    finally:
        os.chmod(folder, 0o755)
        os.chmod(db, 0o644)
    assert sql(db, "SELECT COUNT(*) FROM review_log") == [(0,)]
