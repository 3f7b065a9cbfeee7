// The alignment editor (/align/ID): one row per link, keys and buttons for the operations of
// /api/alignments/ID/ops. Plain JavaScript; corpus text only ever set with textContent.
"use strict";

const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
const alignmentId = document.body.dataset.alignment;
const goodThreshold = parseFloat(document.body.dataset.good);
const rowsBox = document.getElementById("rows");
const flashBox = document.getElementById("flash");
const summaryBox = document.getElementById("align-summary");
const reviewerInput = document.getElementById("reviewer");
const helpBox = document.getElementById("help");
let state = JSON.parse(document.getElementById("alignment-data").textContent);
let current = 0;
let side = "en";
let busy = false;
// this page's changes, newest last: an English edit is undone through the pair list's undo, every
// other change through the alignment's own undo (which also undoes changes made elsewhere)
const undoStack = [];

if (!document.body.dataset.team) {     // team review: the name is the token's, shown read-only
  reviewerInput.value = localStorage.getItem("review-reviewer") || document.body.dataset.defaultReviewer || "";
  reviewerInput.addEventListener("change", () => localStorage.setItem("review-reviewer", reviewerInput.value.trim()));
}

function flash(message, isError) {
  flashBox.textContent = message;
  flashBox.className = isError ? "error" : "";
}

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function cell(which, row) {
  const box = el("div", "cell cell-" + which + (row[which].length ? "" : " empty"));
  box.dataset.side = which;
  if (which === "ar") { box.lang = "ar"; box.dir = "rtl"; } else { box.lang = "en"; box.dir = "ltr"; }
  if (!row[which].length) box.appendChild(el("span", "gap-mark", which === "ar" ? "— لا جملة —" : "— no sentence —"));
  for (const index of row[which]) {
    const sentence = el("span", "sentence");
    sentence.dataset.index = index;
    sentence.appendChild(el("sup", "sentence-no", String(index + 1)));
    sentence.appendChild(el("span", "sentence-text", state[which][index]));
    box.appendChild(sentence);
    box.appendChild(document.createTextNode(" "));
  }
  box.addEventListener("click", (event) => {
    event.stopPropagation();
    if (!event.target.closest("a")) moveTo(parseInt(box.closest(".arow").dataset.row, 10), which);
  });
  return box;
}

function render(scroll = true) {
  rowsBox.textContent = "";
  current = Math.max(0, Math.min(state.rows.length - 1, current));
  state.rows.forEach((row, k) => {
    const line = el("div", "arow status-" + row.status + (k === current ? " current" : ""));
    line.id = "row-" + k;
    line.setAttribute("role", "listitem");
    line.dataset.row = k;
    line.dataset.kind = row.kind;
    line.dataset.status = row.status;
    const info = el("div", "row-info");
    info.appendChild(el("span", "row-no", "#" + k));
    info.appendChild(el("span", "kind" + (row.kind === "1-1" ? "" : " kind-odd"), row.kind));
    const score = row.score === null ? "–" : row.score.toFixed(2);
    const low = row.score !== null && row.score < goodThreshold;
    info.appendChild(el("span", "row-score" + (low ? " low" : ""), score));
    info.appendChild(el("span", "row-status", row.status === "confirmed" ? "✔ confirmed" : "auto"));
    if (row.pair) {
      info.appendChild(el("span", "pair-status pair-" + row.pair_status, row.pair_status));
      const link = el("a", "pair-link", "pair #" + row.pair);
      link.href = "/?from=" + row.pair + "#pair-" + row.pair;
      info.appendChild(link);
    }
    line.appendChild(info);
    const ar = cell("ar", row), en = cell("en", row);
    if (k === current) (side === "ar" ? ar : en).classList.add("active-side");
    line.appendChild(ar);
    line.appendChild(en);
    line.addEventListener("click", (event) => {
      if (!event.target.closest("a")) moveTo(k);
    });
    rowsBox.appendChild(line);
  });
  document.querySelectorAll(".side-button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.side === side)));
  const rows = state.rows;
  const confirmed = rows.filter((r) => r.status === "confirmed").length;
  const odd = rows.filter((r) => r.kind !== "1-1").length;
  summaryBox.textContent = `${rows.length} rows · ${confirmed} confirmed · ${rows.length - confirmed} unconfirmed · `
    + `${odd} not 1-1 · ${state.ar.length} Arabic and ${state.en.length} English sentences · version ${state.version}`;
  const line = document.getElementById("row-" + current);
  if (scroll && line) line.scrollIntoView({block: "nearest"});
}

async function post(path, body) {
  if (busy) return;
  busy = true;
  try {
    const response = await fetch("/api/alignments/" + alignmentId + path, {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrfToken},
      body: JSON.stringify({...body, version: state.version, reviewer: reviewerInput.value.trim() || undefined}),
    });
    const data = await response.json();
    if (response.status === 409) {
      state = data.alignment;
      render();
      flash("Not saved: " + data.error, true);
      return;
    }
    if (!response.ok) { flash("Not saved: " + (data.error || response.statusText), true); return; }
    state = data;
    render();
    if (body.op) undoStack.push({op: body.op});
    flash("Saved (" + (body.op || "undo") + ").", false);
  } catch (err) {
    flash("Not saved: the server did not answer", true);
  } finally {
    busy = false;
  }
}

function caretIn() {
  // the sentence index and character offset of the text caret (or selection start) in the current row
  const selection = window.getSelection();
  if (!selection || !selection.rangeCount) return null;
  const range = selection.getRangeAt(0);
  const text = range.startContainer.parentElement && range.startContainer.parentElement.closest(".sentence-text");
  if (!text) return null;
  const sentence = text.closest(".sentence");
  return {side: sentence.closest(".cell").dataset.side, at: parseInt(sentence.dataset.index, 10),
          offset: range.startOffset};
}

function op(name) {
  const row = state.rows[current];
  if (!row) return;
  if (name === "split_sentence") {
    const caret = caretIn();
    if (!caret) { flash("Click into a sentence where it should be cut, then split.", true); return; }
    return post("/ops", {op: name, side: caret.side, at: caret.at, offset: caret.offset});
  }
  if (name === "join_sentences") {
    if (row[side].length < 2) { flash("This side of the row has fewer than two sentences to join.", true); return; }
    return post("/ops", {op: name, side: side, at: row[side][0]});
  }
  if (name === "realign") return post("/ops", {op: name});
  const body = {op: name, row: current, side: side};
  if (name === "split") body.at = 1;
  return post("/ops", body);
}

// moving the current row or side changes two rows' classes (a long alignment is not drawn again)
function moveTo(k, newSide = side) {
  const old = document.getElementById("row-" + current);
  if (old) {
    old.classList.remove("current");
    old.querySelectorAll(".active-side").forEach((c) => c.classList.remove("active-side"));
  }
  current = Math.max(0, Math.min(state.rows.length - 1, k));
  side = newSide;
  const line = document.getElementById("row-" + current);
  if (!line) return;
  line.classList.add("current");
  line.querySelector(".cell-" + side).classList.add("active-side");
  line.scrollIntoView({block: "nearest"});
  document.querySelectorAll(".side-button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.side === side)));
}

function jump(test) {
  for (let k = current + 1; k < state.rows.length; k++) {
    if (test(state.rows[k])) { moveTo(k); return; }
  }
  flash("No such row below.", false);
}

async function reload() {
  // after a change through the pair list's actions (an edit): the rows' pair statuses
  const response = await fetch("/api/alignments/" + alignmentId).catch(() => null);
  if (response && response.ok) { state = await response.json(); render(false); }
}

async function undoLast() {
  const last = undoStack.pop();
  if (!last || !last.edit) return post("/undo", {});
  const response = await fetch("/api/undo", {
    method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": csrfToken},
    body: JSON.stringify({log_ids: last.edit, reviewer: reviewerInput.value.trim()}),
  });
  const data = await response.json();
  flash(response.ok ? "Edit of pair #" + last.pair + " undone." : "Not undone: " + data.error, !response.ok);
  await reload();
}

function editEnglish() {
  const row = state.rows[current];
  if (!row || !row.pair) { flash("This row has no pair (one side is empty).", true); return; }
  const line = document.getElementById("row-" + current);
  const box = el("textarea", "editor");
  box.value = row.en.map((j) => state.en[j]).join(" ");
  box.setAttribute("aria-label", "English of this row");
  line.appendChild(box);
  box.focus();
  box.addEventListener("keydown", async (event) => {
    event.stopPropagation();
    if (event.key === "Escape") { box.remove(); return; }
    if (event.key !== "Enter" || event.shiftKey) return;
    event.preventDefault();
    const response = await fetch("/api/pairs/" + row.pair + "/edit", {
      method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": csrfToken},
      body: JSON.stringify({text: box.value, reviewer: reviewerInput.value.trim()}),
    });
    const data = await response.json();
    flash(response.ok ? "English of pair #" + row.pair + " saved." : "Not saved: " + data.error, !response.ok);
    if (response.ok) {
      box.remove();
      if (data.log_ids && data.log_ids.length) undoStack.push({edit: data.log_ids, pair: row.pair});
      await reload();
    }
  });
}

const keys = {
  j: () => moveTo(current + 1), ArrowDown: () => moveTo(current + 1),
  k: () => moveTo(current - 1), ArrowUp: () => moveTo(current - 1),
  x: () => moveTo(current, side === "ar" ? "en" : "ar"),
  w: () => op("up"), s: () => op("down"), m: () => op("merge"), b: () => op("split"),
  g: () => op("gap"), G: () => op("close"), t: () => op("swap"), "/": () => op("split_sentence"),
  J: () => op("join_sentences"), c: () => op("confirm"), C: () => op("confirm_to"), r: () => op("realign"),
  n: () => jump((r) => r.status !== "confirmed"), o: () => jump((r) => r.kind !== "1-1"),
  l: () => jump((r) => r.score !== null && r.score < goodThreshold),
  e: () => editEnglish(), z: () => undoLast(),
  "?": () => { helpBox.hidden = !helpBox.hidden; },
};

document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, textarea") || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "Escape") { helpBox.hidden = true; return; }
  const action = keys[event.key];
  if (!action || event.repeat) return;
  event.preventDefault();
  action();
});

document.getElementById("toolbar").addEventListener("click", (event) => {
  const button = event.target.closest("button");
  if (!button) return;
  if (button.dataset.side) { moveTo(current, button.dataset.side); return; }
  if (button.dataset.action === "undo") return undoLast();
  if (button.dataset.action === "edit") return editEnglish();
  if (button.dataset.op) op(button.dataset.op);
});
// the caret must survive a click on "split sentence": buttons do not take the selection away
document.querySelectorAll("#toolbar button").forEach((b) => b.addEventListener("mousedown", (e) => e.preventDefault()));
document.getElementById("show-help").addEventListener("click", () => { helpBox.hidden = !helpBox.hidden; });
const fromHash = /^#row-(\d+)$/.exec(location.hash);
if (fromHash) current = parseInt(fromHash[1], 10);
render();
