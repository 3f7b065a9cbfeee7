"""Scale-out: `translate run` against `translate run --ray`, and how many nodes one driver can feed.

  (a) `translate run` (local engine, --threads = every core) in a subprocess on N and 2N distinct lines,
      with one engine replica (the default on small machines) and with one replica per core;
  (b) `--ray` on a one-node Ray cluster of this machine (one actor with every core);
  (c) `--ray` on a two-node local cluster (the machine's cores split between the nodes, one actor each).
Each path runs on N and 2N lines (fresh store each; the fastest of --repeat runs), so its steady rate is the marginal one,
(words(2N) - words(N)) / (seconds(2N) - seconds(N)), and its start-up (model load; for Ray also connecting,
shipping the model and starting the actor pool) is what remains of the N-line run: seconds(N) - words(N) /
rate. Starting the Ray cluster itself is timed apart. Seconds are wall clock of the whole command.
  (d) the driver's ceiling: pipeline.run with a translator that answers at once (reading, segmenting,
storing segments, deduplication, claims and commits: everything the driver does per pair), in pairs/s;
divided by what one GPU node translates, it says how many GPU nodes one driver can feed.

The model is the bundled demo model (small: the ratios, not the absolute words/s, carry over); the
inputs are FLORES dev Arabic lines (../shared/data), else the seed articles' sentences, numbered so
that every line is distinct (deduplication cannot help).

  .venv/bin/python bench/scale_out.py [--data-dir ../shared/data] [--sentences 300] [--beam 4]
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GPU_NODE_WORDS_PER_SECOND = 3000    # the figure for one GPU node (not measured here: no GPU)


def source_lines(data_dir: Path) -> list[str]:
    flores = data_dir / "flores-dev" / "flores-dev.ar"
    if flores.is_file():
        return [line.strip() for line in flores.read_text(encoding="utf-8").splitlines() if line.strip()]
    from translate.pipeline import iter_segments, read_document
    return [seg.text for p in sorted((ROOT / "seeds").glob("*.txt")) for seg in iter_segments(read_document(p))]


def write_input(folder: Path, lines: list[str], count: int, offset: int = 0) -> Path:
    folder.mkdir(parents=True)
    # several documents, numbered lines: every line distinct
    per_file = max(1, count // 4)
    for f in range(0, count, per_file):
        chunk = [f"{offset + i + 1}. {lines[(offset + i) % len(lines)]}" for i in range(f, min(count, f + per_file))]
        (folder / f"doc{f:06d}.txt").write_text("\n".join(chunk) + "\n", encoding="utf-8")
    return folder


def run_cli(args: list, env: dict | None = None) -> tuple[float, int]:
    """(wall seconds, words stored) of one `translate run`."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "translate.cli", "run", *map(str, args)], cwd=ROOT,
                            capture_output=True, text=True, env={**os.environ, **(env or {})})
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"translate run failed: {result.stderr.strip()[-2000:]}")
    words = int(re.search(r"words (\d+),", result.stderr).group(1))
    return seconds, words


def measure(name: str, work: Path, lines: list[str], n: int, extra: list, repeat: int) -> dict:
    """The fastest of ``repeat`` runs at each size (the machine is shared: the others met interference)."""
    figures = []
    for size in (n, 2 * n):
        folder = write_input(work / f"{name}-{size}", lines, size, offset=size)   # not the same lines twice
        runs = [run_cli([folder, "--db", work / f"{name}-{size}-{r}.sqlite", *extra]) for r in range(repeat)]
        figures.append(min(runs))
    (t1, w1), (t2, w2) = figures
    rate = (w2 - w1) / (t2 - t1) if t2 > t1 else float("nan")
    return {"path": name, "words_per_second": rate, "startup_seconds": t1 - w1 / rate, "runs": figures}


def driver_ceiling(work: Path, lines: list[str], count: int) -> tuple[float, float]:
    """(pairs/s, words per pair) of pipeline.run with a translator that answers at once."""
    from translate import models
    from translate.pipeline import Result, Translator, run
    from translate.store import Store

    class InstantTranslator(Translator):
        def __init__(self, model):
            self.model = model

        def submit(self, texts: list[str]):
            return _Done([(f"translation of {len(t)} characters", 0.5, "ok", {"bench": True}) for t in texts])

    class _Done:
        def __init__(self, results: list[Result]):
            self._results = results

        def done(self) -> bool:
            return True

        def results(self) -> list[Result]:
            return self._results

    folder = write_input(work / "ceiling", lines, count)
    store = Store(work / "ceiling.sqlite")
    summary = run([folder], store, InstantTranslator(models.resolve_model(str(ROOT / "models" / "demo-ar-en-tatoeba"))))
    store.close()
    return summary.segments / summary.seconds, summary.words / max(1, summary.segments)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--sentences", type=int, default=300, help="N (the runs use N and 2N lines)")
    parser.add_argument("--beam", type=int, default=4)
    parser.add_argument("--ceiling-sentences", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=2, help="runs per size and path (the fastest counts)")
    args = parser.parse_args()

    import ray
    from ray.cluster_utils import Cluster

    cores = len(os.sched_getaffinity(0))
    lines = source_lines(args.data_dir)
    model = ROOT / "models" / "demo-ar-en-tatoeba"
    common = ["--model", model, "--beam", args.beam]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        results.append(measure("local", work, lines, args.sentences, [*common, "--threads", cores],
                               args.repeat))
        # the same layout as the two-node pool below: one replica per core
        results.append(measure(f"local, {cores} rep.", work, lines, args.sentences,
                               [*common, "--threads", cores, "--inter-threads", cores], args.repeat))

        started = time.perf_counter()
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": cores, "include_dashboard": False})
        cluster.wait_for_nodes()
        one_node_start = time.perf_counter() - started
        results.append(measure("ray, 1 node", work, lines, args.sentences,
                               [*common, "--threads", cores, "--ray-address", cluster.address], args.repeat))
        cluster.shutdown()
        ray.shutdown()

        per_node = max(1, cores // 2)
        started = time.perf_counter()
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": per_node, "include_dashboard": False})
        cluster.add_node(num_cpus=per_node)
        cluster.wait_for_nodes()
        two_node_start = time.perf_counter() - started
        results.append(measure("ray, 2 nodes", work, lines, args.sentences,
                               [*common, "--threads", per_node, "--ray-address", cluster.address], args.repeat))
        cluster.shutdown()

        pairs_per_second, words_per_pair = driver_ceiling(work, lines, args.ceiling_sentences)

    base = results[0]["words_per_second"]
    print(f"demo model, beam {args.beam}, {args.sentences}/{2 * args.sentences} distinct lines, {cores} cores")
    print(f"{'path':<14}{'words/s':>10}{'ratio':>8}{'start-up s':>12}   runs (s, words)")
    for r in results:
        runs = ", ".join(f"{s:.1f} s/{w}" for s, w in r["runs"])
        print(f"{r['path']:<14}{r['words_per_second']:>10.0f}{r['words_per_second'] / base:>8.2f}"
              f"{r['startup_seconds']:>12.1f}   {runs}")
    print(f"starting the local Ray cluster: 1 node {one_node_start:.1f} s, 2 nodes {two_node_start:.1f} s")
    node_pairs = GPU_NODE_WORDS_PER_SECOND / words_per_pair
    print(f"driver ceiling: {pairs_per_second:.0f} pairs/s ({args.ceiling_sentences} lines, "
          f"{words_per_pair:.1f} words/pair); a GPU node at {GPU_NODE_WORDS_PER_SECOND} words/s makes "
          f"{node_pairs:.0f} pairs/s: one driver feeds about {pairs_per_second / node_pairs:.0f} GPU nodes")


if __name__ == "__main__":
    main()
