// Review page keys, buttons and actions. Plain JavaScript, no build step.
// Corpus text is only ever set with textContent (never innerHTML), so it cannot become markup.
"use strict";

const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
const rows = Array.from(document.querySelectorAll("table.pairs:not(.document) tr.pair"));
const flashBox = document.getElementById("flash");
const reviewerInput = document.getElementById("reviewer");
const helpBox = document.getElementById("help");
const progress = document.getElementById("progress");
const pageQuery = progress ? progress.dataset.query : "";
const UNDO_KEY = "review-undo";      // sessionStorage: this tab's actions ({log_ids} or {batch})
const FLASH_KEY = "review-flash";    // a message to show after the page reloads
let current = -1;

// ---- reviewer name, remembered in this browser --------------------------------------------------
// (team review: the name comes from the reviewer's token and the field is read-only)
const teamMode = Boolean(document.body.dataset.team);
if (!teamMode) {
  reviewerInput.value = localStorage.getItem("review-reviewer") || document.body.dataset.defaultReviewer || "";
  reviewerInput.addEventListener("change", () => localStorage.setItem("review-reviewer", reviewerInput.value.trim()));
}

function flash(message, isError) {
  if (!flashBox) return;
  flashBox.textContent = message;
  flashBox.className = isError ? "error" : "";
}

// ---- moving between rows; the address keeps the current pair, so a reload comes back to it ------
function select(index, scroll = true, keepAddress = false) {
  if (!rows.length) return;
  index = Math.max(0, Math.min(rows.length - 1, index));
  if (current >= 0) {
    rows[current].classList.remove("current");
    rows[current].removeAttribute("aria-current");
  }
  current = index;
  const row = rows[current];
  row.classList.add("current");
  row.setAttribute("aria-current", "true");
  if (scroll) row.scrollIntoView({block: "nearest"});
  if (document.activeElement === document.body || document.activeElement.matches("tr.pair")) {
    row.focus({preventScroll: true});
  }
  // (not on load: a fragment written then would make the browser scroll to it once the page is loaded)
  if (!keepAddress) history.replaceState(null, "", location.pathname + location.search + "#pair-" + row.dataset.id);
}
rows.forEach((row, i) => {
  row.addEventListener("click", (event) => {
    if (!event.target.closest("a, summary, textarea, input, button")) select(i, false);
  });
  // Tab moves through the rows too: a focused row is the current one
  row.addEventListener("focus", () => { if (current !== i) select(i, false); });
});

// ---- talking to the server ----------------------------------------------------------------------
async function post(url, body) {
  let response, data;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrfToken},
      body: JSON.stringify({...body, reviewer: reviewerInput.value.trim()}),
    });
    data = await response.json();
  } catch (err) {
    return {ok: false, status: 0, error: response ? response.status + " " + response.statusText
                                                   : "the server did not answer"};
  }
  if (!response.ok) {
    if (response.status === 400 && /reviewer/.test(data.error || "")) reviewerInput.focus();
    return {ok: false, status: response.status, error: data.error || response.statusText};
  }
  return {ok: true, data: data};
}

function rowOf(id) { return document.getElementById("pair-" + id); }

function showRowError(row, message) {
  const box = row.querySelector(".row-error");
  box.textContent = message ? "Not saved: " + message : "";
  box.hidden = !message;
  row.classList.toggle("failed", Boolean(message));
}

function showPair(pair) {
  const row = rowOf(pair.id);
  if (!row) return;
  row.dataset.status = pair.status;
  row.className = row.className.replace(/\bstatus-\w+/, "status-" + pair.status);
  row.querySelector(".status .badge").textContent = pair.status;
  row.querySelector(".target").textContent = pair.target;
  row.querySelector(".original .mt").textContent = pair.original;
  row.querySelector(".original").hidden = !pair.edited;
  row.querySelector(".reject-reason").textContent =
    pair.reject_reason_text + (pair.reject_comment ? ": " + pair.reject_comment : "");
  const scoreBox = row.querySelector(".score-value");
  if (scoreBox && pair.score !== null) {
    scoreBox.textContent = pair.score_text;
    scoreBox.className = "score-value label-" + pair.label;
    scoreBox.title = pair.label;
    row.querySelector(".label-text").textContent = pair.label;
  }
  const list = row.querySelector(".reasons");
  list.replaceChildren(...pair.reasons.map((text) => {
    const li = document.createElement("li");
    li.textContent = text;
    return li;
  }));
  showRowError(row, "");
  const historyBox = row.querySelector("details.history");
  if (historyBox.open) loadHistory(row);
}

function remember(entry) {
  const stack = JSON.parse(sessionStorage.getItem(UNDO_KEY) || "[]");
  stack.push(entry);
  sessionStorage.setItem(UNDO_KEY, JSON.stringify(stack.slice(-500)));
}

// the counts at the top follow every action (read again from the server: other reviewers count too)
let countsTimer = null;
function refreshCounts(delay = 150) {
  clearTimeout(countsTimer);
  countsTimer = setTimeout(async () => {
    const response = await fetch("/api/counts?" + pageQuery).catch(() => null);
    if (!response || !response.ok) return;
    const data = await response.json();
    for (const [scope, counts] of Object.entries(data)) {
      const line = document.querySelector('[data-scope="' + scope + '"]');
      if (!line) continue;
      for (const [key, value] of Object.entries(counts)) {
        const cell = line.querySelector(".count-" + key);
        if (cell) cell.textContent = value.toLocaleString("en-US");
      }
    }
    let x = 0;
    document.querySelectorAll("#progress-bar rect").forEach((rect) => {
      const width = data.filter.total ? 1000 * data.filter[rect.dataset.status] / data.filter.total : 0;
      rect.setAttribute("x", x.toFixed(1));
      rect.setAttribute("width", width.toFixed(1));
      x += width;
    });
    const total = document.querySelector("#position .position-total");
    if (total) total.textContent = data.filter.total.toLocaleString("en-US");
  }, delay);
}
if (progress && progress.dataset.lazy) refreshCounts(0);

function currentRow() {
  if (current < 0) select(0);
  return rows[current];
}

// actions run one after another, in the order of the keys, so `u` always sees the action before it;
// <body data-busy> is set while any is unsaved or the page is on its way to another (scripts and tests
// wait for it to clear before they read which pair is current)
let queue = Promise.resolve();
let unfinished = 0;
let leaving = false;
function markBusy() {
  if (unfinished > 0 || leaving) document.body.dataset.busy = leaving ? "leaving" : "saving";
  else delete document.body.dataset.busy;
}
function enqueue(job) {
  unfinished += 1;
  markBusy();
  const next = queue.then(job, job);
  queue = next.catch(() => false).finally(() => { unfinished -= 1; markBusy(); });
  return next;
}
function leave(url) {
  leaving = true;
  markBusy();
  window.location.href = url;
}
// coming back through the browser's cache is not leaving
window.addEventListener("pageshow", () => { leaving = false; markBusy(); });

function act(verb, row, extra) {
  return enqueue(async () => {
    const result = await post("/api/pairs/" + row.dataset.id + "/" + verb, extra || {});
    if (!result.ok) {
      // the failure is shown at the pair, and the selection goes back to it
      showRowError(row, result.error);
      flash("Not saved: #" + row.dataset.id + ": " + result.error, true);
      const index = rows.indexOf(row);
      if (index >= 0) select(index);
      return false;
    }
    const data = result.data;
    showPair(data.pair);
    if (data.log_ids.length) remember({log_ids: data.log_ids});
    flash(data.changed ? "#" + data.pair.id + " " + data.pair.status : "#" + data.pair.id + " unchanged");
    refreshCounts();
    return true;
  });
}

function undo() {
  return enqueue(undoLast);
}

async function undoLast() {
  const stack = JSON.parse(sessionStorage.getItem(UNDO_KEY) || "[]");
  const last = stack.pop();
  if (!last) { flash("Nothing to undo in this tab."); return; }
  const result = await post("/api/undo", Array.isArray(last) ? {log_ids: last} : last);
  if (!result.ok) {
    // refused for good (409: already undone, or changed since): drop it, so the next `u` goes further
    // back; otherwise (no reviewer name, no answer) keep it for the next try
    if (result.status === 409) sessionStorage.setItem(UNDO_KEY, JSON.stringify(stack));
    flash("Not undone: " + result.error, true);
    return;
  }
  sessionStorage.setItem(UNDO_KEY, JSON.stringify(stack));
  const data = result.data;
  data.pairs.forEach(showPair);
  const shown = data.count > data.pairs.length ? data.count + " pairs" : data.pairs.map((p) => "#" + p.id).join(", ");
  flash("Undone: " + shown + (data.skipped.length ? " (" + data.skipped.join("; ") + ")" : ""));
  refreshCounts();
  const first = rows.findIndex((r) => data.pairs.some((p) => String(p.id) === r.dataset.id));
  if (first >= 0) select(first);
}

// ---- editing the English in place ---------------------------------------------------------------
function edit(row) {
  row = row || currentRow();
  if (!row || row.querySelector("textarea.editor")) return;
  select(rows.indexOf(row));
  const target = row.querySelector(".target");
  const editor = document.createElement("textarea");
  editor.className = "editor";
  editor.value = target.textContent;
  editor.setAttribute("aria-label", "English translation of pair " + row.dataset.id);
  target.hidden = true;
  target.after(editor);
  editor.focus();
  editor.select();
  const close = () => { editor.remove(); target.hidden = false; row.focus({preventScroll: true}); };
  editor.addEventListener("keydown", async (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
      flash("Edit cancelled.");
    } else if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      if (editor.dataset.saving) return;
      editor.dataset.saving = "1";
      const saved = await act("edit", row, {text: editor.value});
      delete editor.dataset.saving;
      if (saved) close();
    }
  });
}

// ---- reject, then a reason (1-7) -----------------------------------------------------------------
let picking = null;      // the row whose reason picker is open

function reject(row) {
  row = row || currentRow();
  if (!row) return;
  select(rows.indexOf(row));
  act("reject", row).then((saved) => { if (saved) openPicker(row); });
}

function openPicker(row) {
  closePicker();
  picking = row;
  row.querySelector(".reason-picker").hidden = false;
}

function closePicker(moveOn) {
  if (!picking) return;
  const row = picking;
  picking = null;
  row.querySelector(".reason-picker").hidden = true;
  if (moveOn && rows.indexOf(row) === current) select(current + 1);
}

function chooseReason(row, reason) {
  const comment = row.querySelector(".reason-comment").value;
  closePicker(true);
  act("reason", row, {reason: reason, comment: comment});
}

rows.forEach((row) => {
  row.querySelectorAll(".reason-picker button").forEach((button) =>
    button.addEventListener("click", () => chooseReason(row, button.dataset.reason)));
  row.querySelector(".reason-comment").addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); chooseReason(row, "other"); }
    if (event.key === "Escape") { event.preventDefault(); closePicker(true); }
  });
  row.querySelector(".act-approve").addEventListener("click", () => decide("approve", row));
  row.querySelector(".act-reject").addEventListener("click", () => reject(row));
  row.querySelector(".act-edit").addEventListener("click", () => edit(row));
  row.querySelector(".act-context").addEventListener("click", () => toggleContext(row));
});

// ---- context: the sentences before and after, on demand -----------------------------------------
async function toggleContext(row) {
  row = row || currentRow();
  if (!row) return;
  const box = row.querySelector(".context");
  if (!box.hidden) { box.hidden = true; return; }
  const response = await fetch("/api/pairs/" + row.dataset.id + "/context").catch(() => null);
  if (!response || !response.ok) { flash("Could not load the context.", true); return; }
  const data = await response.json();
  const part = (title, pair) => {
    const block = document.createElement("div");
    block.className = "context-pair";
    const head = document.createElement("div");
    head.className = "context-title";
    head.textContent = pair ? title + " (#" + pair.id + ", " + pair.status + ")" : title + ": none (document edge)";
    block.append(head);
    if (pair) {
      const ar = document.createElement("div");
      ar.lang = "ar"; ar.dir = "rtl"; ar.className = "context-ar"; ar.textContent = pair.source;
      const en = document.createElement("div");
      en.lang = "en"; en.className = "context-en"; en.textContent = pair.target;
      block.append(ar, en);
    }
    return block;
  };
  const link = document.createElement("a");
  link.href = row.querySelector("a.doc-view").href;
  link.textContent = "whole document →";
  box.replaceChildren(part("before", data.before), part("after", data.after), link);
  box.hidden = false;
}

// ---- history, loaded when opened ----------------------------------------------------------------
async function loadHistory(row) {
  const list = row.querySelector(".history-list");
  const response = await fetch("/api/pairs/" + row.dataset.id + "/history");
  if (!response.ok) return;
  const data = await response.json();
  const items = [[data.origin_text + (data.model ? " (" + data.model + ")" : ""), data.original_text, false]];
  if (data.bridge) items.push(["MT bridge", data.bridge, false]);
  data.edits.forEach((e) => items.push([e.created_at + " " + e.reviewer + " edited",
    e.text + (e.old_score !== null ? "  [score before: " + e.old_score_text + " " + e.old_label + "]" : ""),
    Boolean(e.undone_at)]));
  data.log.forEach((l) => items.push([l.created_at + " " + l.reviewer,
    l.action + ": " + l.old_status + " → " + l.new_status + (l.reason ? " (" + l.reason + ")" : "") +
    (l.comment ? ": " + l.comment : "") +
    (l.from_pair ? " (carried from pair " + l.from_pair + ", an earlier version of the document)" : "") +
    (l.action === "import" ? " (from the imported translation memory)" : ""), false]));
  list.replaceChildren(...items.map(([who, text, undone]) => {
    const li = document.createElement("li");
    li.textContent = who + ": " + text + (undone ? " (undone)" : "");
    if (undone) li.className = "undone";
    return li;
  }));
}
document.querySelectorAll("details.history").forEach((details) => details.addEventListener("toggle", () => {
  if (details.open) loadHistory(details.closest("tr"));
}));

// ---- bulk approve over the whole filter: count first, then confirm ------------------------------
const bulkForm = document.getElementById("bulk");
if (bulkForm) {
  const confirmBox = document.getElementById("bulk-confirm");
  bulkForm.addEventListener("submit", (event) => {
    event.preventDefault();
    enqueue(async () => {
      const minScore = bulkForm.elements.min_score.value;
      const result = await post("/api/bulk-approve?" + pageQuery, {min_score: minScore, count_only: true});
      if (!result.ok) { flash("Not counted: " + result.error, true); return; }
      const n = result.data.count;
      confirmBox.querySelector(".bulk-message").textContent =
        n.toLocaleString("en-US") + " pending pair" + (n === 1 ? "" : "s") + " in this filter score at least " + minScore + ".";
      document.getElementById("bulk-go").hidden = n === 0;
      document.getElementById("bulk-go").textContent = "Approve " + n.toLocaleString("en-US");
      confirmBox.hidden = false;
    });
  });
  document.getElementById("bulk-cancel").addEventListener("click", () => { confirmBox.hidden = true; });
  document.getElementById("bulk-go").addEventListener("click", () => enqueue(async () => {
    const result = await post("/api/bulk-approve?" + pageQuery, {min_score: bulkForm.elements.min_score.value});
    confirmBox.hidden = true;
    if (!result.ok) { flash("Not saved: " + result.error, true); return; }
    if (result.data.batch) remember({batch: result.data.batch});
    sessionStorage.setItem(FLASH_KEY, "Approved " + result.data.count.toLocaleString("en-US") +
                           " pairs (u undoes them all).");
    location.reload();
  }));
}

// j past the last row or k before the first goes on to the next or previous page (after pending saves);
// k lands on the last row of the previous page
function goTo(linkId, hash) {
  const link = document.getElementById(linkId);
  if (link) enqueue(() => { leave(link.href + (hash || "")); });
}

// the next pending pair in this order: on this page if there is one, else across pages
// (team review: always the server's answer, which hands out only pairs claimed for this reviewer)
function nextPending() {
  if (teamMode) { nextClaimed(); return; }
  const start = current < 0 ? 0 : current + 1;
  const index = rows.findIndex((r, i) => i >= start && r.dataset.status === "pending");
  if (index >= 0) { select(index); return; }
  const after = rows.length ? rows[rows.length - 1].dataset.id : "";
  enqueue(async () => {
    const response = await fetch("/api/next-pending?" + pageQuery + (after ? "&after=" + after : "")).catch(() => null);
    if (!response || !response.ok) { flash("Could not look for the next pending pair.", true); return; }
    const data = await response.json();
    if (data.id === null) flash("No pending pair after this one in this order.");
    else leave(data.url);
  });
}

function nextClaimed() {
  enqueue(async () => {
    const response = await fetch("/api/next-pending?" + pageQuery).catch(() => null);
    if (!response || !response.ok) { flash("Could not look for the next pending pair.", true); return; }
    const data = await response.json();
    if (data.id === null) { flash("No pending pair left for you in this order."); return; }
    const index = rows.findIndex((r) => r.dataset.id === String(data.id));
    if (index >= 0) {
      rows[index].dataset.claim = "mine";
      select(index);
    } else {
      leave(data.url);
    }
  });
}

// approve the current pair and move on at once (the request finishes in the background)
function decide(verb, row) {
  row = row || currentRow();
  if (!row) return;
  const index = rows.indexOf(row);
  if (index === current) select(current + 1);
  act(verb, row);
}

// ---- keys ---------------------------------------------------------------------------------------
function toggleHelp(show) { helpBox.hidden = show === undefined ? !helpBox.hidden : !show; }
document.getElementById("show-help").addEventListener("click", () => toggleHelp());

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.closest("input, textarea, select")) return;   // typing, not commands
  const key = event.key;
  if (key === "Escape" && !helpBox.hidden) { toggleHelp(false); return; }
  if (picking) {
    const reasons = Array.from(picking.querySelectorAll(".reason-picker button"));
    if (/^[1-9]$/.test(key) && Number(key) <= reasons.length) {
      event.preventDefault();
      if (!event.repeat) chooseReason(picking, reasons[Number(key) - 1].dataset.reason);
      return;
    }
    if (key === "Escape") { event.preventDefault(); closePicker(true); flash("Rejected without a reason."); return; }
    closePicker(false);
  }
  // a held key repeats: moving may repeat, deciding never does
  const decisive = {a: true, r: true, e: true, u: true, n: true};
  if (event.repeat && decisive[key]) { event.preventDefault(); return; }
  const commands = {
    j: () => (current === rows.length - 1 ? goTo("next-page") : select(current + 1)),
    k: () => (current <= 0 ? goTo("prev-page", "#last") : select(current - 1)),
    n: nextPending,
    a: () => decide("approve"),
    r: () => reject(),
    e: () => edit(),
    c: () => toggleContext(),
    d: () => { const row = currentRow(); if (row) leave(row.querySelector("a.doc-view").href); },
    u: undo,
    "?": () => toggleHelp(),
  };
  if (commands[key] && (rows.length || key === "u" || key === "?")) {
    event.preventDefault();
    commands[key]();
  }
});

// ---- a page opened at some pair: its position is counted after it is shown -------------------------
const positionBox = document.getElementById("position");
if (positionBox && positionBox.dataset.countFrom) {
  fetch("/api/position?" + pageQuery + (pageQuery ? "&" : "") + "id=" + positionBox.dataset.countFrom)
    .then((response) => (response.ok ? response.json() : null))
    .then((data) => {
      if (!data) return;
      positionBox.querySelector(".first").textContent = data.position.toLocaleString("en-US");
      positionBox.querySelector(".last").textContent =
        (data.position + Number(positionBox.dataset.rows) - 1).toLocaleString("en-US");
    })
    .catch(() => {});
}

// ---- narrow screens: the filters fold behind one control ----------------------------------------
const filtersToggle = document.getElementById("filters-toggle");
if (filtersToggle) filtersToggle.addEventListener("click", () => {
  const open = document.body.classList.toggle("filters-open");
  filtersToggle.setAttribute("aria-expanded", String(open));
});

// ---- on load: back to the pair in the address, and any message left before a reload -------------
const pending = sessionStorage.getItem(FLASH_KEY);
if (pending) { flash(pending); sessionStorage.removeItem(FLASH_KEY); }
if (rows.length) {
  const wanted = location.hash === "#last" ? rows.length - 1
    : rows.findIndex((r) => "#pair-" + r.dataset.id === location.hash);
  select(wanted >= 0 ? wanted : 0, wanted >= 0, true);
}
