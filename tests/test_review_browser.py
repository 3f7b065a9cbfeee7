"""The review page in a real Chromium: keys j/k/a/r/e/u/?, the reviewer field, the SQLite rows it writes,
and `translate export` using the edited text. REVIEW_SCREENSHOT=1 also writes docs/review.png."""
from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from conftest import ROOT, run_cli
from test_review import SCRIPT_SOURCE, SCRIPT_TARGET, Server, make_store

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Chromium is not installed (/usr/bin/chromium; `make browser` installs it)",
                allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

PAIRS = [
    ("أعلنت الحكومة عن خطة جديدة لدعم المزارعين في المناطق الريفية.",
     "The government announced a new plan to support farmers in rural areas.", 0.88),
    ("وقال المتحدث إن الخطة ستبدأ الشهر المقبل.", "The spokesman said the plan will start next month.", 0.74),
    ("وأضاف أن الميزانية تبلغ مليار دينار.", "He added that the budget is one billion dinars dinars.", 0.41),
    (SCRIPT_SOURCE, SCRIPT_TARGET, 0.52),
    ("ورحب المزارعون بالقرار.", "The farmers welcomed welcomed the decision.", 0.23),
    ("ومن المتوقع أن تنخفض الأسعار.", "Prices are expected to fall.", 0.81),
]
EDITED = "He added that the budget is one billion dinars."
WITHDRAWN = "The farmers welcomed this wrong text."


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    yield context.new_page()
    context.close()


@pytest.fixture
def review_server(tmp_path):
    db = tmp_path / "corpus.sqlite"
    ids = make_store(db, {"news/budget.txt": PAIRS})
    server = Server(db, "--reviewer", "tester")
    yield db, ids, server
    server.stop()


def test_keyboard_review_writes_sqlite_and_export_uses_the_edit(review_server, page, tmp_path):
    db, ids, server = review_server
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(server.base + "/")
    rows = page.locator("tr.pair")
    expect(rows).to_have_count(len(PAIRS))
    row = lambda i: page.locator(f"#pair-{ids[i]}")  # noqa: E731

    # the reviewer typed on the page is used (and remembered) instead of --reviewer
    page.fill("#reviewer", "Layla")
    page.locator("#reviewer").dispatch_event("change")
    page.locator("h1").click()

    expect(row(0)).to_have_class("pair status-pending current")
    page.keyboard.press("a")                                   # approve 0, move to 1
    expect(row(0)).to_have_attribute("data-status", "approved")
    expect(row(1)).to_have_class("pair status-pending current")
    page.keyboard.press("r")                                   # reject 1, move to 2
    expect(row(1)).to_have_attribute("data-status", "rejected")
    page.keyboard.press("k")
    page.keyboard.press("j")
    expect(row(2)).to_have_class("pair status-pending current")

    page.keyboard.press("e")                                   # edit 2 and save with Enter
    editor = row(2).locator("textarea.editor")
    expect(editor).to_have_value(PAIRS[2][1])
    editor.fill(EDITED)
    editor.press("Enter")
    expect(row(2)).to_have_attribute("data-status", "edited")
    expect(row(2).locator(".target")).to_have_text(EDITED)
    expect(row(2).locator(".machine .mt")).to_have_text(PAIRS[2][1])
    expect(editor).to_have_count(0)

    page.keyboard.press("j")                                   # Esc cancels an edit
    page.keyboard.press("e")
    row(3).locator("textarea.editor").fill("never saved")
    row(3).locator("textarea.editor").press("Escape")
    expect(row(3).locator("textarea.editor")).to_have_count(0)
    expect(row(3).locator(".target")).to_have_text(SCRIPT_TARGET)   # shown as text, not markup
    expect(row(3).locator("td.source")).to_have_text(SCRIPT_SOURCE)

    page.keyboard.press("j")                                   # edit 4, then undo it
    page.keyboard.press("e")
    row(4).locator("textarea.editor").fill(WITHDRAWN)
    row(4).locator("textarea.editor").press("Enter")
    expect(row(4)).to_have_attribute("data-status", "edited")
    page.keyboard.press("u")
    expect(row(4)).to_have_attribute("data-status", "pending")
    expect(row(4).locator(".target")).to_have_text(PAIRS[4][1])

    page.keyboard.press("j")                                   # approve 5, undo it
    page.keyboard.press("a")
    expect(row(5)).to_have_attribute("data-status", "approved")
    page.keyboard.press("u")
    expect(row(5)).to_have_attribute("data-status", "pending")

    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    expect(page.locator("#help")).to_contain_text("undo")
    page.keyboard.press("Escape")
    expect(page.locator("#help")).to_be_hidden()

    # history opens on demand and lists the machine text and the edit
    row(2).locator("details.history summary").click()
    expect(row(2).locator(".history-list")).to_contain_text(EDITED)
    expect(row(2).locator(".history-list")).to_contain_text("Layla")

    if os.environ.get("REVIEW_SCREENSHOT") == "1":
        row(3).locator("details.signals summary").click()
        page.keyboard.press("k")
        bottom = page.locator("table.pairs").bounding_box()
        page.screenshot(path=str(ROOT / "docs" / "review.png"),
                        clip={"x": 0, "y": 0, "width": 1360, "height": bottom["y"] + bottom["height"] + 16})

    # the reviewer name survives a reload; a reload shows the stored state
    page.reload()
    expect(page.locator("#reviewer")).to_have_value("Layla")
    expect(row(2)).to_have_attribute("data-status", "edited")
    expect(row(2).locator(".target")).to_have_text(EDITED)
    assert dialogs == []                                               # no corpus script ran

    with sqlite3.connect(db) as con:
        status = dict(con.execute("SELECT id, status FROM translations"))
        assert [status[i] for i in ids] == ["approved", "rejected", "edited", "pending", "pending", "pending"]
        machine = dict(con.execute("SELECT id, text FROM translations"))
        assert [machine[i] for i in ids] == [en for _, en, _ in PAIRS]           # machine text kept
        edits = con.execute("SELECT translation_id, text, reviewer, created_at, undone_at FROM edits"
                            " ORDER BY id").fetchall()
        assert [(e[0], e[1], e[2], e[4] is None) for e in edits] == [(ids[2], EDITED, "Layla", True),
                                                                     (ids[4], WITHDRAWN, "Layla", False)]
        assert all(datetime.fromisoformat(e[3]) for e in edits)
        log = con.execute("SELECT translation_id, action, old_status, new_status, reviewer FROM review_log"
                          " ORDER BY id").fetchall()
        assert log == [(ids[0], "approve", "pending", "approved", "Layla"),
                       (ids[1], "reject", "pending", "rejected", "Layla"),
                       (ids[2], "edit", "pending", "edited", "Layla"),
                       (ids[4], "edit", "pending", "edited", "Layla"),
                       (ids[4], "undo", "edited", "pending", "Layla"),
                       (ids[5], "approve", "pending", "approved", "Layla"),
                       (ids[5], "undo", "approved", "pending", "Layla")]

    def export(status: str) -> dict[int, str]:
        out = tmp_path / f"{status}.jsonl"
        result = run_cli("export", "--db", db, "--format", "jsonl", "--status", status, "-o", out)
        assert result.returncode == 0, result.stderr
        return {r["id"]: r["target"] for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}

    assert export("edited") == {ids[2]: EDITED}
    assert export("approved") == {ids[0]: PAIRS[0][1]}
    assert export("pending")[ids[4]] == PAIRS[4][1]                   # the undone edit is not exported


def test_bulk_approve_updates_the_shown_rows(review_server, page):
    db, ids, server = review_server
    page.goto(server.base + "/?min=0.5")
    expect(page.locator("tr.pair")).to_have_count(4)
    page.fill("form.bulk input[name=min_score]", "0.75")
    page.click("form.bulk button[type=submit]")
    expect(page.locator(f"#pair-{ids[0]}")).to_have_attribute("data-status", "approved")
    expect(page.locator(f"#pair-{ids[5]}")).to_have_attribute("data-status", "approved")
    expect(page.locator("#flash")).to_have_text("Approved 2 pairs.")
    page.keyboard.press("u")                                   # one undo takes back the whole bulk
    expect(page.locator(f"#pair-{ids[0]}")).to_have_attribute("data-status", "pending")
    expect(page.locator(f"#pair-{ids[5]}")).to_have_attribute("data-status", "pending")
    page.keyboard.press("u")
    expect(page.locator("#flash")).to_have_text("Nothing to undo in this tab.")
    with sqlite3.connect(db) as con:
        assert {r[0] for r in con.execute("SELECT status FROM translations")} == {"pending"}
        assert [r[0] for r in con.execute("SELECT action FROM review_log ORDER BY id")] == \
            ["bulk-approve", "bulk-approve", "undo", "undo"]
        assert {r[0] for r in con.execute("SELECT reviewer FROM review_log")} == {"tester"}


def test_without_a_reviewer_name_nothing_is_saved_until_one_is_typed(tmp_path, page):
    db = tmp_path / "corpus.sqlite"
    ids = make_store(db, {"news/budget.txt": PAIRS[:2]})
    server = Server(db)                                                # no --reviewer
    try:
        page.goto(server.base + "/")
        expect(page.locator("#reviewer")).to_have_value("")
        page.keyboard.press("a")
        expect(page.locator("#flash")).to_contain_text("enter your name")
        expect(page.locator("#reviewer")).to_be_focused()
        page.keyboard.type("Omar")
        page.locator("#reviewer").dispatch_event("change")
        page.locator("h1").click()
        page.keyboard.press("k")
        page.keyboard.press("a")
        expect(page.locator(f"#pair-{ids[0]}")).to_have_attribute("data-status", "approved")
    finally:
        server.stop()
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT translation_id, action, reviewer FROM review_log").fetchall() == [
            (ids[0], "approve", "Omar")]


def test_j_and_k_go_on_to_the_next_and_previous_page(tmp_path, page):
    db = tmp_path / "corpus.sqlite"
    ids = make_store(db, {"news/long.txt": [(f"الجملة رقم {i}.", f"Sentence {i}.", 0.5) for i in range(55)]})
    server = Server(db, "--reviewer", "tester")
    try:
        page.goto(server.base + "/")
        expect(page.locator("tr.pair")).to_have_count(50)
        for _ in range(49):
            page.keyboard.press("j")
        expect(page.locator(f"#pair-{ids[49]}")).to_have_class("pair status-pending current")
        page.keyboard.press("j")
        expect(page.locator("tr.pair")).to_have_count(5)
        assert page.url.endswith(f"/?after={ids[49]}")
        expect(page.locator(f"#pair-{ids[50]}")).to_have_class("pair status-pending current")
        page.keyboard.press("k")
        expect(page.locator("tr.pair")).to_have_count(50)
        expect(page.locator(f"#pair-{ids[0]}")).to_be_visible()
    finally:
        server.stop()
