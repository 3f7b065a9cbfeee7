"""`translate align AR_DIR EN_DIR --ray` against a local align of the same folders, in the same run.

    python bench/align_ray.py [--data ../shared/data] [--documents 1000]

The folders are a `news` archive of bench/docalign_scale.py (FLORES dev + Tatoeba train, documents of
3-30 sentences, 20% of the English removed) written to files. Runs, each into a fresh store, wall clock
of the whole command (matching included): a local `align --no-bridge`, then `--ray` on a local cluster
of two 1-CPU nodes (started once, timed apart) with 1 and with 2 actors. Checked: every run stores the
same sentence pairs (text, scores, labels) as the local one. Reported: document pairs aligned per
second, and the marginal throughput of the second actor (2 actors minus 1). With --no-bridge the work
per pair is small, so start-up and the driver's share (matching, reading, storing) weigh heavily; with
a bridge model the actors' share (MT) dominates.
"""
from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from docalign_scale import Archive, Pools  # noqa: E402


def write_folders(base: Path, archive: Archive) -> tuple[Path, Path]:
    folders = []
    for side in ("ar", "en"):
        folder = base / side
        folder.mkdir()
        for k, text in enumerate(archive.texts(side)):
            (folder / f"{side}{k:06d}.txt").write_text(text + "\n", encoding="utf-8")
        folders.append(folder)
    return folders[0], folders[1]


def stored(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return con.execute(
            "SELECT d.sha256, s.start, s.end, t.text, sc.score, sc.label FROM translations t"
            " JOIN segments s ON s.id = t.segment_id JOIN documents d ON d.id = s.document_id"
            " JOIN scores sc ON sc.translation_id = t.id ORDER BY d.sha256, s.start, t.text").fetchall()


def align(ar_dir: Path, en_dir: Path, db: Path, *extra: str) -> float:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "translate.cli", "align", str(ar_dir), str(en_dir), "--no-bridge",
                             "--db", str(db), *extra], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    if result.returncode != 0:
        sys.exit(f"error: align {' '.join(extra)} failed: {result.stderr.strip().splitlines()[-1:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--documents", type=int, default=1000)
    args = parser.parse_args()
    from ray.cluster_utils import Cluster

    archive = Archive(Pools(args.data), "news", args.documents, seed=11)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        ar_dir, en_dir = write_folders(base, archive)
        local_seconds = align(ar_dir, en_dir, base / "local.sqlite")
        reference = stored(base / "local.sqlite")
        pairs = len({row[0] for row in reference})
        print(f"{args.documents} Arabic and {len(archive.truth)} English documents; local align --no-bridge: "
              f"{local_seconds:.1f} s, {pairs} document pairs, {len(reference)} sentence pairs "
              f"({pairs / local_seconds:.1f} pairs/s)")
        started = time.perf_counter()
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        print(f"  local Ray cluster of two 1-CPU nodes started in {time.perf_counter() - started:.1f} s")
        rates = {}
        try:
            for actors in (1, 2):
                db = base / f"ray{actors}.sqlite"
                seconds = align(ar_dir, en_dir, db, "--ray-address", cluster.address, "--ray-actors", str(actors))
                same = stored(db) == reference
                rates[actors] = pairs / seconds
                print(f"  --ray, {actors} actor(s): {seconds:.1f} s ({rates[actors]:.1f} pairs/s, "
                      f"{local_seconds / seconds:.2f}x the local run); same pairs as local: {same}")
        finally:
            cluster.shutdown()
        print(f"  marginal throughput of the second actor: {rates[2] - rates[1]:+.1f} pairs/s")


if __name__ == "__main__":
    main()
