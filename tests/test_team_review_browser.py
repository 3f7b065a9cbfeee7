"""Team review in a real Chromium, each reviewer in their own browser context (own cookies): two reviewers
pressing n never get the same pending pair; the blind sample shows no earlier decision; a lead settles a
disagreement in the queue; the stats page with two reviewers at 1400 and 420 px; on a phone the filters
fold behind one control so the first pair is on the first screen. TEAM_SCREENSHOTS=1 also writes the
screenshots to docs/."""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from conftest import ROOT, require_chromium
from test_review import Server, corpus, make_store
from test_team_review import add_user

require_chromium()

from playwright.sync_api import expect  # noqa: E402


def open_as(browser, server: Server, token: str, path: str = "/", width: int = 1360, height: int = 900):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(server.base + path + ("&" if "?" in path else "?") + f"token={token}")
    return context, page


def settled(page) -> None:
    """Wait until the page has saved every key's action and is not on its way to another page: `n` in team
    review asks the server for the next claimed pair, and a key pressed before the answer lands would act
    on whichever row was current meanwhile."""
    expect(page.locator("body[data-busy]")).to_have_count(0)
    page.wait_for_load_state()


def current_id(page) -> int:
    settled(page)
    return int(page.locator("tr.pair.current").get_attribute("data-id"))


def screenshot(page, tmp_path: Path, name: str) -> Path:
    out = (ROOT / "docs" if os.environ.get("TEAM_SCREENSHOTS") else tmp_path) / name
    out.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(out), full_page=False)
    return out


def test_two_reviewers_pressing_n_never_get_the_same_pending_pair(browser, tmp_path):
    db = tmp_path / "corpus.sqlite"
    make_store(db, corpus())
    alice, bob = add_user(db, "alice"), add_user(db, "bob")
    server = Server(db, "--overlap", "0", "--claim-batch", "4")
    try:
        # the first page of the worst-first order opens at each reviewer's own claimed pairs
        ctx_a, a = open_as(browser, server, alice, "/?sort=score")
        ctx_b, b = open_as(browser, server, bob, "/?sort=score")
        expect(a.locator("tr.pair.current")).to_have_count(1)
        expect(b.locator("tr.pair.current")).to_have_count(1)
        expect(a.locator("#reviewer")).to_have_value("alice")
        seen = {"alice": [], "bob": []}
        for _ in range(6):
            for name, page in (("alice", a), ("bob", b)):
                pair_id = current_id(page)
                seen[name].append(pair_id)
                page.keyboard.press("a")
                expect(page.locator(f"#pair-{pair_id}")).to_have_attribute("data-status", "approved")
                page.keyboard.press("n")
                settled(page)
                expect(page.locator("tr.pair.current")).not_to_have_attribute("data-id", str(pair_id))
        assert not set(seen["alice"]) & set(seen["bob"])
        assert len(set(seen["alice"])) == len(set(seen["bob"])) == 6
        # the other reviewer's claims are marked
        b.goto(server.base + f"/?sort=score&from={current_id(a)}")
        expect(b.locator("tr.pair").first).to_have_class("pair status-pending claim-other current")
        expect(b.locator("tr.pair").first).to_contain_text("claimed by alice")
        ctx_a.close()
        ctx_b.close()
    finally:
        server.stop()
    with sqlite3.connect(db) as con:
        by = dict(con.execute("SELECT translation_id, reviewer FROM review_log"))
    assert {by[i] for i in seen["alice"]} == {"alice"} and {by[i] for i in seen["bob"]} == {"bob"}


def test_the_blind_sample_hides_the_first_vote_and_a_lead_settles_the_disagreement(browser, tmp_path):
    db = tmp_path / "corpus.sqlite"
    ids = make_store(db, corpus())
    alice, bob, lead = add_user(db, "alice"), add_user(db, "bob"), add_user(db, "Layla", "lead")
    server = Server(db, "--overlap", "1", "--claim-batch", "2")
    try:
        ctx_a, a = open_as(browser, server, alice, "/?sort=doc")
        first = ids[0]
        a.keyboard.press("n")
        expect(a.locator("tr.pair.current")).to_have_attribute("data-id", str(first))
        a.keyboard.press("e")
        a.locator(f"#pair-{first} textarea.editor").fill("Alice's own English.")
        a.locator(f"#pair-{first} textarea.editor").press("Enter")
        expect(a.locator(f"#pair-{first} .target")).to_have_text("Alice's own English.")

        ctx_b, b = open_as(browser, server, bob, "/")
        b.keyboard.press("n")
        expect(b.locator("tr.pair.current")).to_have_attribute("data-id", str(first))
        row = b.locator(f"#pair-{first}")
        expect(row).to_have_attribute("data-status", "pending")          # blind: nothing of alice's vote
        expect(row.locator(".target")).not_to_have_text("Alice's own English.")
        expect(row).not_to_contain_text("alice")
        row.locator("details.history summary").click()
        expect(row.locator(".history-list li")).to_have_count(1)          # the machine text only
        b.keyboard.press("r")
        b.keyboard.press("2")                                              # omission
        expect(b.locator("#flash")).to_contain_text("rejected")

        ctx_l, boss = open_as(browser, server, lead, "/adjudicate?x=1")
        item = boss.locator(f"#queue-{first}")
        expect(item).to_contain_text("Alice's own English.")
        expect(item.locator(".vote")).to_have_count(2)
        item.locator("button[data-decision=approved]").click()
        expect(boss.locator("#flash")).to_contain_text("settled: approved")

        ctx_s, stats = open_as(browser, server, lead, "/stats", width=1400)
        expect(stats.locator("#team-stats")).to_contain_text("alice · bob")
        for context in (ctx_a, ctx_b, ctx_l, ctx_s):
            context.close()
    finally:
        server.stop()
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT status FROM translations WHERE id = ?", (first,)).fetchone() == ("approved",)
        assert con.execute("SELECT resolved_by FROM adjudications").fetchall() == [("Layla",)]


def test_stats_with_two_reviewers_and_the_phone_layout(browser, tmp_path):
    db = tmp_path / "corpus.sqlite"
    ids = make_store(db, corpus())
    alice, bob = add_user(db, "alice"), add_user(db, "bob")
    lead = add_user(db, "Layla", "lead")
    server = Server(db, "--overlap", "0.5", "--claim-batch", "10")
    try:
        for token, verbs in ((alice, "aaraeaaarr"), (bob, "araaaeraaa")):
            context, page = open_as(browser, server, token, "/?sort=score")
            for verb in verbs:
                pair_id = current_id(page)
                if verb == "e":
                    page.keyboard.press("e")
                    page.locator(f"#pair-{pair_id} textarea.editor").fill("A corrected English sentence.")
                    page.locator(f"#pair-{pair_id} textarea.editor").press("Enter")
                else:
                    page.keyboard.press(verb)
                    if verb == "r":
                        page.keyboard.press("Escape")
                expect(page.locator(f"#pair-{pair_id}")).not_to_have_attribute("data-status", "pending")
                page.keyboard.press("n")
                settled(page)
                expect(page.locator("tr.pair.current")).not_to_have_attribute("data-id", str(pair_id))
            context.close()

        context, page = open_as(browser, server, lead, "/stats", width=1400)
        cards = page.locator(".reviewer-card")
        expect(cards).to_have_count(3)
        expect(page.locator('.reviewer-card[data-reviewer="alice"] svg rect').first).to_be_attached()
        screenshot(page, tmp_path, "team-stats-1400.png")
        page.locator("#team-stats").scroll_into_view_if_needed()
        screenshot(page, tmp_path, "team-stats-1400-reviewers.png")
        # the lead releases alice's claims from her card
        release = page.locator('.reviewer-card[data-reviewer="alice"] .release-claims')
        release.click()
        expect(release).to_contain_text("released")
        with sqlite3.connect(db) as con:
            assert con.execute("SELECT COUNT(*) FROM review_claims c JOIN reviewers r ON r.id = c.reviewer_id"
                               " WHERE r.name = 'alice'").fetchone() == (0,)
        page.set_viewport_size({"width": 420, "height": 860})
        page.reload()
        page.locator("#team-stats").scroll_into_view_if_needed()
        screenshot(page, tmp_path, "team-stats-420.png")

        # a phone: the filters fold behind one control, and the first pair is on the first screen
        page.goto(server.base + "/?status=pending&sort=score&from=" + str(ids[-1]))
        toggle = page.locator("#filters-toggle")
        expect(toggle).to_be_visible()
        expect(toggle).to_contain_text("pending")
        expect(toggle).to_contain_text("worst score first")
        expect(page.locator("form.filters")).to_be_hidden()
        first = page.locator("tr.pair").first
        box = first.bounding_box()
        assert box is not None and box["y"] < 860 * 0.6, box
        screenshot(page, tmp_path, "team-phone-420.png")
        toggle.click()
        expect(page.locator("form.filters")).to_be_visible()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        # a wide window shows the filters and no control
        page.set_viewport_size({"width": 1400, "height": 900})
        expect(toggle).to_be_hidden()
        context.close()
    finally:
        server.stop()
