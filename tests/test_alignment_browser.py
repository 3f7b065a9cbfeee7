"""The alignment editor (/align/ID) in a real Chromium at 1400 and 420 px: a shifted column fixed with the
keyboard alone, undo, confirm up to here, re-align below, each checked in the SQLite store; no horizontal
scroll. ALIGN_SCREENSHOT=1 also writes docs/align-desktop.png and docs/align-phone.png."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from aligned_story import EXPECTED, align_story
from conftest import ROOT, require_chromium
from test_review import Server, csrf_of
import web

from translate.store import Store

require_chromium()

from playwright.sync_api import expect  # noqa: E402


@pytest.fixture
def aligned_server(tmp_path):
    db, _ = align_story(tmp_path)
    server = Server(db, "--reviewer", "tester")
    yield db, server
    server.stop()


def stored(db: Path) -> tuple[list[tuple[list[int], list[int]]], list[str]]:
    with Store(db, readonly=True) as store:
        [pair_id] = [r[0] for r in store.db.execute("SELECT id FROM document_pairs")]
        rows = store.load_alignment(pair_id).rows
    return [(r.ar, r.en) for r in rows], [r.status for r in rows]


@pytest.mark.parametrize("width,height,name", [(1400, 900, "desktop"), (420, 860, "phone")])
def test_fix_a_shifted_column_with_keys_undo_confirm_and_realign(browser, aligned_server, width, height, name):
    db, server = aligned_server
    # a reviewer's slip through the API: the English column shifted down one row from row 0
    token = csrf_of(web.get(server.base + "/").text)
    shifted = web.post(server.base + "/api/alignments/1/ops", json={"op": "gap", "row": 0, "side": "en"},
                         headers={"X-CSRF-Token": token})
    assert shifted.status_code == 200, shifted.text
    assert stored(db)[0][0] == ([0], [])
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(server.base + "/align/1")
        rows = page.locator(".arow")
        expect(rows).to_have_count(len(EXPECTED))
        scroll = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert scroll[0] <= scroll[1], f"horizontal scroll at {width} px: {scroll}"
        ar_box = page.locator("#row-1 .cell-ar").bounding_box()
        en_box = page.locator("#row-1 .cell-en").bounding_box()
        if name == "phone":
            assert en_box["y"] >= ar_box["y"] + ar_box["height"] - 1      # stacked: English below the Arabic
        else:
            assert abs(en_box["y"] - ar_box["y"]) < 2 and ar_box["width"] > 400   # side by side
        expect(page.locator("#row-0 .cell-en")).to_have_class("cell cell-en empty active-side")

        version = shifted.json()["version"]

        def saved(key: str) -> None:
            """Press a key and wait until the page shows the alignment the server answered."""
            nonlocal version
            page.keyboard.press(key)
            version += 1
            expect(page.locator("#align-summary")).to_contain_text(f"version {version}")

        # keyboard alone: close the empty English cell of row 0 (the column moves back up)
        saved("G")
        expect(page.locator("#flash")).to_have_text("Saved (close).")
        assert stored(db)[0] == EXPECTED
        expect(page.locator("#row-0")).to_have_attribute("data-status", "confirmed")
        # undo brings the shift back; undo again removes the slip itself
        saved("z")
        assert stored(db)[0][0] == ([0], [])
        saved("z")
        assert stored(db) == (EXPECTED, ["auto"] * len(EXPECTED))
        # move the added English sentence (row 2, 0-1) into the row above, then confirm up to row 1
        page.keyboard.press("j")
        page.keyboard.press("j")
        expect(page.locator("#row-2")).to_have_class("arow status-auto current")
        saved("w")
        expect(rows).to_have_count(len(EXPECTED) - 1)
        assert stored(db)[0][1] == ([1, 2], [1, 2])
        page.keyboard.press("k")
        saved("C")
        expect(page.locator("#row-0")).to_have_attribute("data-status", "confirmed")
        assert stored(db)[1][:2] == ["confirmed", "confirmed"]
        # re-align below the confirmed rows: the aligner gives the remaining rows back
        saved("r")
        expect(page.locator("#flash")).to_have_text("Saved (realign).")
        assert stored(db)[0] == [([0], [0]), ([1, 2], [1, 2]), ([3], [3]), ([4], [])]
        # ? lists the keys
        page.keyboard.press("?")
        expect(page.locator("#help")).to_be_visible()
        expect(page.locator("#help")).to_contain_text("re-align every row below")
        page.keyboard.press("Escape")
        scroll = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert scroll[0] <= scroll[1], f"horizontal scroll at {width} px after the edits: {scroll}"
        if os.environ.get("ALIGN_SCREENSHOT") == "1":
            page.keyboard.press("j")
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(ROOT / "docs" / f"align-{name}.png"), full_page=True)
    finally:
        context.close()


def test_buttons_work_for_touch(browser, aligned_server):
    db, server = aligned_server
    context = browser.new_context(viewport={"width": 420, "height": 860}, has_touch=True)
    page = context.new_page()
    try:
        page.goto(server.base + "/align/1")
        page.locator("#row-2").click()
        page.locator('#toolbar button[data-op="up"]').click()
        expect(page.locator(".arow")).to_have_count(len(EXPECTED) - 1)
        assert stored(db)[0][1] == ([1, 2], [1, 2])
        page.locator('#toolbar button[data-action="undo"]').click()
        expect(page.locator(".arow")).to_have_count(len(EXPECTED))
        assert stored(db)[0] == EXPECTED
        # the English of a row's pair edited with e, then undone with z (the pair list's undo)
        page.locator("#row-0").click()
        page.keyboard.press("e")
        page.locator("#row-0 textarea.editor").fill("In the morning, the boy walked to school.")
        page.keyboard.press("Enter")
        expect(page.locator("#row-0 .pair-status")).to_have_text("edited")
        page.keyboard.press("z")
        expect(page.locator("#row-0 .pair-status")).to_have_text("pending")
        with Store(db, readonly=True) as store:
            first_pair = store.load_alignment(1).rows[0].translation_id
            assert store.db.execute("SELECT status FROM translations WHERE id = ?", (first_pair,)).fetchone()[0] \
                == "pending"
            assert [tuple(r) for r in store.db.execute("SELECT action, reviewer FROM review_log ORDER BY id")] == [
                ("edit", "tester"), ("undo", "tester")]
        # a sentence split where the caret is: after "heavily," in English sentence 1
        page.evaluate("""() => {
            const text = document.querySelector('#row-1 .cell-en .sentence-text').firstChild;
            const range = document.createRange();
            range.setStart(text, text.data.indexOf(' so he'));
            range.collapse(true);
            window.getSelection().removeAllRanges();
            window.getSelection().addRange(range);
        }""")
        page.locator('#toolbar button[data-op="split_sentence"]').click()
        expect(page.locator("#row-1 .cell-en .sentence")).to_have_count(2)
        with Store(db, readonly=True) as store:
            alignment = store.load_alignment(1)
            assert [s.text for s in alignment.en][1:3] == ["It was raining heavily,", "so he carried a big umbrella."]
    finally:
        context.close()


def test_the_list_of_document_pairs_fits_a_phone(browser, aligned_server):
    _, server = aligned_server
    context = browser.new_context(viewport={"width": 420, "height": 860})
    page = context.new_page()
    try:
        page.goto(server.base + "/align")
        expect(page.locator("tr.alignment")).to_have_count(1)
        expect(page.locator("#alignment-1")).to_contain_text("story.en.txt")
        scroll = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert scroll[0] <= scroll[1], f"horizontal scroll at 420 px: {scroll}"
        page.locator("#alignment-1 a").click()
        expect(page.locator(".arow")).to_have_count(len(EXPECTED))
    finally:
        context.close()
