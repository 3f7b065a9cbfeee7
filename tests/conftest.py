"""Shared fixtures: the repository root, ../shared (optional), and a tiny real CTranslate2 model."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "data").is_dir():
        pytest.skip("../shared is not present")
    return SHARED


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A complete int8 model dir (random weights, SentencePiece trained on test text)."""
    from model_archives import build_tiny_ct2_model

    return build_tiny_ct2_model(tmp_path_factory.mktemp("models") / "tiny-ar-en", name="tiny-ar-en")


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None,
            input: str | None = None) -> subprocess.CompletedProcess:
    """Run the real `translate` command line in a subprocess."""
    full_env = {**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})}
    return subprocess.run([sys.executable, "-m", "translate.cli", *map(str, args)], cwd=cwd or ROOT,
                          env=full_env, capture_output=True, text=True, input=input, timeout=600)


def wait_for_saved_pairs(db: Path, proc: subprocess.Popen, timeout: float = 120) -> int:
    """Wait until the running `translate run` process has committed some pairs; returns how many.
    Reads with mode=ro, so the wait never takes a lock the run needs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1]
        if db.exists():
            con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
            try:
                saved = con.execute("SELECT COUNT(*) FROM translations").fetchone()[0]
            except sqlite3.OperationalError:      # tables not created yet
                saved = 0
            finally:
                con.close()
            if saved:
                return saved
        time.sleep(0.02)
    raise AssertionError("the run saved nothing in time")
