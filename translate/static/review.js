// Review page keys and actions. Plain JavaScript, no build step.
// Corpus text is only ever set with textContent (never innerHTML), so it cannot become markup.
"use strict";

const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
const rows = Array.from(document.querySelectorAll("tr.pair"));
const flashBox = document.getElementById("flash");
const reviewerInput = document.getElementById("reviewer");
const helpBox = document.getElementById("help");
const UNDO_KEY = "review-undo";      // sessionStorage: this tab's actions, each a list of review_log ids
let current = -1;

// ---- reviewer name, remembered in this browser --------------------------------------------------
reviewerInput.value = localStorage.getItem("review-reviewer") || document.body.dataset.defaultReviewer || "";
reviewerInput.addEventListener("change", () => localStorage.setItem("review-reviewer", reviewerInput.value.trim()));

function flash(message, isError) {
  flashBox.textContent = message;
  flashBox.className = isError ? "error" : "";
}

// ---- moving between rows ------------------------------------------------------------------------
function select(index) {
  if (!rows.length) return;
  index = Math.max(0, Math.min(rows.length - 1, index));
  if (current >= 0) rows[current].classList.remove("current");
  current = index;
  rows[current].classList.add("current");
  rows[current].scrollIntoView({block: "nearest"});
}
rows.forEach((row, i) => row.addEventListener("click", (event) => {
  if (!event.target.closest("a, summary, textarea")) select(i);
}));

// ---- talking to the server ----------------------------------------------------------------------
let lastFailure = 0;     // HTTP status of the last refused POST (0: no answer)

async function post(url, body) {
  let response, data;
  lastFailure = 0;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrfToken},
      body: JSON.stringify({...body, reviewer: reviewerInput.value.trim()}),
    });
    data = await response.json();
  } catch (err) {
    flash("Not saved: " + (response ? response.status + " " + response.statusText : "the server did not answer"), true);
    return null;
  }
  if (!response.ok) {
    lastFailure = response.status;
    flash("Not saved: " + (data.error || response.statusText), true);
    if (response.status === 400 && /reviewer/.test(data.error || "")) reviewerInput.focus();
    return null;
  }
  return data;
}

function showPair(pair) {
  const row = document.getElementById("pair-" + pair.id);
  if (!row) return;
  row.dataset.status = pair.status;
  row.className = row.className.replace(/\bstatus-\w+/, "status-" + pair.status);
  row.querySelector(".status .badge").textContent = pair.status;
  row.querySelector(".target").textContent = pair.target;
  row.querySelector(".machine .mt").textContent = pair.mt_text;
  row.querySelector(".machine").hidden = !pair.edited;
  const history = row.querySelector("details.history");
  if (history.open) loadHistory(row);
}

function remember(logIds) {
  if (!logIds || !logIds.length) return;
  const stack = JSON.parse(sessionStorage.getItem(UNDO_KEY) || "[]");
  stack.push(logIds);
  sessionStorage.setItem(UNDO_KEY, JSON.stringify(stack.slice(-500)));
}

function currentRow() {
  if (current < 0) select(0);
  return rows[current];
}

// actions run one after another, in the order of the keys, so `u` always sees the action before it
let queue = Promise.resolve();
function enqueue(job) {
  const next = queue.then(job, job);
  queue = next.catch(() => false);
  return next;
}

function act(verb, row, extra) {
  return enqueue(async () => {
    const data = await post("/api/pairs/" + row.dataset.id + "/" + verb, extra || {});
    if (!data) return false;
    showPair(data.pair);
    remember(data.log_ids);
    flash(data.changed ? "#" + data.pair.id + " " + data.pair.status : "#" + data.pair.id + " unchanged");
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
  const data = await post("/api/undo", {log_ids: last});
  if (!data) {
    // refused for good (409: already undone, or changed since): drop it, so the next `u` goes further
    // back; otherwise (no reviewer name, no answer) keep it for the next try
    if (lastFailure === 409) sessionStorage.setItem(UNDO_KEY, JSON.stringify(stack));
    return;
  }
  sessionStorage.setItem(UNDO_KEY, JSON.stringify(stack));
  data.pairs.forEach(showPair);
  const ids = data.pairs.map((p) => "#" + p.id).join(", ");
  flash("Undone: " + ids + (data.skipped.length ? " (" + data.skipped.join("; ") + ")" : ""));
  const first = rows.findIndex((r) => data.pairs.some((p) => String(p.id) === r.dataset.id));
  if (first >= 0) select(first);
}

// ---- editing the English in place ---------------------------------------------------------------
function edit() {
  const row = currentRow();
  if (!row || row.querySelector("textarea.editor")) return;
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

// ---- history, loaded when opened ----------------------------------------------------------------
async function loadHistory(row) {
  const list = row.querySelector(".history-list");
  const response = await fetch("/api/pairs/" + row.dataset.id + "/history");
  if (!response.ok) return;
  const data = await response.json();
  const items = [["machine", data.machine_text, false]];
  data.edits.forEach((e) => items.push([e.created_at + " " + e.reviewer, e.text, Boolean(e.undone_at)]));
  data.log.forEach((l) => items.push([l.created_at + " " + l.reviewer, l.action + ": " + l.old_status + " → " + l.new_status, false]));
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

// ---- bulk approve: the form works without JavaScript; with it, rows update in place ------------
document.getElementById("bulk").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  enqueue(() => bulkApprove(form));
});

async function bulkApprove(form) {
  const ids = Array.from(form.querySelectorAll('input[name="ids"]'), (input) => Number(input.value));
  const data = await post("/api/bulk-approve", {ids: ids, min_score: form.elements.min_score.value});
  if (!data) return;
  data.pairs.forEach(showPair);
  remember(data.log_ids);
  flash("Approved " + data.pairs.length + " pair" + (data.pairs.length === 1 ? "" : "s") + ".");
}

// j past the last row or k before the first goes on to the next or previous page (after pending saves)
function goTo(linkId) {
  const link = document.getElementById(linkId);
  if (link) enqueue(() => { window.location.href = link.href; });
}

// approve or reject the current pair and move on at once (the request finishes in the background)
function decide(verb) {
  const row = currentRow();
  if (!row) return;
  select(current + 1);
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
  const commands = {
    j: () => (current === rows.length - 1 ? goTo("next-page") : select(current + 1)),
    k: () => (current <= 0 ? goTo("prev-page") : select(current - 1)),
    a: () => decide("approve"),
    r: () => decide("reject"),
    e: edit,
    u: undo,
    "?": () => toggleHelp(),
  };
  if (commands[key]) {
    event.preventDefault();
    commands[key]();
  }
});

if (rows.length) select(0);
