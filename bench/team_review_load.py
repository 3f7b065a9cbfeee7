"""Team review under load: N simulated reviewers (real HTTP clients on 127.0.0.1, each with its own token and
cookies) doing "next pending, decide" as fast as they can on a large store, against the single-user page
doing the same in the same run (the baseline: no accounts, no claims, as the issue measured it).

Each reviewer loops: GET /api/next-pending?sort=score, then approves (85%), rejects (10%) or edits (5%) the
pair, after ``--think`` seconds on average (exponentially distributed; 0, the default, is a stress test:
every reviewer as fast as the server answers, so latency is mostly queueing behind the other 19).
Reported for both phases: decisions/s overall and per 10 s window (does it hold?), p50/p95 of `n` and
of a decision, errors, and from the store afterwards: pairs decided by more than one reviewer outside the
overlap sample (the baseline shows why claims exist), and decisions lost or duplicated (the clients'
count of accepted decisions against the rows in the store).

The store is built as bench/review_latency.py builds it (``--pairs``, default 200,000; FLORES-101 dev
text under ``--data-dir`` when present), copied for each phase.

  .venv/bin/python bench/team_review_load.py [--pairs 200000] [--reviewers 20] [--seconds 120]
                                              [--baseline-seconds 30] [--overlap 0.05] [--think 0]
"""
from __future__ import annotations

import argparse
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from review_latency import build_store, free_port, sentences, start_server  # noqa: E402

from translate.store import Store  # noqa: E402

WINDOW_S = 10


class Reviewer(threading.Thread):
    """One simulated reviewer: its own HTTP client (cookies), its own random choices."""

    def __init__(self, name: str, base: str, token: str | None, stop_at: float, seed: int, think: float):
        super().__init__(daemon=True)
        self.think = think
        self.name, self.base, self.token, self.stop_at = name, base, token, stop_at
        self.rng = random.Random(seed)
        self.next_ms: list[float] = []
        self.decide_ms: list[tuple[float, float]] = []      # (finished at, ms)
        self.direct = self.votes = 0
        self.errors: list[str] = []
        self.sent: list[int] = []

    def run(self) -> None:
        import httpx

        with httpx.Client(base_url=self.base, timeout=60) as client:
            try:
                if self.token:
                    client.get(f"/?token={self.token}", follow_redirects=False)
                page = client.get("/")
                csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
                while time.monotonic() < self.stop_at:
                    t = time.perf_counter()
                    response = client.get("/api/next-pending?sort=score")
                    self.next_ms.append((time.perf_counter() - t) * 1000)
                    if response.status_code != 200:
                        self.errors.append(f"next {response.status_code}")
                        continue
                    pair_id = response.json()["id"]
                    if pair_id is None:
                        return
                    self.sent.append(pair_id)
                    if self.think:
                        time.sleep(min(self.rng.expovariate(1 / self.think), max(self.stop_at - time.monotonic(), 0)))
                    roll = self.rng.random()
                    verb, body = (("approve", {}) if roll < 0.85 else ("reject", {}) if roll < 0.95
                                  else ("edit", {"text": f"Edited by {self.name} #{pair_id}."}))
                    t = time.perf_counter()
                    response = client.post(f"/api/pairs/{pair_id}/{verb}", json={"reviewer": self.name, **body},
                                           headers={"X-CSRF-Token": csrf})
                    done = time.perf_counter()
                    self.decide_ms.append((time.monotonic(), (done - t) * 1000))
                    if response.status_code == 200:
                        data = response.json()
                        if "vote" in data:
                            self.votes += 1
                        elif data["changed"]:
                            self.direct += 1
                    elif response.status_code != 409:      # 409: another reviewer decided it (baseline)
                        self.errors.append(f"{verb} {response.status_code} {response.text[:80]}")
            except Exception as exc:          # counted as an error: the run goes on
                self.errors.append(repr(exc))


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else (values or [0])[0]


def phase(db: Path, reviewers: int, seconds: float, team: bool, overlap: float, think: float) -> dict:
    tokens: list[str | None] = [None] * reviewers
    if team:
        with Store(db) as store:
            tokens = [store.add_reviewer(f"r{i:02d}") for i in range(reviewers)]
    port = free_port()
    args = ["--overlap", str(overlap)] if team else ["--reviewer", "bench"]
    server = start_server(db, port, *args)
    try:
        start = time.monotonic()
        stop_at = start + seconds
        workers = [Reviewer(f"r{i:02d}", f"http://127.0.0.1:{port}", tokens[i], stop_at, i, think)
                   for i in range(reviewers)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(seconds + 120)
        elapsed = time.monotonic() - start
    finally:
        server.terminate()
        server.wait(30)
    decisions = [x for w in workers for x in w.decide_ms]
    windows = Counter(int((at - start) // WINDOW_S) for at, _ in decisions if at - start < seconds)
    per_window = [windows.get(i, 0) / WINDOW_S for i in range(int(seconds // WINDOW_S))]
    return {"workers": workers, "elapsed": elapsed, "decisions": len(decisions),
            "per_s": len(decisions) / elapsed, "windows": per_window,
            "next_p50": pct([x for w in workers for x in w.next_ms], 50),
            "next_p95": pct([x for w in workers for x in w.next_ms], 95),
            "decide_p50": pct([ms for _, ms in decisions], 50), "decide_p95": pct([ms for _, ms in decisions], 95),
            "errors": [e for w in workers for e in w.errors], **store_checks(db, workers, team)}


def store_checks(db: Path, workers: list[Reviewer], team: bool) -> dict:
    """From the store: pairs decided by 2+ reviewers outside the overlap sample, and decisions the clients
    had accepted but the store lacks (or holds twice)."""
    with sqlite3.connect(db) as con:
        log = con.execute("SELECT translation_id, reviewer FROM review_log WHERE action <> 'undo'").fetchall()
        voted = set()
        votes = agreed = 0
        if team:
            voted = {r[0] for r in con.execute("SELECT DISTINCT translation_id FROM review_votes")}
            votes = con.execute("SELECT COUNT(*) FROM review_votes").fetchone()[0]
            agreed = con.execute(
                "SELECT COUNT(*) FROM (SELECT translation_id FROM review_votes GROUP BY translation_id"
                " HAVING COUNT(*) = 2) v WHERE NOT EXISTS (SELECT 1 FROM adjudications a"
                " WHERE a.translation_id = v.translation_id)").fetchone()[0]
            disputed = con.execute("SELECT COUNT(*) FROM adjudications").fetchone()[0]
        else:
            disputed = 0
    by_pair: dict[int, set] = {}
    for pair_id, reviewer in log:
        by_pair.setdefault(pair_id, set()).add(reviewer)
    sent = Counter(pid for w in workers for pid in w.sent)
    return {
        "log_rows": len(log), "votes": votes, "agreed": agreed, "disputed": disputed,
        "double_outside_sample": sum(1 for pid, names in by_pair.items() if len(names) > 1 and pid not in voted),
        "sent_twice_outside_sample": sum(1 for pid, n in sent.items() if n > 1 and pid not in voted),
        "client_direct": sum(w.direct for w in workers), "client_votes": sum(w.votes for w in workers),
        # every accepted decision is one log row; each agreed pair adds the one row that applied it
        "lost_or_duplicated": abs(sum(w.direct for w in workers) + agreed - len(log))
        + (abs(sum(w.votes for w in workers) - votes) if team else 0),
    }


def report(name: str, r: dict) -> None:
    held = f"{min(r['windows']):.0f}–{max(r['windows']):.0f}" if r["windows"] else "–"
    print(f"{name}: {r['decisions']} decisions in {r['elapsed']:.0f} s = {r['per_s']:.1f}/s (10 s windows: {held}/s); "
          f"n p50 {r['next_p50']:.1f} ms p95 {r['next_p95']:.1f} ms; decision p50 {r['decide_p50']:.1f} ms "
          f"p95 {r['decide_p95']:.1f} ms; errors {len(r['errors'])}")
    print(f"  store: {r['log_rows']} log rows, {r['votes']} blind votes ({r['agreed']} pairs agreed, "
          f"{r['disputed']} to the lead); pairs decided by 2+ reviewers outside the sample: "
          f"{r['double_outside_sample']}; sent to 2+ reviewers: {r['sent_twice_outside_sample']}; "
          f"lost or duplicated decisions: {r['lost_or_duplicated']}")
    if r["errors"]:
        print("  first errors:", "; ".join(r["errors"][:3]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--pairs", type=int, default=200_000)
    parser.add_argument("--reviewers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--baseline-seconds", type=float, default=30)
    parser.add_argument("--overlap", type=float, default=0.05)
    parser.add_argument("--think", type=float, default=0.0, help="mean seconds a reviewer looks at a pair")
    args = parser.parse_args()
    ar, en, origin = sentences(args.data_dir)
    with tempfile.TemporaryDirectory() as tmp:
        built = Path(tmp) / "built.sqlite"
        t = time.perf_counter()
        build_store(built, args.pairs, ar, en)
        print(f"store: {args.pairs} pairs from {origin} text, {built.stat().st_size / 1e6:.0f} MB, built in "
              f"{time.perf_counter() - t:.0f} s; {args.reviewers} reviewers, next pending in worst-first order, "
              f"{args.think:g} s thinking per pair on average")
        results = {}
        for name, team, seconds in (("baseline (single-user page, no claims)", False, args.baseline_seconds),
                                    (f"team review (claims, {args.overlap:.0%} blind overlap)", True, args.seconds)):
            db = Path(tmp) / ("team.sqlite" if team else "single.sqlite")
            shutil.copy(built, db)
            results[team] = phase(db, args.reviewers, seconds, team, args.overlap, args.think)
            report(name, results[team])
            db.unlink()
        base, team = results[False], results[True]
        print(f"team / baseline: decisions/s {team['per_s'] / base['per_s']:.2f}x; n p95 "
              f"{team['next_p95'] / base['next_p95']:.2f}x; decision p95 {team['decide_p95'] / base['decide_p95']:.2f}x")


if __name__ == "__main__":
    main()
