"""Alignment repair (issue 19): how many editor ops fix the aligner's output, whether re-aligning below
confirmed rows helps, and how fast ops and re-align answer.

    python bench/align_repair_eval.py [--data ../shared/data] [--system opusmt] [--articles 10] [--seed 13]

Repair cost: FLORES dev documents of ``--articles`` articles, perturbed as ``bench/align_eval.py`` does
(10% of sentences merged with the next, 5% dropped, per side, fixed seed), aligned without a bridge and
with the ``--system`` output as the bridge. An oracle turns each output into the gold alignment with
editor ops (``translate.alignment_edit.apply_row_op``: up, down, merge, split, gap, close, swap): from
the first wrong row it applies the op (at rows around it, either side, any split point) that leaves the
longest correct prefix, then the fewest rows differing from gold, and stops when no op improves (the
document counts as not fixed then). Rows with one side empty carry no pair, so the order of adjacent
1-0 / 0-1 rows and whether dropped sentences share a row are not counted: both sides are normalised to
single-sentence rows, Arabic first (a free normalisation, not an op). Reported: ops per wrong row, the
share of documents fixed in <= 3 ops. It is a greedy oracle: a lower bound is not claimed.

Re-align below: the first half of each document's gold rows confirmed (anchors), the rest re-aligned
(``align_block``, as the ``realign`` op does); link F1 on the second half (links with a sentence past the
anchors) against the plain aligner's output on the whole document, same evidence.

Speed: a 500-row document pair (the first 500 FLORES dev sentences, aligned without a bridge) in a
real store: p50 / p95 of 200 ops over HTTP (`translate review` on 127.0.0.1), against GET /healthz
in the same run (baseline); re-align below after confirming rows 0..299 (a 200-row remainder), with
no bridge and with the system output stored as the bridge, against the aligner alone on the same
sentences (baseline).
"""
from __future__ import annotations

import argparse
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from align_eval import flores_documents, links, perturbed, prf  # noqa: E402

from translate.align import align, arabic_sentences, store_alignment  # noqa: E402
from translate.alignment_edit import Op, OpError, align_block, apply_op, apply_row_op, undo  # noqa: E402
from translate.store import LinkRow, Store  # noqa: E402

REPAIR_OPS = ("up", "down", "merge", "split", "gap", "close", "swap")
MAX_OPS = 40


# -- rows ---------------------------------------------------------------------------------------------
def gold_rows(n: int, m: int, gold: set[tuple[int, int]]) -> list[tuple[tuple, tuple]]:
    """The gold alignment as rows: connected groups of gold links, and each unlinked sentence alone."""
    rows: list[tuple[set, set]] = []
    for a, e in sorted(gold):
        if rows and (a in rows[-1][0] or e in rows[-1][1]):
            rows[-1][0].add(a)
            rows[-1][1].add(e)
        else:
            rows.append(({a}, {e}))
    linked_ar = {a for a, _ in gold}
    linked_en = {e for _, e in gold}
    out = [(tuple(sorted(a)), tuple(sorted(e))) for a, e in rows]
    out += [((i,), ()) for i in range(n) if i not in linked_ar] + [((), (j,)) for j in range(m) if j not in linked_en]
    return canonical(out)


def canonical(rows) -> list[tuple[tuple, tuple]]:
    """Rows with one side empty become single-sentence rows, placed between the linked rows around them
    (Arabic ones first); linked rows stay in their order."""
    linked = sorted(((tuple(a), tuple(e)) for a, e in rows if a and e), key=lambda r: (r[0][0], r[1][0]))
    keyed = [((rank, 1, 0, 0), row) for rank, row in enumerate(linked)]
    for a, e in rows:
        if a and e:
            continue
        for i in a:
            keyed.append(((sum(1 for r in linked if r[0][0] < i), 0, 0, i), ((i,), ())))
        for j in e:
            keyed.append(((sum(1 for r in linked if r[1][0] < j), 0, 1, j), ((), (j,))))
    return [row for _, row in sorted(keyed)]


def as_link_rows(rows) -> list[LinkRow]:
    return [LinkRow(list(ar), list(en)) for ar, en in rows]


def as_tuples(rows: list[LinkRow]) -> list[tuple[tuple, tuple]]:
    return [(tuple(r.ar), tuple(r.en)) for r in rows if r.ar or r.en]


def consistent(rows, n: int, m: int) -> bool:
    ar = sorted(i for a, _ in rows for i in a)
    en = sorted(j for _, e in rows for j in e)
    return ar == list(range(n)) and en == list(range(m))


# -- the oracle -----------------------------------------------------------------------------------------
def fitness(rows, gold) -> tuple[int, int]:
    prefix = 0
    for mine, right in zip(rows, gold):
        if mine != right:
            break
        prefix += 1
    return prefix, -len(set(rows) ^ set(gold))


def candidates(rows, k: int):
    for r in range(max(0, k - 1), min(len(rows), k + 3)):
        for name in REPAIR_OPS:
            for side in ("ar", "en"):
                if name == "merge" and side == "en":
                    continue
                cell = rows[r][0 if side == "ar" else 1]
                for at in (range(len(cell)) if name == "split" else [None]):
                    yield Op(name, row=r, side=side, at=at)


def repair(start, gold, n: int, m: int) -> int | None:
    """Ops the greedy oracle needs to reach gold (None: stuck or past MAX_OPS)."""
    rows, ops = canonical(start), 0
    while rows != gold:
        if ops >= MAX_OPS:
            return None
        here = fitness(rows, gold)
        k = here[0]
        best, best_fit = None, here
        for op in candidates(rows, k):
            trial = as_link_rows(rows)
            try:
                apply_row_op(trial, op)
            except OpError:
                continue
            result = canonical(as_tuples(trial))
            if not consistent(result, n, m):
                continue
            fit = fitness(result, gold)
            if fit > best_fit:
                best, best_fit = result, fit
        if best is None:
            return None
        rows, ops = best, ops + 1
    return ops


# -- measures ---------------------------------------------------------------------------------------------
def repair_cost(docs: list[dict], bridge: str | None) -> dict:
    total_ops = wrong_rows = fixed = within3 = right_already = 0
    for doc in docs:
        mt = doc["bridges"][bridge] if bridge else None
        beads = align(mt, doc["en"], doc["ar"])
        start = [(tuple(b.ar), tuple(b.en)) for b in beads]
        n, m = len(doc["ar"]), len(doc["en"])
        gold = gold_rows(n, m, doc["gold"])
        wrong = len(set(canonical(start)) - set(gold))
        ops = repair(start, gold, n, m)
        if wrong == 0:
            right_already += 1
        if ops is not None:
            fixed += 1
            within3 += ops <= 3
            total_ops += ops
            wrong_rows += wrong
    return {"docs": len(docs), "right": right_already, "fixed": fixed, "within3": within3,
            "ops_per_wrong_row": total_ops / wrong_rows if wrong_rows else 0.0, "ops": total_ops,
            "wrong_rows": wrong_rows}


def anchored_f1(docs: list[dict], bridge: str | None) -> tuple[tuple, tuple]:
    counts = {"with": [0, 0, 0], "without": [0, 0, 0]}
    for doc in docs:
        mt = doc["bridges"][bridge] if bridge else None
        n, m = len(doc["ar"]), len(doc["en"])
        gold = gold_rows(n, m, doc["gold"])
        anchors = gold[:len(gold) // 2]
        ar_cut = max((i for a, _ in anchors for i in a), default=-1) + 1
        en_cut = max((j for _, e in anchors for j in e), default=-1) + 1
        rest = align_block(doc["ar"], doc["en"], mt, range(ar_cut, n), range(en_cut, m))
        with_anchors = [(list(a), list(e)) for a, e in anchors] + [(b.ar, b.en) for b in rest]
        without = [(b.ar, b.en) for b in align(mt, doc["en"], doc["ar"])]
        second = lambda found: {(a, e) for a, e in found if a >= ar_cut or e >= en_cut}  # noqa: E731
        truth = second(doc["gold"])
        for name, rows in (("with", with_anchors), ("without", without)):
            predicted = second(links(rows))
            counts[name][0] += len(predicted & truth)
            counts[name][1] += len(predicted)
            counts[name][2] += len(truth)
    return prf(*counts["with"]), prf(*counts["without"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def speed(data: Path, system: str, seed: int) -> None:
    import httpx

    arabic = (data / "flores-dev" / "flores-dev.ar").read_text(encoding="utf-8").splitlines()[:500]
    english = (data / "flores-dev" / "flores-dev.en").read_text(encoding="utf-8").splitlines()[:500]
    given = (data / "flores-dev" / f"flores-dev.{system}.en").read_text(encoding="utf-8").splitlines()[:500]
    folder = Path(tempfile.mkdtemp(prefix="align-repair-"))
    db = folder / "corpus.sqlite"
    ar_text, en_text = "\n".join(arabic) + "\n", "\n".join(english) + "\n"
    segments = arabic_sentences(ar_text, presegmented=True)
    started = time.perf_counter()
    beads = align(None, english, arabic)
    with Store(db) as store:
        store_alignment(store, "flores-dev-500.ar", ar_text, segments, english, None, beads, None,
                        {"bench": True}, en_path="flores-dev-500.en", en_text=en_text)
        [pair_id] = [r[0] for r in store.db.execute("SELECT id FROM document_pairs")]
        rows = len(store.load_alignment(pair_id).rows)
    print(f"speed: a document pair of {len(arabic)} FLORES dev sentences per side, {rows} rows "
          f"(aligned and stored in {time.perf_counter() - started:.1f} s)")
    with Store(db) as store:
        for bridge in (None, system):
            if bridge:                       # the bridge MT already stored, as `translate align` stores it
                alignment = store.load_alignment(pair_id)
                by_segment = {s.segment_id: given[k] for k, s in enumerate(alignment.ar) if k < len(given)}
                store.db.executemany("UPDATE alignment_sentences SET bridge = ? WHERE document_pair_id = ? AND"
                                     " side = 'ar' AND segment_id = ?",
                                     [(text, pair_id, sid) for sid, text in by_segment.items()])
                store.db.execute("UPDATE document_pairs SET version = version + 1 WHERE id = ?", (pair_id,))
                store.db.commit()
            apply_op(store, pair_id, Op("confirm_to", row=299), "bench")
            alignment = store.load_alignment(pair_id)
            rest = alignment.rows[300:]
            ar = sorted(i for r in rest for i in r.ar)
            en = sorted(j for r in rest for j in r.en)
            t = time.perf_counter()
            apply_op(store, pair_id, Op("realign"), "bench")
            took = time.perf_counter() - t
            mt = [alignment.ar[i].bridge for i in ar] if bridge else None
            t = time.perf_counter()
            align_block([alignment.ar[i].text for i in ar], [alignment.en[j].text for j in en], mt)   # alone
            alone = time.perf_counter() - t
            print(f"  re-align below ({len(rest)} rows, {len(ar)} + {len(en)} sentences, "
                  f"{'bridge ' + bridge if bridge else 'no bridge'}): {took:.2f} s; the aligner alone on them "
                  f"{alone:.2f} s (baseline): ratio {took / alone:.2f}")
            undo(store, pair_id, "bench")            # back to the aligner's rows for the next measure
            undo(store, pair_id, "bench")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "translate.cli", "review", "--db", str(db), "--port", str(port),
                               "--reviewer", "bench"], cwd=ROOT, env={**os.environ, "PYTHONIOENCODING": "utf-8"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(timeout=30) as client:
            for _ in range(300):
                try:
                    page = client.get(base + "/")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text).group(1)
            rng = random.Random(seed)
            op_times, health, gets, by_op = [], [], [], {}
            for _ in range(200):
                t = time.perf_counter()
                client.get(base + "/healthz")
                health.append(time.perf_counter() - t)
                body = rng.choice([{"op": "up", "side": "en"}, {"op": "down", "side": "ar"}, {"op": "merge"},
                                   {"op": "split", "side": "ar", "at": 1}, {"op": "confirm"}, {"op": "undo"}])
                body = {**body, "row": rng.randrange(1, rows - 1)}
                path = "/undo" if body["op"] == "undo" else "/ops"
                t = time.perf_counter()
                answer = client.post(f"{base}/api/alignments/{pair_id}{path}", json=body,
                                     headers={"X-CSRF-Token": token})
                op_times.append(time.perf_counter() - t)
                by_op.setdefault(body["op"], []).append(op_times[-1])
                assert answer.status_code in (200, 400), answer.text
            for _ in range(50):
                t = time.perf_counter()
                client.get(f"{base}/api/alignments/{pair_id}")
                gets.append(time.perf_counter() - t)
    finally:
        server.terminate()
        server.wait(timeout=10)
    ms = lambda v: f"{v * 1000:.1f} ms"  # noqa: E731
    print(f"  ops over HTTP (200, mixed, undo included): p50 {ms(statistics.median(op_times))}, "
          f"p95 {ms(percentile(op_times, 0.95))}; GET /healthz p95 {ms(percentile(health, 0.95))} (baseline): "
          f"ratio {percentile(op_times, 0.95) / percentile(health, 0.95):.1f}x; GET the alignment p95 "
          f"{ms(percentile(gets, 0.95))}")
    print("  p95 by op: " + ", ".join(f"{name} {ms(percentile(times, 0.95))} ({len(times)})"
                                     for name, times in sorted(by_op.items())))
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--system", default="opusmt", help="whose FLORES dev output is the bridge")
    parser.add_argument("--articles", type=int, default=10)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--no-speed", action="store_true")
    args = parser.parse_args()
    flores = args.data / "flores-dev"
    if not flores.is_dir():
        sys.exit(f"error: {flores}: FLORES dev data not found (pass --data)")
    given = (flores / f"flores-dev.{args.system}.en").read_text(encoding="utf-8").splitlines()
    rng = random.Random(args.seed)
    docs = [perturbed(doc, rng) for doc in flores_documents(args.data, args.articles, {args.system: given})]
    print(f"repair cost: FLORES dev, {len(docs)} documents of {args.articles} articles, perturbed as align_eval "
          f"(seed {args.seed})")
    for bridge in (None, args.system):
        started = time.perf_counter()
        cost = repair_cost(docs, bridge)
        (pw, rw, fw), (po, ro, fo) = anchored_f1(docs, bridge)
        name = f"bridge {bridge}" if bridge else "no bridge"
        print(f"  {name}: {cost['right']}/{cost['docs']} documents right as aligned; oracle fixed "
              f"{cost['fixed']}/{cost['docs']}, {cost['within3']}/{cost['docs']} "
              f"({cost['within3'] / cost['docs']:.0%}) in <= 3 ops; {cost['ops']} ops for {cost['wrong_rows']} "
              f"wrong rows = {cost['ops_per_wrong_row']:.2f} ops per wrong row")
        print(f"  {name}: second-half link F1 with the first half confirmed {fw:.4f} (P {pw:.4f} R {rw:.4f}) vs "
              f"without anchors {fo:.4f} (P {po:.4f} R {ro:.4f})  [{time.perf_counter() - started:.1f} s]")
    if not args.no_speed:
        speed(args.data, args.system, args.seed)


if __name__ == "__main__":
    main()
