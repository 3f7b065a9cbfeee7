"""Team review over HTTP (real `translate review` subprocess, real SQLite store, real CLI for accounts):
reviewer tokens, claims that never overlap (20 concurrent clients), leases, the blind overlap sample,
agreement, adjudication, send back, and the export's reviewer marks."""
from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

import pytest

from conftest import run_cli
from test_review import Server, corpus, make_store
import web
import translate
from translate.review.agreement import agreement, cohen_kappa, krippendorff_alpha
from translate.review.team import in_overlap_sample


def add_user(db: Path, name: str, role: str = "reviewer") -> str:
    result = run_cli("review", "users", "add", name, "--role", role, "--db", db)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


class Client:
    """One reviewer's browser-like session: the token from a link becomes a cookie, then the CSRF token."""

    def __init__(self, server: Server, token: str):
        self.http = httpx.Client(base_url=server.base, timeout=60)
        first = self.http.get(f"/?token={token}", follow_redirects=False)
        assert first.status_code == 303 and "token" not in first.headers["location"]
        page = self.http.get("/")
        assert page.status_code == 200, page.text
        self.csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text).group(1)

    def post(self, url: str, body: dict | None = None) -> httpx.Response:
        return self.http.post(url, json=body or {}, headers={"X-CSRF-Token": self.csrf})

    def next_pending(self, query: str = "") -> int | None:
        response = self.http.get("/api/next-pending" + (f"?{query}" if query else ""))
        assert response.status_code == 200, response.text
        return response.json()["id"]

    def close(self) -> None:
        self.http.close()


def log_rows(db: Path) -> list[sqlite3.Row]:
    with sqlite3.connect(db) as con:
        con.row_factory = sqlite3.Row
        return con.execute("SELECT * FROM review_log ORDER BY id").fetchall()


def pending_ids(db: Path) -> list[int]:
    with sqlite3.connect(db) as con:
        return [r[0] for r in con.execute("SELECT id FROM translations WHERE status = 'pending'")]


@pytest.fixture
def team_db(tmp_path):
    db = tmp_path / "corpus.sqlite"
    ids = make_store(db, corpus())
    return db, ids


# ---- accounts -----------------------------------------------------------------------------------------
def test_users_add_list_remove_show_the_token_once_and_store_only_its_hash(team_db):
    db, _ = team_db
    token = add_user(db, "Layla", "lead")
    assert len(token) >= 40
    with sqlite3.connect(db) as con:
        stored = con.execute("SELECT name, role, token_hash FROM reviewers").fetchall()
    assert stored == [("Layla", "lead", hashlib.sha256(token.encode()).hexdigest())]
    raw = b"".join(p.read_bytes() for p in db.parent.iterdir() if p.name.startswith(db.name))
    assert token.encode() not in raw

    listed = run_cli("review", "users", "list", "--db", db)
    assert listed.returncode == 0 and "Layla\tlead" in listed.stdout and token not in listed.stdout

    again = run_cli("review", "users", "add", "Layla", "--db", db)
    assert again.returncode == 1 and "exists already" in again.stderr and len(again.stderr.splitlines()) == 1
    bad_role = run_cli("review", "users", "add", "Omar", "--role", "boss", "--db", db)
    assert bad_role.returncode == 2 and "--role" in bad_role.stderr
    empty = run_cli("review", "users", "add", "  ", "--db", db)
    assert empty.returncode == 1 and "empty reviewer name" in empty.stderr

    assert run_cli("review", "users", "remove", "Layla", "--db", db).returncode == 0
    assert "Layla" not in run_cli("review", "users", "list", "--db", db).stdout
    missing = run_cli("review", "users", "remove", "Layla", "--db", db)
    assert missing.returncode == 1 and "no reviewer 'Layla'" in missing.stderr
    with sqlite3.connect(db) as con:     # the account stays as history, without a working token
        assert con.execute("SELECT removed_at IS NOT NULL FROM reviewers").fetchone() == (1,)


def test_team_mode_takes_each_reviewers_token_and_records_the_reviewer_from_it(team_db):
    db, ids = team_db
    token = add_user(db, "Layla")
    server = Server(db, "--reviewer", "ignored", "--overlap", "0")
    try:
        anonymous = web.get(server.base + "/")
        assert anonymous.status_code == 401 and 'name="token"' in anonymous.text
        assert "needs your reviewer token" in anonymous.text
        wrong = web.get(server.base + "/?token=not-a-token")
        assert wrong.status_code == 401 and "wrong or its reviewer was removed" in wrong.text
        assert web.get(server.base + "/api/counts").status_code == 401

        layla = Client(server, token)
        assert layla.http.get("/api/team/me").json() == {"name": "Layla", "role": "reviewer"}
        page = layla.http.get("/").text
        assert 'value="Layla" readonly' in page
        # the name in the body is ignored: the reviewer comes from the token
        answer = layla.post(f"/api/pairs/{ids[0]}/approve", {"reviewer": "Mallory"})
        assert answer.status_code == 200, answer.text
        assert [(r["translation_id"], r["reviewer"]) for r in log_rows(db)] == [(ids[0], "Layla")]
        # a reviewer cannot use lead actions
        assert layla.post(f"/api/pairs/{ids[0]}/flag", {}).status_code == 403
        assert layla.post("/api/team/release", {"reviewer": "Layla"}).status_code == 403
        assert layla.http.get("/adjudicate").status_code == 403
        assert layla.post("/api/bulk-approve", {"min_score": 0.5}).status_code == 403
        # a removed reviewer's token stops working at once
        assert run_cli("review", "users", "remove", "Layla", "--db", db).returncode == 0
        gone = layla.http.get("/")
        assert gone.status_code == 401 and "removed" in gone.text
        layla.close()
    finally:
        err = server.stop()
    assert token not in err


def test_a_store_without_users_keeps_single_user_mode(served_single):
    server = served_single
    page = web.get(server.base + "/")
    assert page.status_code == 200 and 'placeholder="your name"' in page.text and "Signed in" not in page.text
    assert web.get(server.base + "/api/team/me").json() == {"name": None, "role": None}
    assert web.get(server.base + "/adjudicate").status_code == 404


@pytest.fixture
def served_single(tmp_path):
    db = tmp_path / "corpus.sqlite"
    make_store(db, corpus())
    server = Server(db, "--reviewer", "tester")
    yield server
    server.stop()


# ---- claims ---------------------------------------------------------------------------------------------
def test_twenty_concurrent_clients_are_never_sent_the_same_pending_pair(team_db):
    db, ids = team_db
    tokens = [add_user(db, f"r{i:02d}") for i in range(20)]
    server = Server(db, "--overlap", "0", "--claim-batch", "5")
    sent: dict[str, list[int]] = {}
    errors: list[str] = []
    try:
        clients = [Client(server, t) for t in tokens]

        def work(name: str, client: Client) -> None:
            got = sent.setdefault(name, [])
            try:
                while True:
                    pair_id = client.next_pending("sort=score")
                    if pair_id is None:
                        return
                    got.append(pair_id)
                    answer = client.post(f"/api/pairs/{pair_id}/approve")
                    if answer.status_code != 200:
                        errors.append(f"{name} #{pair_id}: {answer.status_code} {answer.text}")
                        return
            except Exception as exc:      # reported below: a thread's exception would be lost
                errors.append(f"{name}: {exc!r}")

        threads = [threading.Thread(target=work, args=(f"r{i:02d}", c)) for i, c in enumerate(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        for c in clients:
            c.close()
    finally:
        server.stop()
    assert not errors, errors[:5]
    everything = [pid for got in sent.values() for pid in got]
    assert sorted(everything) == sorted(ids)                      # every pair handed out, once
    assert sum(1 for got in sent.values() if got) > 1              # and the work was shared
    decided = Counter(r["translation_id"] for r in log_rows(db))
    assert set(decided) == set(ids) and set(decided.values()) == {1}
    owner = {r["translation_id"]: r["reviewer"] for r in log_rows(db)}
    assert all(owner[pid] == name for name, got in sent.items() for pid in got)
    assert pending_ids(db) == []


def test_claims_are_marked_for_others_expire_and_a_lead_can_release_them(team_db):
    db, ids = team_db
    alice, bob, lead = add_user(db, "alice"), add_user(db, "bob"), add_user(db, "lead", "lead")
    server = Server(db, "--overlap", "0", "--claim-batch", "3", "--lease", "0.05")   # 3 s
    try:
        a, b, boss = Client(server, alice), Client(server, bob), Client(server, lead)
        first = a.next_pending()
        assert first == ids[0]
        assert a.next_pending() == first                   # the same until decided
        held = b.post(f"/api/pairs/{first}/approve")
        assert held.status_code == 409 and "claimed by alice" in held.json()["error"]
        assert b.next_pending() == ids[3]                  # bob's batch starts after alice's three
        page = b.http.get(f"/?from={first}").text
        assert re.search(rf'id="pair-{first}"[^>]*data-claim="other"', page) and "claimed by alice" in page
        # a lead releases alice's claims: bob may now take them
        released = boss.post("/api/team/release", {"reviewer": "alice"})
        assert released.status_code == 200 and released.json() == {"released": 3}
        assert b.post(f"/api/pairs/{ids[1]}/approve").status_code == 200
        # an expired lease frees the pairs too
        second = a.next_pending()
        assert second not in (ids[1], *range(ids[3], ids[6]))
        time.sleep(3.5)
        assert b.post(f"/api/pairs/{second}/approve").status_code == 200
        for c in (a, b, boss):
            c.close()
    finally:
        server.stop()


def test_an_edit_after_the_lease_ran_out_is_kept_unless_someone_else_decided_meanwhile(team_db):
    db, ids = team_db
    alice, bob = add_user(db, "alice"), add_user(db, "bob")
    server = Server(db, "--overlap", "0", "--claim-batch", "2", "--lease", "0.02")    # 1.2 s
    try:
        a, b = Client(server, alice), Client(server, bob)
        first = a.next_pending()
        time.sleep(1.5)                                     # alice is typing; her claim runs out
        kept = a.post(f"/api/pairs/{first}/edit", {"text": "Alice's careful English."})
        assert kept.status_code == 200 and kept.json()["pair"]["target"] == "Alice's careful English."

        second = ids[1]                                      # alice's other claimed pair
        time.sleep(1.5)
        assert b.next_pending() == second                   # expired: bob is sent it now
        assert b.post(f"/api/pairs/{second}/reject").status_code == 200
        late = a.post(f"/api/pairs/{second}/edit", {"text": "Alice's late English."})
        assert late.status_code == 409
        data = late.json()
        assert data["theirs"]["reviewer"] == "bob" and data["theirs"]["status"] == "rejected"
        assert data["yours"]["text"] == "Alice's late English."
        assert "bob" in data["error"] and "Alice's late English." in data["error"]
        a.close()
        b.close()
    finally:
        server.stop()
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT status FROM translations WHERE id = ?", (second,)).fetchone() == ("rejected",)


# ---- overlap sample, agreement, adjudication ------------------------------------------------------------
def test_the_overlap_sample_is_blind_agreeing_votes_decide_and_differing_ones_go_to_the_lead(team_db):
    db, ids = team_db
    alice, bob, lead = add_user(db, "alice"), add_user(db, "bob"), add_user(db, "Layla", "lead")
    server = Server(db, "--overlap", "1", "--claim-batch", "2")      # every pair is in the sample
    try:
        a, b, boss = Client(server, alice), Client(server, bob), Client(server, lead)
        p1, p2 = a.next_pending(), None
        assert p1 == ids[0]
        vote = a.post(f"/api/pairs/{p1}/edit", {"text": "Alice's English."})
        assert vote.status_code == 200 and vote.json()["vote"]["outcome"] == "waiting"
        assert vote.json()["pair"]["target"] == "Alice's English."
        p2 = ids[1]
        assert a.post(f"/api/pairs/{p2}/approve").json()["vote"]["outcome"] == "waiting"
        assert pending_ids(db)[:2] == [p1, p2] and log_rows(db) == []       # votes leave pairs pending

        # bob is sent the same pairs, and sees nothing of alice's votes
        assert b.next_pending() == p1
        page = b.http.get(f"/?from={p1}").text
        row = page[page.index(f'id="pair-{p1}"'):page.index(f'id="pair-{p2}"')]
        assert "Alice" not in row and 'data-status="pending"' in row and "your blind vote" not in row
        assert b.http.get(f"/api/pairs/{p1}/history").json()["log"] == []
        assert "your blind vote: edited" in a.http.get(f"/?from={p1}").text

        disputed = b.post(f"/api/pairs/{p1}/reject")
        assert disputed.json()["vote"]["outcome"] == "disputed"
        agreed = b.post(f"/api/pairs/{p2}/approve")
        assert agreed.json()["vote"]["outcome"] == "agreed"
        assert [(r["translation_id"], r["reviewer"], r["new_status"]) for r in log_rows(db)] == [(p2, "alice", "approved")]
        assert b.post(f"/api/pairs/{p1}/approve").status_code == 409       # waits for the lead now
        assert b.next_pending() not in (p1, p2)

        # only the lead sees the queue, with both votes
        assert b.http.get("/adjudicate").status_code == 403
        queue = boss.http.get("/adjudicate").text
        assert f'id="queue-{p1}"' in queue and "Alice&#39;s English." in queue and "rejected" in queue
        assert b.post(f"/api/adjudicate/{p1}", {"status": "approved"}).status_code == 403
        settled = boss.post(f"/api/adjudicate/{p1}", {"status": "edited", "text": "Layla's English."})
        assert settled.status_code == 200 and settled.json()["pair"]["status"] == "edited"
        assert f'id="queue-{p1}"' not in boss.http.get("/adjudicate").text

        stats = boss.http.get("/stats").text
        assert "Krippendorff" in stats and "alice · bob" in stats and 'data-reviewer="alice"' in stats
        for c in (a, b, boss):
            c.close()
    finally:
        server.stop()
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT resolved_by, kind FROM adjudications WHERE translation_id = ?",
                           (p1,)).fetchone() == ("Layla", "disagreement")
        assert con.execute("SELECT COUNT(*) FROM review_votes").fetchone() == (4,)


def test_a_lead_flags_and_sends_back_a_decision_to_its_reviewer_with_a_comment(team_db, tmp_path):
    db, ids = team_db
    alice, lead = add_user(db, "alice"), add_user(db, "Layla", "lead")
    server = Server(db, "--overlap", "0")
    try:
        a, boss = Client(server, alice), Client(server, lead)
        assert a.post(f"/api/pairs/{ids[0]}/approve").status_code == 200
        rejected = a.post(f"/api/pairs/{ids[1]}/reject")
        assert rejected.status_code == 200
        assert a.post(f"/api/pairs/{ids[1]}/send-back", {"comment": "no"}).status_code == 403
        assert a.post(f"/api/pairs/{ids[1]}/flag", {}).status_code == 403
        # a reviewer undoes only their own actions; a lead anyone's
        omar = Client(server, add_user(db, "omar"))
        theirs = omar.post("/api/undo", {"log_ids": rejected.json()["log_ids"]})
        assert theirs.status_code == 409 and "alice" in theirs.json()["error"]
        omar.close()
        assert boss.post(f"/api/pairs/{ids[1]}/flag", {"comment": "check the names"}).status_code == 200
        assert f'id="queue-{ids[1]}"' in boss.http.get("/adjudicate").text
        back = boss.post(f"/api/pairs/{ids[0]}/send-back", {"comment": "the number is wrong"})
        assert back.status_code == 200 and back.json()["sent_back_to"] == "alice"
        assert boss.post(f"/api/pairs/{ids[2]}/send-back", {"comment": "x"}).status_code == 400   # undecided
        assert a.next_pending() == ids[0]
        assert "sent back: the number is wrong" in a.http.get(f"/?from={ids[0]}").text
        assert a.post(f"/api/pairs/{ids[0]}/edit", {"text": "Fixed English."}).status_code == 200
        assert boss.post(f"/api/adjudicate/{ids[1]}", {"status": "rejected", "reason": "omission"}).status_code == 200
        a.close()
        boss.close()
    finally:
        server.stop()

    out = tmp_path / "out.jsonl"
    assert run_cli("export", "--db", db, "--format", "jsonl", "--output", out).returncode == 0
    records = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert (records[ids[0]]["reviewer"], records[ids[0]]["adjudicated_by"]) == ("alice", None)
    assert (records[ids[1]]["reviewer"], records[ids[1]]["adjudicated_by"]) == ("Layla", "Layla")
    assert records[ids[2]]["reviewer"] is None
    # the Python API reads the pairs as the export does: the same records, who settled them included
    with translate.open_store(db) as corpus:
        assert {pair["id"]: pair for pair in corpus} == records
    tmx = tmp_path / "out.tmx"
    assert run_cli("export", "--db", db, "--format", "tmx", "--output", tmx).returncode == 0
    text = tmx.read_text()
    assert re.search(rf'<tu tuid="{ids[0]}".*?<tuv xml:lang="en" changeid="alice">', text, re.S)


def test_tmx_with_reviewers_is_valid_against_the_dtd(team_db, tmp_path, shared_dir):
    from lxml import etree

    db, ids = team_db
    token = add_user(db, "Ana <&> \"O'Neil\"")
    server = Server(db, "--overlap", "0")
    try:
        client = Client(server, token)
        assert client.post(f"/api/pairs/{ids[0]}/approve").status_code == 200
        client.close()
    finally:
        server.stop()
    out = tmp_path / "out.tmx"
    assert run_cli("export", "--db", db, "--format", "tmx", "--output", out).returncode == 0
    dtd = etree.DTD(str(shared_dir / "data" / "tmx" / "tmx14.dtd"))
    tree = etree.parse(str(out))
    assert dtd.validate(tree), dtd.error_log.filter_from_errors()
    assert tree.xpath("//tuv[@changeid]/@changeid") == ["Ana <&> \"O'Neil\""]


# ---- the figures ---------------------------------------------------------------------------------------
def test_cohen_kappa_and_krippendorff_alpha_match_hand_computed_values():
    # 50 items: both accept 20, both reject 15, split 15: p_o = 0.7, p_e = 0.5, kappa = 0.4
    pairs = [("a", "a")] * 20 + [("a", "r")] * 5 + [("r", "a")] * 10 + [("r", "r")] * 15
    assert cohen_kappa(pairs) == pytest.approx(0.4)
    assert cohen_kappa([("a", "a"), ("r", "r")]) == pytest.approx(1.0)
    assert cohen_kappa([("a", "a")] * 3) is None                 # one category: undefined
    # coincidences o_aa 2, o_ab = o_ba 1, o_bb 4: alpha = 1 - 7 * 2 / 30
    assert krippendorff_alpha([["a", "a"], ["a", "b"], ["b", "b"], ["b", "b"]]) == pytest.approx(1 - 14 / 30)
    # three coders: o_aa 1, o_ab = o_ba 1, o_bb 3 (a lone label counts for nothing): 1 - 2 / (16 / 5)
    assert krippendorff_alpha([["a", "b", "a"], ["b", "b", "b"], ["a"]]) == pytest.approx(0.375)
    votes = [{"translation_id": i, "name": n, "status": s, "reason": r} for i, n, s, r in [
        (1, "a", "rejected", "omission"), (1, "b", "rejected", "omission"),
        (2, "a", "approved", None), (2, "b", "edited", None),
        (3, "a", "rejected", "addition"), (3, "b", "approved", None)]]
    figures = agreement(votes)
    assert figures["items"] == 3 and figures["reason_items"] == 1
    assert figures["pairs"][0]["reviewers"] == ("a", "b") and figures["pairs"][0]["agreed"] == 2


def test_the_overlap_sample_is_about_its_share_of_the_store():
    inside = sum(in_overlap_sample(i, 0.05) for i in range(1, 20_001))
    assert 800 < inside < 1200
    assert not any(in_overlap_sample(i, 0) for i in range(1, 1000))
    assert all(in_overlap_sample(i, 1) for i in range(1, 1000))
