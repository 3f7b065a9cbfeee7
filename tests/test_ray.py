"""`translate run --ray` on a real two-node Ray cluster on this machine (one per module: it takes seconds
to start), the CLI in subprocesses as the driver, the tiny model and --beam 1.

The nodes have their own models directory (TRANSLATE_MODELS_DIR on the nodes, not the driver's): it
holds no tiny-ar-en, so the driver's copy is shipped, and a `tiny-other` with other weights than the
driver's, which must be refused.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, run_cli, wait_for_saved_pairs
from translate.pipeline import iter_segments, read_document

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install '.[ray]'")
from ray.cluster_utils import Cluster  # noqa: E402

# one local Ray cluster at a time: when the suite runs in several pytest-xdist workers, these tests share one
pytestmark = pytest.mark.xdist_group("ray")

SEEDS = ROOT / "seeds"
OBJECT_STORE = 80 * 1024 * 1024


@pytest.fixture(scope="module")
def nodes_dirs(tmp_path_factory) -> dict[str, Path]:
    from model_archives import build_tiny_ct2_model

    base = tmp_path_factory.mktemp("ray")
    dirs = {"driver_models": base / "driver-models", "node_models": base / "node-models",
            "node_cache": base / "node-cache"}
    for path in dirs.values():
        path.mkdir()
    # the same name, other weights: a node must refuse it
    build_tiny_ct2_model(dirs["driver_models"] / "tiny-other", name="tiny-other", seed=1)
    build_tiny_ct2_model(dirs["node_models"] / "tiny-other", name="tiny-other", seed=2)
    return dirs


@pytest.fixture(scope="module")
def cluster(nodes_dirs):
    env = {"TRANSLATE_MODELS_DIR": str(nodes_dirs["node_models"]),
           "TRANSLATE_RAY_CACHE": str(nodes_dirs["node_cache"])}
    node_args = {"num_cpus": 1, "object_store_memory": OBJECT_STORE, "env_vars": env}
    cluster = Cluster(initialize_head=True, head_node_args={**node_args, "include_dashboard": False})
    cluster.add_node(**node_args)
    cluster.wait_for_nodes()
    yield cluster
    cluster.shutdown()


@pytest.fixture
def env(nodes_dirs):
    return {"TRANSLATE_MODELS_DIR": str(nodes_dirs["driver_models"])}


def pairs(db: Path) -> list[tuple]:
    """Every stored pair with its scores, in document order."""
    with sqlite3.connect(db) as con:
        return con.execute(
            "SELECT d.sha256, s.start, s.end, s.text, t.text, sc.score, sc.label, sc.signals FROM translations t"
            " JOIN segments s ON s.id = t.segment_id JOIN documents d ON d.id = s.document_id"
            " LEFT JOIN scores sc ON sc.translation_id = t.id ORDER BY d.sha256, s.start").fetchall()


def count(db: Path, sql: str) -> int:
    with sqlite3.connect(db, timeout=30) as con:
        return con.execute(sql).fetchone()[0]


def many_sentences(folder: Path, files: int = 6, lines: int = 120) -> int:
    """Distinct sentences (seed sentences numbered), enough for a run of several seconds on two actors;
    returns how many segments they make."""
    sentences = [seg.text for p in sorted(SEEDS.glob("*.txt")) for seg in iter_segments(read_document(p))]
    folder.mkdir()
    total = 0
    for f in range(files):
        text = "\n".join(f"{sentences[(f * lines + i) % len(sentences)]} رقم {f * lines + i}" for i in range(lines))
        path = folder / f"doc{f}.txt"
        path.write_text(text + "\n", encoding="utf-8")
        total += len(list(iter_segments(read_document(path))))
    return total


def start_run(args: list, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "translate.cli", "run", *map(str, args)], cwd=ROOT,
                            env={**os.environ, "PYTHONIOENCODING": "utf-8", **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_ray_run_stores_what_a_local_run_stores_and_resumes(tmp_path, tiny_model, cluster, env, nodes_dirs):
    local_db, ray_db = tmp_path / "local.sqlite", tmp_path / "ray.sqlite"
    local = run_cli("run", SEEDS, "--model", tiny_model, "--db", local_db, "--beam", "1", env=env)
    assert local.returncode == 0, local.stderr
    remote = run_cli("run", SEEDS, "--model", tiny_model, "--db", ray_db, "--beam", "1",
                     "--ray-address", cluster.address, env=env)
    assert remote.returncode == 0, remote.stderr
    assert pairs(ray_db) == pairs(local_db) and len(pairs(ray_db)) > 50
    assert "Ray: " in remote.stderr and "2 in the pool" in remote.stderr
    # the nodes had no tiny-ar-en: the driver's copy was shipped to them, and checked
    shipped = list(nodes_dirs["node_cache"].glob("tiny-ar-en-*/model.bin"))
    assert len(shipped) == 1 and shipped[0].read_bytes() == (tiny_model / "model.bin").read_bytes()
    # the same command again: nothing left to do, nothing added
    again = run_cli("run", SEEDS, "--model", tiny_model, "--db", ray_db, "--beam", "1",
                    "--ray-address", cluster.address, env=env)
    assert again.returncode == 0, again.stderr
    assert "segments 0" in again.stderr and "+5 already done" in again.stderr
    assert pairs(ray_db) == pairs(local_db)


def test_driver_killed_mid_run_then_rerun_loses_and_doubles_nothing(tmp_path, tiny_model, cluster, env):
    total = many_sentences(tmp_path / "in")
    db = tmp_path / "c.sqlite"
    args = [tmp_path / "in", "--model", tiny_model, "--db", db, "--beam", "1", "--ray-address", cluster.address]
    driver = start_run(args, env)
    committed = wait_for_saved_pairs(db, driver, timeout=240)
    driver.send_signal(signal.SIGKILL)
    driver.wait(timeout=30)
    assert committed < total
    # the command's driver child is stopped by its parent's death and marks its run interrupted
    stop = time.monotonic() + 60
    while count(db, "SELECT COUNT(*) FROM runs WHERE status = 'running'") and time.monotonic() < stop:
        time.sleep(0.1)
    saved = count(db, "SELECT COUNT(*) FROM translations")
    rerun = run_cli("run", *args, env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert count(db, "SELECT COUNT(*) FROM segments") == total
    assert count(db, "SELECT COUNT(*) FROM translations") == total
    assert count(db, "SELECT COUNT(DISTINCT segment_id) FROM translations") == total
    assert f"segments {total - saved} " in rerun.stderr, rerun.stderr
    assert [r[0] for r in sqlite3.connect(db).execute("SELECT status FROM runs ORDER BY id")] == \
        ["interrupted", "done"]


def actor_pids() -> list[int]:
    """The processes of this machine's translator actors (Ray titles them after the actor class)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"TranslatorActor" in command:
                found.append(int(entry.name))
    return found


def test_a_killed_actor_is_replaced_and_the_run_completes(tmp_path, tiny_model, cluster, env):
    total = many_sentences(tmp_path / "in")
    db = tmp_path / "k.sqlite"
    driver = start_run([tmp_path / "in", "--model", tiny_model, "--db", db, "--beam", "1",
                        "--ray-address", cluster.address], env)
    committed = wait_for_saved_pairs(db, driver, timeout=240)
    victims = actor_pids()
    assert victims and committed < total
    os.kill(victims[0], signal.SIGKILL)
    _, stderr = driver.communicate(timeout=300)
    assert driver.returncode == 0, stderr
    assert count(db, "SELECT COUNT(*) FROM translations") == total
    assert count(db, "SELECT COUNT(DISTINCT segment_id) FROM translations") == total
    assert victims[0] not in actor_pids()


def test_a_node_with_other_weights_under_the_model_name_is_refused(tmp_path, cluster, env):
    db = tmp_path / "m.sqlite"
    result = run_cli("run", SEEDS, "--model", "tiny-other", "--db", db, "--beam", "1",
                     "--ray-address", cluster.address, env=env)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert "model mismatch on" in last and "tiny-other" in last and "weights sha256" in last, result.stderr
    assert count(db, "SELECT COUNT(*) FROM translations") == 0
    assert [r[0] for r in sqlite3.connect(db).execute("SELECT status FROM runs")] == ["interrupted"]


def test_without_ray_the_option_says_how_to_install_it(tmp_path, tiny_model, env):
    # Ray made unimportable for the CLI's process only
    blocker = tmp_path / "no-ray"
    (blocker / "ray").mkdir(parents=True)
    (blocker / "ray" / "__init__.py").write_text("raise ImportError('No module named ray')\n")
    result = run_cli("run", SEEDS, "--model", tiny_model, "--db", tmp_path / "n.sqlite", "--ray",
                     env={**env, "PYTHONPATH": os.pathsep.join([str(blocker), str(ROOT)])})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["error: --ray needs Ray: pip install 'translate-arabic[ray]'"]
    assert not (tmp_path / "n.sqlite").exists()


def test_losing_the_cluster_ends_the_run_with_one_line_and_keeps_what_was_committed(tmp_path, tiny_model, env):
    # a cluster of its own: this one is shut down under the run
    own = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "object_store_memory": OBJECT_STORE,
                                                        "include_dashboard": False})
    try:
        total = many_sentences(tmp_path / "in")
        db = tmp_path / "lost.sqlite"
        driver = start_run([tmp_path / "in", "--model", tiny_model, "--db", db, "--beam", "1",
                            "--ray-address", own.address], env)
        committed = wait_for_saved_pairs(db, driver, timeout=240)
    finally:
        own.shutdown()
    _, stderr = driver.communicate(timeout=120)
    assert driver.returncode != 0
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "Ray" in last and "segments of this run were saved" in last, stderr
    saved = count(db, "SELECT COUNT(*) FROM translations")
    assert committed <= saved < total
    assert f"{saved} segments of this run were saved" in last


def _article_folders(base: Path) -> tuple[Path, Path]:
    """Six FLORES-like articles a side from tests/test_docalign.py, the English of one missing."""
    from test_docalign import ARTICLES

    ar_dir, en_dir = base / "ar", base / "en"
    ar_dir.mkdir()
    en_dir.mkdir()
    for k, (ar, en) in enumerate(ARTICLES):
        (ar_dir / f"a{k}.txt").write_text("\n".join(ar) + "\n", encoding="utf-8")
        if k != 1:
            (en_dir / f"e{(k * 3) % 4}.txt").write_text(" ".join(en) + "\n", encoding="utf-8")
    return ar_dir, en_dir


def test_ray_align_stores_what_a_local_align_stores_and_resumes(tmp_path, tiny_model, cluster, env):
    import json

    from translate import models

    ar_dir, en_dir = _article_folders(tmp_path)
    bridges = [["--no-bridge"]]
    # the actors load a model directory through models.load_model_dir (public on main since the split)
    if hasattr(models, "load_model_dir"):
        bridges.append(["--model", str(tiny_model)])
    for bridge in bridges:
        local_db, ray_db = tmp_path / f"local{len(bridge)}.sqlite", tmp_path / f"ray{len(bridge)}.sqlite"
        local = run_cli("align", ar_dir, en_dir, *bridge, "--jsonl", "--db", local_db, env=env)
        assert local.returncode == 0, local.stderr
        remote = run_cli("align", ar_dir, en_dir, *bridge, "--jsonl", "--db", ray_db,
                         "--ray-address", cluster.address, env=env)
        assert remote.returncode == 0, remote.stderr
        records = lambda out: sorted(map(json.loads, out.splitlines()), key=json.dumps)  # noqa: E731
        assert records(remote.stdout) == records(local.stdout) and len(records(local.stdout)) == 4
        assert pairs(ray_db) == pairs(local_db) and len(pairs(ray_db)) == 6
        if len(bridge) == 2:        # the bridge MT was made on the actors, and stored as the local one
            assert all(row[4] for row in pairs(ray_db))
        again = run_cli("align", ar_dir, en_dir, *bridge, "--db", ray_db, "--ray-address", cluster.address, env=env)
        assert again.returncode == 0, again.stderr
        assert "3 pairs (0 aligned, 3 aligned before)" in again.stderr
        assert pairs(ray_db) == pairs(local_db)
