// Team review: a lead's flag button in the list, and the adjudication queue. Plain JavaScript.
"use strict";
(() => {
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const flashBox = document.getElementById("flash");
  const say = (message, isError) => {
    if (!flashBox) return;
    flashBox.textContent = message;
    flashBox.className = isError ? "error" : "";
  };
  async function post(url, body) {
    try {
      const response = await fetch(url, {method: "POST", body: JSON.stringify(body),
        headers: {"Content-Type": "application/json", "X-CSRF-Token": token}});
      const data = await response.json();
      return response.ok ? {ok: true, data} : {ok: false, error: data.error || response.statusText};
    } catch (err) {
      return {ok: false, error: "the server did not answer"};
    }
  }

  // the list: a lead flags a decided pair for the queue
  document.querySelectorAll("tr.pair .act-flag").forEach((button) => button.addEventListener("click", async () => {
    const row = button.closest("tr.pair");
    const result = await post("/api/pairs/" + row.dataset.id + "/flag", {});
    say(result.ok ? "#" + row.dataset.id + " flagged for adjudication" : "Not flagged: " + result.error, !result.ok);
    if (result.ok) button.disabled = true;
  }));

  // the stats page: a lead releases a reviewer's claims
  document.querySelectorAll(".release-claims").forEach((button) => button.addEventListener("click", async () => {
    const result = await post("/api/team/release", {reviewer: button.dataset.reviewer});
    button.textContent = result.ok ? "released " + result.data.released : "not released: " + result.error;
    button.disabled = result.ok;
  }));

  // the queue: decide, or send back with a comment
  document.querySelectorAll(".queue-item").forEach((item) => {
    const id = item.dataset.id;
    const finished = (text) => {
      item.classList.add("settled");
      item.querySelectorAll("button, textarea, select, input").forEach((el) => { el.disabled = true; });
      say(text);
    };
    item.querySelectorAll("button[data-decision]").forEach((button) => button.addEventListener("click", async () => {
      const decision = button.dataset.decision;
      const body = {status: decision};
      if (decision === "edited") body.text = item.querySelector(".lead-text").value;
      if (decision === "rejected" && item.querySelector(".lead-reason").value) {
        body.reason = item.querySelector(".lead-reason").value;
      }
      const result = await post("/api/adjudicate/" + id, body);
      if (!result.ok) { say("Not saved: #" + id + ": " + result.error, true); return; }
      finished("#" + id + " settled: " + result.data.pair.status);
    }));
    const back = item.querySelector(".send-back");
    if (back) back.addEventListener("click", async () => {
      const comment = item.querySelector(".lead-comment").value;
      const result = await post("/api/pairs/" + id + "/send-back", {comment: comment});
      if (!result.ok) { say("Not sent back: #" + id + ": " + result.error, true); return; }
      finished("#" + id + " sent back to " + result.data.sent_back_to);
    });
  });
})();
