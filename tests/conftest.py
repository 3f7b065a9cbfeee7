"""Shared fixtures: the repository root, ../shared (optional), a tiny real CTranslate2 model, the aligned story
of tests/aligned_story.py, and a headless Chromium for the browser tests."""
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
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
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


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """The environment for a CLI run: a models folder of the test's own, so no installed model is used."""
    return {"TRANSLATE_MODELS_DIR": str(tmp_path / "models")}


@pytest.fixture
def story_files(tmp_path) -> tuple[Path, Path, Path]:
    """The story of tests/aligned_story.py as (Arabic, English, MT) files, one sentence a line."""
    from aligned_story import write_story

    return write_story(tmp_path)


@pytest.fixture
def aligned_story(tmp_path) -> tuple[Path, int]:
    """A store holding the story aligned with its MT as the bridge: (db, document pair id)."""
    from aligned_story import align_story

    return align_story(tmp_path)


def require_chromium() -> None:
    """Skip the calling test module when Debian's chromium is not installed (call it at module level,
    before importing playwright)."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed (/usr/bin/chromium; `make browser` installs it)",
                    allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium, one per test module."""
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    # a busy 2-core CI machine can take more than Playwright's default 5 s to save and redraw; the
    # assertions wait for a state, so a longer limit only costs time when a test is failing anyway
    expect.set_options(timeout=20_000)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None,
            input: str | None = None) -> subprocess.CompletedProcess:
    """Run the real `translate` command line in a subprocess."""
    full_env = {**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})}
    return subprocess.run([sys.executable, "-m", "translate.cli", *map(str, args)], cwd=cwd or ROOT,
                          env=full_env, capture_output=True, text=True, input=input, timeout=600)


def run_with_tiny_model(tiny_model: Path, env: dict, db: Path, *args) -> subprocess.CompletedProcess:
    """`translate run ARGS` with the tiny model, beam 1, into db."""
    return run_cli("run", *args, "--model", tiny_model, "--db", db, "--beam", "1", env=env)


def stored_documents(db: Path) -> dict[str, str]:
    """path -> text of every document in the store at db."""
    with sqlite3.connect(db) as con:
        return dict(con.execute("SELECT path, text FROM documents").fetchall())


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
