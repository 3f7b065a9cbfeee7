"""The review page in a real Chromium: keys j/k/a/r/e/u/?, the reviewer field, the SQLite rows it writes,
and `translate export` using the edited text. REVIEW_SCREENSHOT=1 also writes docs/review.png."""
from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from conftest import ROOT, require_chromium, run_cli
from test_review import SCRIPT_SOURCE, SCRIPT_TARGET, Server, make_store

require_chromium()

from playwright.sync_api import expect  # noqa: E402

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


def statuses_of(db: Path, ids: list[int]) -> list[str]:
    with sqlite3.connect(db) as con:
        status = dict(con.execute("SELECT id, status FROM translations"))
    return [status[i] for i in ids]


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
    page.locator("#position").click()      # out of the field (a neutral spot: the title is a link)

    expect(row(0)).to_have_class("pair status-pending current")
    page.keyboard.press("a")                                   # approve 0, move to 1
    expect(row(0)).to_have_attribute("data-status", "approved")
    expect(row(1)).to_have_class("pair status-pending current")
    page.keyboard.press("r")                                   # reject 1; Esc: no reason, move to 2
    expect(row(1)).to_have_attribute("data-status", "rejected")
    expect(row(1).locator(".reason-picker")).to_be_visible()
    page.keyboard.press("Escape")
    expect(row(1).locator(".reason-picker")).to_be_hidden()
    expect(row(2)).to_have_class("pair status-pending current")
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
    expect(row(2).locator(".original .mt")).to_have_text(PAIRS[2][1])
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
    expect(page.locator("form.bulk input[name=min_score]")).to_have_value("0.60")   # the `good` threshold
    page.fill("form.bulk input[name=min_score]", "0.75")
    page.click("#bulk-count")                                  # it counts first, and asks
    expect(page.locator("#bulk-confirm")).to_contain_text("2 pending pairs in this filter score at least 0.75")
    assert statuses_of(db, ids) == ["pending"] * len(ids)
    page.click("#bulk-go")
    expect(page.locator("#flash")).to_have_text("Approved 2 pairs (u undoes them all).")
    expect(page.locator(f"#pair-{ids[0]}")).to_have_attribute("data-status", "approved")
    expect(page.locator(f"#pair-{ids[5]}")).to_have_attribute("data-status", "approved")
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
        page.locator("#position").click()      # out of the field (a neutral spot: the title is a link)
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
        assert f"/?after={ids[49]}" in page.url
        expect(page.locator(f"#pair-{ids[50]}")).to_have_class("pair status-pending current")
        page.keyboard.press("k")                                # the previous page, at its last row
        expect(page.locator("tr.pair")).to_have_count(50)
        expect(page.locator(f"#pair-{ids[49]}")).to_have_class("pair status-pending current")
        expect(page.locator(f"#pair-{ids[49]}")).to_have_attribute("aria-current", "true")
    finally:
        server.stop()


# ---- corpus scale: layout at desktop and phone widths, n / c / r+digit, robust keys ------------------
LONG_URL = "https://example.org/" + "a-very-long-unbroken-path-segment" * 6
CORPUS = [
    ("أعلنت الأمم المتحدة اليوم عن خطة جديدة لدعم اللاجئين في المنطقة خلال عام 2024.",
     "The United Nations today announced a new plan to support refugees in the region.", 0.35),
    ("وقال المتحدث إن الخطة ستبدأ الشهر المقبل وتستمر عامين.", "The spokesman said the plan will start next month and last two years.", 0.82),
    (f"ونشرت الوثيقة على الموقع {LONG_URL} مساء أمس.", f"The document was published on {LONG_URL} last night.", 0.66),
    ("وأضاف أن الميزانية تبلغ مليار دولار.", "He added.", 0.12),
    ("ورحب المزارعون بالقرار.", "The farmers welcomed the decision.", 0.74),
    ("ومن المتوقع أن تنخفض الأسعار في الأشهر القادمة.", "Prices are expected to fall in the coming months.", 0.58),
]


@pytest.fixture
def corpus_server(tmp_path):
    db = tmp_path / "corpus.sqlite"
    more = [(f"الجملة رقم {i} من التقرير الطويل.", f"Sentence number {i} of the long report.", 0.9)
            for i in range(60)]
    ids = make_store(db, {"news/un.txt": CORPUS, "news/report.txt": more})
    server = Server(db, "--reviewer", "tester")
    yield db, ids, server
    server.stop()


def sql_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as con:
        return dict(con.execute("SELECT status, COUNT(*) FROM translations GROUP BY status"))


def shown_count(page, scope: str, status: str) -> int:
    return int(page.locator(f'[data-scope="{scope}"] .count-{status}').inner_text().replace(",", ""))


@pytest.mark.parametrize("width,height,name", [(1400, 900, "desktop"), (420, 860, "phone")])
def test_layout_has_no_horizontal_scroll_and_buttons_work(browser, corpus_server, width, height, name):
    db, ids, server = corpus_server
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(server.base + "/?doc=1")
        expect(page.locator("tr.pair")).to_have_count(len(CORPUS))
        scroll = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert scroll[0] <= scroll[1], f"horizontal scroll at {width} px: {scroll}"
        source = page.locator(f"#pair-{ids[2]} td.source").bounding_box()
        target = page.locator(f"#pair-{ids[2]} td.target-cell").bounding_box()
        if name == "phone":
            assert source["width"] >= 300 and target["width"] >= 300
            assert target["y"] >= source["y"] + source["height"] - 1        # English below the Arabic
        else:
            assert source["width"] >= 300 and target["width"] >= 300
            expect(page.locator("table.pairs th").first).to_have_css("position", "sticky")
        # the score explained: legend and reasons in words
        expect(page.locator(f"#pair-{ids[3]} ul.reasons")).to_contain_text("English much shorter")
        expect(page.locator("#legend-line")).to_contain_text("good ≥ 0.60")
        expect(page.locator("#legend-line")).to_contain_text("bad < 0.30")
        # touch: the buttons approve and reject, and the reason buttons give the reason
        page.locator(f"#pair-{ids[1]} .act-approve").click()
        expect(page.locator(f"#pair-{ids[1]}")).to_have_attribute("data-status", "approved")
        page.locator(f"#pair-{ids[3]} .act-reject").click()
        expect(page.locator(f"#pair-{ids[3]} .reason-picker")).to_be_visible()
        page.locator(f'#pair-{ids[3]} .reason-picker button[data-reason="omission"]').click()
        expect(page.locator(f"#pair-{ids[3]} .reject-reason")).to_have_text("omission")
        expect(page.locator('[data-scope="filter"] .count-rejected')).to_have_text("1")
        if os.environ.get("REVIEW_SCREENSHOT") == "1":
            page.locator(f"#pair-{ids[0]} .act-context").click()
            expect(page.locator(f"#pair-{ids[0]} .context")).to_be_visible()
            page.evaluate("window.scrollTo(0, 0)")
            full = page.evaluate("document.documentElement.scrollHeight")
            page.screenshot(path=str(ROOT / "docs" / f"review-{name}.png"), full_page=True,
                            clip={"x": 0, "y": 0, "width": width, "height": min(full, 1900)})
    finally:
        context.close()
    assert statuses_of(db, ids[:4]) == ["pending", "approved", "pending", "rejected"]


def test_keys_n_c_reason_and_auto_repeat(corpus_server, page, tmp_path):
    db, ids, server = corpus_server
    page.goto(server.base + "/?doc=1")
    row = lambda i: page.locator(f"#pair-{ids[i]}")  # noqa: E731
    expect(row(0)).to_have_attribute("aria-current", "true")
    # a held key: the first keydown approves, the repeats do nothing
    page.keyboard.down("a")
    page.keyboard.down("a")
    page.keyboard.down("a")
    page.keyboard.up("a")
    expect(row(0)).to_have_attribute("data-status", "approved")
    expect(page.locator("#flash")).to_have_text(f"#{ids[0]} approved")
    assert statuses_of(db, ids[:3]) == ["approved", "pending", "pending"]
    # c: the sentences before and after, both languages
    page.keyboard.press("c")
    context_box = row(1).locator(".context")
    expect(context_box).to_contain_text(CORPUS[0][0])
    expect(context_box).to_contain_text(CORPUS[2][1])
    # r then a digit: rejected with that reason; the selection moves on
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(row(3)).to_have_attribute("aria-current", "true")
    page.keyboard.press("r")
    expect(row(3).locator(".reason-picker")).to_be_visible()
    page.keyboard.press("2")                                   # omission
    expect(row(3).locator(".reject-reason")).to_have_text("omission")
    expect(row(4)).to_have_attribute("aria-current", "true")
    # n: the next pending pair, skipping decided ones
    page.keyboard.press("k")
    page.keyboard.press("k")
    page.keyboard.press("n")
    expect(row(4)).to_have_attribute("aria-current", "true")
    # the counts on the page are the SQL counts
    expect(page.locator('[data-scope="filter"] .count-rejected')).to_have_text("1")
    counts = sql_counts(db)
    page.reload()
    for status in ("approved", "rejected", "pending"):
        assert shown_count(page, "store", status) == counts.get(status, 0)
    # a reload comes back to the same pair
    expect(row(4)).to_have_attribute("aria-current", "true")
    # the reason goes into both exports
    jsonl, tmx = tmp_path / "out.jsonl", tmp_path / "out.tmx"
    assert run_cli("export", "--db", db, "--format", "jsonl", "-o", jsonl).returncode == 0
    assert run_cli("export", "--db", db, "--format", "tmx", "-o", tmx).returncode == 0
    records = {r["id"]: r for r in map(json.loads, jsonl.read_text(encoding="utf-8").splitlines())}
    assert records[ids[3]]["reject_reason"] == "omission" and records[ids[3]]["status"] == "rejected"
    assert records[ids[1]]["reject_reason"] is None
    assert '<prop type="x-reject-reason">omission</prop>' in tmx.read_text(encoding="utf-8")


def test_n_goes_across_pages_and_search_normalises_arabic(corpus_server, page):
    db, ids, server = corpus_server
    with sqlite3.connect(db) as con:        # every pair of the first page decided but one far below
        con.execute("UPDATE translations SET status = 'approved' WHERE id NOT IN (?, ?)", (ids[-1], ids[-2]))
    page.goto(server.base + "/")
    expect(page.locator("tr.pair")).to_have_count(50)
    page.keyboard.press("n")
    expect(page.locator(f"#pair-{ids[-2]}")).to_have_attribute("aria-current", "true")
    assert f"from={ids[-2]}" in page.url
    page.keyboard.press("n")
    expect(page.locator(f"#pair-{ids[-1]}")).to_have_attribute("aria-current", "true")
    page.keyboard.press("n")
    expect(page.locator("#flash")).to_have_text("No pending pair after this one in this order.")
    # search: typed without hamza, found with it
    page.goto(server.base + "/")
    page.fill("input[name=q]", "الامم")
    page.press("input[name=q]", "Enter")
    expect(page.locator("tr.pair")).to_have_count(1)
    expect(page.locator(f"#pair-{ids[0]} td.source")).to_contain_text("الأمم")


def test_a_failed_save_stays_at_the_pair(corpus_server, page):
    db, ids, server = corpus_server
    page.goto(server.base + "/?doc=1")
    expect(page.locator(f"#pair-{ids[0]}")).to_have_attribute("aria-current", "true")
    server.stop()                                              # the server goes away
    page.keyboard.press("a")
    row = page.locator(f"#pair-{ids[0]}")
    expect(row.locator(".row-error")).to_be_visible()
    expect(row.locator(".row-error")).to_contain_text("Not saved")
    expect(row).to_have_attribute("aria-current", "true")      # the selection came back to it
    expect(row).to_have_attribute("data-status", "pending")
    assert statuses_of(db, ids[:1]) == ["pending"]


def test_document_view_and_stats_page(corpus_server, page):
    db, ids, server = corpus_server
    page.goto(server.base + "/doc/1")
    expect(page.locator("table.document tr.pair")).to_have_count(len(CORPUS))
    expect(page.locator(f"#pair-{ids[0]} td.source")).to_have_text(CORPUS[0][0])
    page.locator(f"#pair-{ids[2]} a.pair-id").click()          # back to the list, at that pair
    expect(page.locator(f"#pair-{ids[2]}")).to_have_attribute("aria-current", "true")
    page.goto(server.base + "/stats")
    expect(page.locator("#stats-counts")).to_contain_text(f"{len(ids)} pairs")
    assert page.locator(".charts svg").count() >= 2
