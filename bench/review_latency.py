"""Review page latency on a large store: p50/p95 of list pages in every order, counts, the document view,
the stats page and approve POSTs, against the same server's trivial /healthz endpoint measured in the same run.

Builds a store of ``--pairs`` pairs (default 200,000) in a temporary directory with bulk ``executemany``
inserts (schema from ``Store``, so the real migrations and indexes), marks some pairs reviewed so the filters
have something to skip, starts the real server (`translate review` in a subprocess) and times sequential
HTTP requests over one keep-alive connection (httpx). Goal: p95 < 100 ms for every page kind.

Sentences come from FLORES-101 dev (Arabic and English) under ``--data-dir``, numbered so every pair is
distinct; without the data the text is synthetic.

  .venv/bin/python bench/review_latency.py [--data-dir ../shared/data] [--pairs 200000] [--requests 300]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from translate.review.pages import PAGE_SIZE  # noqa: E402
from translate.store import Store, now, text_hash  # noqa: E402

PAIRS_PER_DOCUMENT = 200     # a long news article: the document view shows all of it
SEED = 7


def sentences(data_dir: Path) -> tuple[list[str], list[str], str]:
    ar, en = data_dir / "flores-dev" / "flores-dev.ar", data_dir / "flores-dev" / "flores-dev.en"
    if ar.is_file() and en.is_file():
        return (ar.read_text(encoding="utf-8").splitlines(), en.read_text(encoding="utf-8").splitlines(),
                "FLORES-101 dev")
    words_ar = "قال الوزير إن الحكومة ستدعم المزارعين في المناطق الريفية خلال العام المقبل".split()
    words_en = "the minister said government will support farmers in rural areas during next year".split()
    rng = random.Random(SEED)
    return ([" ".join(rng.choices(words_ar, k=12)) + "." for _ in range(1000)],
            [" ".join(rng.choices(words_en, k=12)) + "." for _ in range(1000)], "synthetic")


def build_store(path: Path, pairs: int, ar: list[str], en: list[str]) -> None:
    Store(path).close()                                   # the real schema, migrations and indexes
    rng = random.Random(SEED)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    created = now()
    with con:
        con.execute("INSERT INTO models (id, name, weights_sha256) VALUES (1, 'bench-model', ?)", ("0" * 64,))
        con.execute("INSERT INTO runs (id, kind, model_id, options, started_at, status) VALUES (1, 'translate', 1,"
                    " '{}', ?, 'done')", (created,))
        pair_id = 0
        for doc in range(1, pairs // PAIRS_PER_DOCUMENT + 1):
            lines, segments, translations, scores, start = [], [], [], [], 0
            for position in range(PAIRS_PER_DOCUMENT):
                pair_id += 1
                k = pair_id % len(ar)
                source, target = f"{pair_id}. {ar[k]}", f"{pair_id}. {en[k]}"
                lines.append(source)
                segments.append((pair_id, doc, position, start, start + len(source), position, 0, source,
                                 text_hash(source)))
                start += len(source) + 1
                roll = rng.random()
                status = "approved" if roll < 0.10 else "rejected" if roll < 0.13 else "pending"
                translations.append((pair_id, pair_id, target, status, created))
                score = rng.random()
                label = "good" if score >= 0.7 else "check" if score >= 0.4 else "bad"
                scores.append((pair_id, score, label, json.dumps({"logprob": -score, "length_ratio": 1.0})))
            text = "\n".join(lines)
            con.execute("INSERT INTO documents (id, sha256, path, text, lang, added_at) VALUES (?,?,?,?,?,?)",
                        (doc, hashlib.sha256(text.encode()).hexdigest(), f"news/{doc:06d}.txt", text, "ar", created))
            con.executemany("INSERT INTO segments (id, document_id, position, start, end, sentence, part, text,"
                            " text_hash) VALUES (?,?,?,?,?,?,?,?,?)", segments)
            con.executemany("INSERT INTO translations (id, segment_id, model_id, run_id, text, status, created_at)"
                            " VALUES (?,?,1,1,?,?,?)", translations)
            con.executemany("INSERT INTO scores (translation_id, score, label, signals) VALUES (?,?,?,?)", scores)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(db: Path, port: int, *args: str) -> subprocess.Popen:
    """`translate review` on db at port with the extra options args; returns once it accepts connections."""
    proc = subprocess.Popen([sys.executable, "-m", "translate.cli", "review", "--db", str(db), "--port", str(port),
                             *args], cwd=REPO, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"error: review server exited: {proc.stderr.read().strip()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("error: review server did not start in 60 s")


def timed(kinds: list[tuple[str, object]], n: int) -> dict[str, list[float]]:
    """Milliseconds of n calls of each kind, taken in turns (kind 1, kind 2, ..., kind 1, ...) so that
    load from other processes falls on every kind alike; 5 unmeasured warm-up turns (indexes n..n+4)."""
    for i in range(n, n + 5):
        for _, call in kinds:
            call(i)
    out: dict[str, list[float]] = {name: [] for name, _ in kinds}
    for i in range(n):
        for name, call in kinds:
            t = time.perf_counter()
            call(i)
            out[name].append((time.perf_counter() - t) * 1000)
    return out


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    import httpx

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--pairs", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    if args.pairs < 2 * PAIRS_PER_DOCUMENT:
        raise SystemExit(f"error: --pairs must be at least {2 * PAIRS_PER_DOCUMENT}")
    ar, en, origin = sentences(args.data_dir)
    rng = random.Random(SEED)

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "corpus.sqlite"
        t = time.perf_counter()
        build_store(db, args.pairs, ar, en)
        size_mb = db.stat().st_size / 1e6
        print(f"store: {args.pairs} pairs from {origin} text, {args.pairs // PAIRS_PER_DOCUMENT} documents, "
              f"{size_mb:.0f} MB, built in {time.perf_counter() - t:.1f} s")
        port = free_port()
        server = start_server(db, port, "--reviewer", "bench")
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                def get(url):
                    response = client.get(url)
                    response.raise_for_status()
                    return response
                csrf = re.search(r'name="csrf-token" content="([^"]+)"', get("/").text).group(1)
                documents = args.pairs // PAIRS_PER_DOCUMENT
                deep = [rng.randrange(args.pairs * 3 // 4, args.pairs - 60) for _ in range(args.requests + 5)]
                docs = [rng.randrange(1, documents + 1) for _ in range(args.requests + 5)]
                rare = [w for w in dict.fromkeys(" ".join(ar[:400]).split()) if len(w) >= 6][:50]
                # pending pairs to approve, one each, never the same twice
                with sqlite3.connect(db) as con:
                    pending = [r[0] for r in con.execute("SELECT id FROM translations WHERE status='pending'")]
                approve_ids = rng.sample(pending, args.requests + 5)

                def approve(i):
                    response = client.post(f"/api/pairs/{approve_ids[i]}/approve", json={"reviewer": "bench"},
                                           headers={"X-CSRF-Token": csrf})
                    response.raise_for_status()
                    assert response.json()["changed"]

                deep_score = [rng.random() for _ in range(args.requests + 5)]
                with sqlite3.connect(db) as con:
                    # cursors deep in the score order: the pair nearest a random score
                    by_score = [con.execute("SELECT translation_id FROM scores WHERE score >= ? ORDER BY score"
                                            " LIMIT 1", (x,)).fetchone() for x in deep_score]
                by_score = [r[0] if r else 1 for r in by_score]

                kinds = [
                    ("baseline GET /healthz", lambda i: get("/healthz")),
                    ("first page, document order", lambda i: get("/")),
                    ("first page, worst score first", lambda i: get("/?sort=score")),
                    ("first page, best score first", lambda i: get("/?sort=-score")),
                    # pages reached through the pager carry their position (`at`)
                    ("deep page, document order", lambda i: get(f"/?after={deep[i]}&at={deep[i]}")),
                    ("deep page, worst first", lambda i: get(f"/?sort=score&after={by_score[i]}&at=1000")),
                    ("deep page, best first", lambda i: get(f"/?sort=-score&after={by_score[i]}&at=1000")),
                    ("previous page, document order", lambda i: get(f"/?before={deep[i]}&at={deep[i] - 50}")),
                    # a page opened at a pair (next pending, the document view's links) asks for its
                    # position once shown: a count of the pairs before it
                    ("opened at a pair, doc", lambda i: get(f"/?from={deep[i]}")),
                    ("its position (/api/position), doc", lambda i: get(f"/api/position?id={deep[i]}")),
                    ("opened at a pair, worst first", lambda i: get(f"/?sort=score&from={by_score[i]}")),
                    ("its position, worst first", lambda i: get(f"/api/position?sort=score&id={by_score[i]}")),
                    ("filtered: pending, score 0.3-0.7", lambda i: get("/?status=pending&min=0.3&max=0.7")),
                    ("filtered: rejected, worst first", lambda i: get("/?status=rejected&sort=score")),
                    ("filtered: one document", lambda i: get(f"/?doc={docs[i]}")),
                    ("text search (common word)", lambda i: get("/?q=the")),
                    ("text search (rare Arabic word)", lambda i: get("/?q=" + rare[i % len(rare)])),
                    ("counts, whole store", lambda i: get("/api/counts")),
                    ("counts, pending score 0.3-0.7", lambda i: get("/api/counts?status=pending&min=0.3&max=0.7")),
                    ("next pending pair", lambda i: get(f"/api/next-pending?after={deep[i]}")),
                    (f"document view ({PAIRS_PER_DOCUMENT} pairs)", lambda i: get(f"/doc/{docs[i]}")),
                    # a POST comes between two views, so each view finds the figures stale: it is served the
                    # last figures while new ones are computed in the background (the page says so)
                    ("stats page", lambda i: get("/stats")),
                    ("approve POST", approve),
                ]
                results = timed(kinds, args.requests)
        finally:
            server.terminate()
            server.wait(timeout=10)

    base95 = p(results["baseline GET /healthz"], 95)
    print(f"pages of {PAGE_SIZE} pairs")
    print(f"{'request':46} {'p50 ms':>8} {'p95 ms':>8} {'p95/baseline':>13}   ({args.requests} requests each)")
    for name, values in results.items():
        print(f"{name:46} {p(values, 50):8.2f} {p(values, 95):8.2f} {p(values, 95) / base95:13.1f}")
    worst = max(p(v, 95) for name, v in results.items() if name != "baseline GET /healthz")
    print(f"goal p95 < 100 ms on every page kind and the POST: {'met' if worst < 100 else 'NOT met'} "
          f"(worst p95 {worst:.2f} ms)")


if __name__ == "__main__":
    main()
