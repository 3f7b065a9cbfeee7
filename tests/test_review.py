"""The review server over HTTP (real `translate review` subprocess, real SQLite store): escaping, CSRF,
token, binding, filters and keyset paging; and the review history rules of the store (undo, bulk)."""
from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

import pytest

from conftest import ROOT, run_cli
import web
from translate.review.decisions import ReviewDecisions
from translate.review.queries import ORDERS, Filter, ReviewQueries
from translate.score import signals_for
from translate.store import NewSegment, Store

SCRIPT_SOURCE = "<script>alert(1)</script> قال الوزير إن الاجتماع انتهى."
SCRIPT_TARGET = 'The minister said the meeting <img src=x onerror="alert(2)"> ended.'


def label_of(score: float) -> str:
    return "good" if score >= 0.7 else "check" if score >= 0.4 else "bad"


def make_store(path: Path, documents: dict[str, list[tuple[str, str, float]]]) -> list[int]:
    """A real store with one MT pair per (Arabic, English, score); returns the translation ids in order."""
    store = Store(path)
    model = store.model_id("tiny-ar-en", "0" * 64)
    run = store.start_run("translate", model, {"test": True})
    ids = []
    for name, pairs in documents.items():
        text = "\n".join(source for source, _, _ in pairs)
        document_id, _ = store.add_document(name, text, hashlib.sha256(text.encode()).hexdigest())
        segments, start = [], 0
        for i, (source, _, _) in enumerate(pairs):
            segments.append(NewSegment(i, start, start + len(source), i, 0, source))
            start += len(source) + 1
        segment_ids = store.add_segments(document_id, segments)
        with store.transaction() as db:
            for segment_id, (source, target, score) in zip(segment_ids, pairs):
                ids.append(store.add_translation(db, segment_id, target, model, run, score, label_of(score),
                                                 {**signals_for(source, target), "logprob": -0.4}))
    store.close()
    return ids


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`translate review` in a subprocess, until stopped."""

    def __init__(self, db: Path, *args: str, prefix: list[str] = ()):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [*prefix, sys.executable, "-m", "translate.cli", "review", "--db", str(db), "--port", str(self.port),
             *args],
            cwd=ROOT, env={**os.environ, "PYTHONIOENCODING": "utf-8"},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"review server exited: {self.proc.stderr.read()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("review server did not start in 30 s")
                time.sleep(0.05)

    def stop(self) -> str:
        self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err


def csrf_of(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)">', html).group(1)


def statuses(db: Path) -> dict[int, str]:
    with sqlite3.connect(db) as con:
        return dict(con.execute("SELECT id, status FROM translations"))


def row_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr class="pair [^"]*" id="pair-(\d+)"', html)]


# ---- fixtures ---------------------------------------------------------------------------------------
def corpus() -> dict[str, list[tuple[str, str, float]]]:
    first = [("ذهب الولد إلى المدرسة صباحا.", "The boy went to school in the morning.", 0.91),
             (SCRIPT_SOURCE, SCRIPT_TARGET, 0.55),
             ("الجو جميل اليوم في القاهرة.", "The weather is nice today in Cairo.", 0.35)]
    # a second document with enough pairs for three pages of 50
    second = [(f"الجملة رقم {i} من التقرير.", f"Sentence number {i} of the report.", (i % 10) / 10)
              for i in range(120)]
    return {"news/first.txt": first, "news/second.txt": second}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    db = tmp_path_factory.mktemp("review") / "corpus.sqlite"
    ids = make_store(db, corpus())
    server = Server(db, "--reviewer", "tester")
    yield db, ids, server
    server.stop()


# ---- HTTP -------------------------------------------------------------------------------------------
def test_corpus_text_is_escaped_in_the_page(served):
    _, _, server = served
    html = web.get(server.base + "/").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=" in html
    # the only scripts are the page's own file, and the policy forbids inline ones
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/review.js" defer>']
    csp = web.get(server.base + "/").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_arabic_cells_are_right_to_left(served):
    _, _, server = served
    html = web.get(server.base + "/").text
    cells = re.findall(r'<td class="source" lang="ar" dir="rtl">([^<]*)</td>', html)
    assert "ذهب الولد إلى المدرسة صباحا." in cells


def test_post_without_or_with_wrong_csrf_token_is_refused_and_changes_nothing(served):
    db, ids, server = served
    before = statuses(db)
    with sqlite3.connect(db) as con:
        log_before = con.execute("SELECT COUNT(*) FROM review_log").fetchone()[0]
    for headers in ({}, {"X-CSRF-Token": "wrong"}):
        response = web.post(f"{server.base}/api/pairs/{ids[0]}/approve", json={"reviewer": "x"}, headers=headers)
        assert response.status_code == 403
        assert "CSRF" in response.json()["error"]
        response = web.post(f"{server.base}/api/pairs/{ids[0]}/edit", json={"text": "changed", "reviewer": "x"},
                              headers=headers)
        assert response.status_code == 403
    form = web.post(server.base + "/api/bulk-approve", data={"ids": [str(i) for i in ids], "min_score": "0"})
    assert form.status_code == 403
    assert statuses(db) == before
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM review_log").fetchone()[0] == log_before
        assert con.execute("SELECT COUNT(*) FROM edits").fetchone()[0] == 0


def test_post_with_csrf_token_writes_status_and_log(served):
    db, ids, server = served
    token = csrf_of(web.get(server.base + "/").text)
    target = ids[-1]
    response = web.post(f"{server.base}/api/pairs/{target}/reject", json={"reviewer": "Amal"},
                          headers={"X-CSRF-Token": token})
    assert response.status_code == 200
    assert response.json()["pair"]["status"] == "rejected"
    assert statuses(db)[target] == "rejected"
    with sqlite3.connect(db) as con:
        row = con.execute("SELECT action, old_status, new_status, reviewer FROM review_log WHERE translation_id=?",
                          (target,)).fetchall()
    assert row == [("reject", "pending", "rejected", "Amal")]
    # an empty edit is refused with a message, and changes nothing
    response = web.post(f"{server.base}/api/pairs/{target}/edit", json={"text": "  ", "reviewer": "Amal"},
                          headers={"X-CSRF-Token": token})
    assert response.status_code == 400 and "empty" in response.json()["error"]
    assert statuses(db)[target] == "rejected"
    missing = web.post(f"{server.base}/api/pairs/999999/approve", json={}, headers={"X-CSRF-Token": token})
    assert missing.status_code == 404


def test_filters_by_status_score_document_and_text(served):
    db, ids, server = served
    get = lambda **q: row_ids(web.get(server.base + "/", params=q).text)  # noqa: E731
    with sqlite3.connect(db) as con:
        scores = dict(con.execute("SELECT translation_id, score FROM scores"))
        docs = dict(con.execute("SELECT path, id FROM documents"))
        first_doc_ids = {r[0] for r in con.execute(
            "SELECT t.id FROM translations t JOIN segments s ON s.id = t.segment_id WHERE s.document_id = ?",
            (docs["news/first.txt"],))}
    in_range = get(min="0.3", max="0.4")
    assert in_range and all(0.3 <= scores[i] <= 0.4 for i in in_range)
    assert get(doc=str(docs["news/first.txt"])) == sorted(first_doc_ids)
    assert get(q="alert(1)") == [ids[1]]                       # the source text
    assert get(q="weather is nice") == [ids[2]]                # the English
    assert get(q="القاهرة") == [ids[2]]                        # Arabic
    assert get(q="100%") == []                                 # LIKE wildcards are taken literally
    pending = get(status="pending")
    assert pending and all(statuses(db)[i] == "pending" for i in pending)
    assert web.get(server.base + "/", params={"status": "nonsense"}).status_code == 400
    assert web.get(server.base + "/", params={"min": "abc"}).status_code == 400


def test_keyset_pages_cover_every_pair_once_and_go_back(served):
    db, ids, server = served
    seen, url, pages = [], server.base + "/", []
    while url:
        html = web.get(url).text
        pages.append(row_ids(html))
        seen += pages[-1]
        link = re.search(r'<a id="next-page" href="([^"]+)"', html)
        url = server.base + link.group(1).replace("&amp;", "&") if link else None
    assert seen == sorted(ids)
    assert [len(p) for p in pages] == [50, 50, 23]
    last = web.get(server.base + "/", params={"after": pages[1][-1]}).text
    back = re.search(r'<a id="prev-page" href="([^"]+)"', last).group(1).replace("&amp;", "&")
    assert row_ids(web.get(server.base + back).text) == pages[1]


def test_default_binding_is_loopback_only(tmp_path):
    db = tmp_path / "corpus.sqlite"
    make_store(db, {"a.txt": corpus()["news/first.txt"][:1]})
    server = Server(db)
    try:
        check_loopback_only(server)
    finally:
        err = server.stop()
    assert f"at http://127.0.0.1:{server.port}/  (Ctrl+C stops)" in err


def check_loopback_only(server: Server) -> None:
    port_hex = f"{server.port:04X}"
    tcp = Path("/proc/net/tcp")
    if not tcp.exists():
        pytest.skip("no /proc/net/tcp on this system")
    listening = [line.split()[1] for line in tcp.read_text().splitlines()[1:]
                 if line.split()[1].endswith(":" + port_hex) and line.split()[3] == "0A"]
    assert listening == ["0100007F:" + port_hex]              # 127.0.0.1, little-endian
    tcp6 = Path("/proc/net/tcp6")
    if tcp6.exists():
        assert not [line for line in tcp6.read_text().splitlines()[1:]
                    if line.split()[1].endswith(":" + port_hex) and line.split()[3] == "0A"]
    # a request naming another host is refused (DNS rebinding)
    assert web.get(server.base + "/", headers={"Host": "evil.example"}).status_code == 400


def test_token_is_required_on_every_request(tmp_path):
    db = tmp_path / "corpus.sqlite"
    ids = make_store(db, {"a.txt": corpus()["news/first.txt"]})
    server = Server(db, "--token", "s3cret-token")
    try:
        for path in ("/", "/healthz", "/static/review.js", f"/api/pairs/{ids[0]}/history"):
            assert web.get(server.base + path).status_code == 401
        assert web.get(server.base + "/?token=wrong").status_code == 401
        assert web.post(f"{server.base}/api/pairs/{ids[0]}/approve", json={}).status_code == 401
        with httpx.Client(base_url=server.base, timeout=web.TIMEOUT) as client:
            first = client.get("/", params={"token": "s3cret-token", "status": "pending"})
            assert first.status_code == 303 and first.headers["location"] == "/?status=pending"
            assert "httponly" in first.headers["set-cookie"].lower()
            page = client.get("/?status=pending")          # the cookie now
            assert page.status_code == 200 and row_ids(page.text) == ids
            # the token does not replace the CSRF token
            assert client.post(f"/api/pairs/{ids[0]}/approve", json={"reviewer": "x"}).status_code == 403
            ok = client.post(f"/api/pairs/{ids[0]}/approve", json={"reviewer": "x"},
                             headers={"X-CSRF-Token": csrf_of(page.text)})
            assert ok.status_code == 200
    finally:
        err = server.stop()
    assert "?token=s3cret-token" in err                       # the printed address carries it
    assert statuses(db)[ids[0]] == "approved"


def test_review_of_a_missing_store_is_a_one_line_error(tmp_path):
    result = run_cli("review", "--db", tmp_path / "none.sqlite", "--port", str(free_port()))
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {tmp_path / 'none.sqlite'}: no such store"
    assert not (tmp_path / "none.sqlite").exists()


# ---- store review rules -----------------------------------------------------------------------------
@pytest.fixture
def store(tmp_path):
    db = tmp_path / "corpus.sqlite"
    ids = make_store(db, {"a.txt": corpus()["news/first.txt"]})
    with Store(db) as s:
        yield s, ids, ReviewDecisions(s)


def exported(store: Store, status: str | None = None) -> dict[int, str]:
    return {row["id"]: row["target"] for row in store.iter_pairs(status=status)}


def test_edit_keeps_machine_text_and_undo_withdraws_it_from_export(store):
    s, ids, review = store
    first = review.edit(ids[0], "  The boy walked to school.  ", "Amal")
    second = review.edit(ids[0], "The boy walked to school early.", "Omar")
    assert exported(s)[ids[0]] == "The boy walked to school early."
    assert review.edit(ids[0], "The boy walked to school early.", "Omar") is None   # no change, no log
    restored, skipped = review.undo([second], "Omar")
    assert restored == [ids[0]] and skipped == []
    assert exported(s, "edited") == {ids[0]: "The boy walked to school."}          # the earlier edit again
    review.undo([first], "Amal")
    assert exported(s, "pending")[ids[0]] == "The boy went to school in the morning."
    edits = s.db.execute("SELECT text, reviewer, created_at, undone_at FROM edits ORDER BY id").fetchall()
    assert [(e["text"], e["reviewer"]) for e in edits] == [("The boy walked to school.", "Amal"),
                                                           ("The boy walked to school early.", "Omar")]
    assert all(e["created_at"] and e["undone_at"] for e in edits)                  # history stays, marked
    assert s.db.execute("SELECT text FROM translations WHERE id=?", (ids[0],)).fetchone()[0] == \
        "The boy went to school in the morning."
    actions = [tuple(r) for r in s.db.execute("SELECT action, old_status, new_status, undoes IS NOT NULL"
                                              " FROM review_log ORDER BY id")]
    assert actions == [("edit", "pending", "edited", 0), ("edit", "edited", "edited", 0),
                       ("undo", "edited", "edited", 1), ("undo", "edited", "pending", 1)]


def test_undo_refuses_a_change_that_was_superseded_or_already_undone(store):
    s, ids, review = store
    approve = review.set_status(ids[1], "approved", "Amal")
    reject = review.set_status(ids[1], "rejected", "Omar")
    assert review.undo([approve], "Amal") == ([], [f"pair {ids[1]}: changed again since; undo the newer "
                                                    "change first"])
    assert review.undo([reject], "Omar") == ([ids[1]], [])
    assert review.undo([reject], "Omar")[1] == [f"pair {ids[1]}: that change was already undone"]
    assert review.undo([approve], "Amal") == ([ids[1]], [])                     # now it is the latest
    assert s.db.execute("SELECT status FROM translations WHERE id=?", (ids[1],)).fetchone()[0] == "pending"


def test_bulk_approve_takes_only_pending_pairs_at_or_above_the_score(store):
    s, ids, review = store
    review.set_status(ids[0], "rejected", "Amal")                               # a decision it must keep
    assert review.bulk_approve_count(Filter(), 0.3) == 2
    batch, done = review.bulk_approve(Filter(), 0.3, "Omar")
    assert sorted(done) == [ids[1], ids[2]]
    assert {i: st for i, st in s.db.execute("SELECT id, status FROM translations")} == {
        ids[0]: "rejected", ids[1]: "approved", ids[2]: "approved"}
    restored, _ = review.undo([], "Omar", batch=batch)
    assert sorted(restored) == [ids[1], ids[2]]
    assert exported(s, "pending").keys() == {ids[1], ids[2]}


def test_export_cli_uses_the_reviewed_text(tmp_path):
    db = tmp_path / "corpus.sqlite"
    ids = make_store(db, {"a.txt": corpus()["news/first.txt"]})
    with Store(db) as s:
        ReviewDecisions(s).edit(ids[2], "Cairo has fine weather today.", "Amal")
    out = tmp_path / "edited.jsonl"
    result = run_cli("export", "--db", db, "--format", "jsonl", "--status", "edited", "-o", out)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], r["target"], r["status"]) for r in records] == [(ids[2], "Cairo has fine weather today.",
                                                                       "edited")]


def test_text_search_normalises_arabic_and_english_case_and_pages_in_every_order(tmp_path):
    from starlette.testclient import TestClient

    from translate.review import create_app

    db = tmp_path / "corpus.sqlite"
    spelled = [("قالت الأمم المتحدة إن المساعدات وصلت.", "The United Nations said the aid arrived.", 0.7),
               ("وصلَ وفدُ الأُمَمِ إلى المدينة.", "A UN delegation reached the city.", 0.6),       # diacritics
               ("ذهبت إلى المكتبة في المساء.", "She went to the library in the evening.", 0.8),
               ("وقال مسؤول في الامم المتحدة.", "An official at the UN said.", 0.5)]               # bare alef
    ids = make_store(db, {**corpus(), "news/un.txt": spelled})
    client = TestClient(create_app(db), base_url="http://127.0.0.1")
    un = ids[-4:]
    assert row_ids(client.get("/", params={"q": "الامم"}).text) == [un[0], un[1], un[3]]
    assert row_ids(client.get("/", params={"q": "الأمم"}).text) == [un[0], un[1], un[3]]
    assert row_ids(client.get("/", params={"q": "المكتبه"}).text) == [un[2]]     # ta marbuta typed as ha
    assert row_ids(client.get("/", params={"q": "united NATIONS"}).text) == [un[0]]
    assert row_ids(client.get("/", params={"q": "UN", "sort": "score"}).text)[:1] == [un[3]]
    # a search that matches more than a page: every match once, in every order, through the pager
    with Store(db) as s:
        wanted = {r["id"] for r in s.iter_pairs() if "number 1" in r["target"]}
    assert len(wanted) > 20
    for sort in ("doc", "score", "-score"):
        found, url = [], f"/?q=number+1&sort={sort}"
        while url:
            html = client.get(url).text
            found += row_ids(html)
            link = re.search(r'<a id="next-page" href="([^"]+)"', html)
            url = link.group(1).replace("&amp;", "&") if link else None
        assert sorted(found) == sorted(wanted) and len(found) == len(wanted)


def test_pages_and_actions_work_while_another_writer_holds_the_store(served):
    """A `translate run` commits chunks while a reviewer works: reads go on (WAL) and a review write
    waits for the other transaction (busy timeout) instead of failing."""
    import threading

    db, ids, server = served
    token = csrf_of(web.get(server.base + "/").text)
    target = ids[5]
    assert statuses(db)[target] == "pending"
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE runs SET options = options")
    result = {}
    try:
        assert web.get(server.base + "/", timeout=10).status_code == 200
        post = threading.Thread(target=lambda: result.update(response=web.post(
            f"{server.base}/api/pairs/{target}/approve", json={"reviewer": "Amal"},
            headers={"X-CSRF-Token": token}, timeout=30)))
        post.start()
        post.join(0.5)
        assert statuses(db)[target] == "pending"          # not written while the other transaction is open
    finally:
        writer.execute("COMMIT")
        writer.close()
    post.join(30)
    assert result["response"].status_code == 200
    assert statuses(db)[target] == "approved"


def test_review_page_shows_and_searches_the_whole_source_of_a_multi_segment_pair(tmp_path):
    db = tmp_path / "corpus.sqlite"
    ids = make_store(db, {"a.txt": corpus()["news/first.txt"]})
    with Store(db) as s:
        first, second = s.db.execute("SELECT id, text, end FROM segments ORDER BY id LIMIT 2").fetchall()
        run = s.start_run("align", None, {})
        with s.transaction() as db_:
            pair = s.add_translation(db_, first["id"], "An existing human translation of two sentences.", None, run,
                                     0.8, "good", {}, origin="human", segment_count=2,
                                     source_end=second["end"])
        queries = ReviewQueries(s)
        row = queries.pair(pair)
        assert row["source"] == first["text"] + "\n" + second["text"]
        found = queries.page(ORDERS["doc"], Filter(search="alert(1)")).rows
        assert sorted(r["id"] for r in found) == [ids[1], pair]                  # its 2nd segment
        assert [r["id"] for r in queries.page(ORDERS["doc"], Filter(search="existing human")).rows] == [pair]


def test_a_busy_port_is_a_one_line_error(tmp_path):
    db = tmp_path / "corpus.sqlite"
    make_store(db, {"a.txt": corpus()["news/first.txt"][:1]})
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("review", "--db", db, "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: 127.0.0.1:{port}: cannot listen (Address already in use)"


def test_reasons_name_the_punctuation_and_names_that_differ():
    from translate.review.explain import reasons
    from translate.score import score_pair

    source = 'وقال الوزير (في مؤتمر صحفي): "سنبني ١٬٥٠٠ منزل".'
    dropped = "The minister said at a press conference we will build 1,500 houses."
    quality = score_pair(source, dropped)
    said = " ".join(reasons(source, dropped, quality.signals, quality.label))
    assert "quotation marks 2 / 0" in said and "brackets 2 / 0" in said
    kept = 'The minister said (at a press conference): "We will build 1,500 houses".'
    quality = score_pair(source, kept)
    assert "punctuation" not in " ".join(reasons(source, kept, quality.signals, quality.label))
    source = "التقى الرئيس بالسفير زيغمونتوفسكي والوزير كوفاليتشيك في وارسو."
    no_names = "The president met the ambassador and the minister."
    quality = score_pair(source, no_names)
    assert any(r.startswith("names differ") for r in reasons(source, no_names, quality.signals, quality.label, 5))
