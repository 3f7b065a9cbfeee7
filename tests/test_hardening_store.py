"""Store and run-lifecycle hardening (issue 12, items 3, 4, 6, 7), through the real CLI in subprocesses:
concurrent runs on one new store, read-only stores and folders, a full disk, a locked store, a re-run
with other segmentation settings, SIGINT / SIGTERM / SIGKILL during a run."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, run_cli, wait_for_saved_pairs
from translate.store import schema as store_schema
from translate import store as store_module
from translate.pipeline import iter_segments, read_document
from translate.store import MIGRATIONS, Store

SEEDS = sorted((ROOT / "seeds").glob("*.txt"))


def translate_cmd(*args) -> list[str]:
    return [sys.executable, "-m", "translate.cli", *map(str, args)]


def start_cli(*args, env: dict) -> subprocess.Popen:
    return subprocess.Popen(translate_cmd(*args), cwd=ROOT, env={**os.environ, "PYTHONIOENCODING": "utf-8", **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def query(db: Path, sql: str, args=()) -> list[tuple]:
    # mode=ro: the test's own reads never take a write lock or change the store
    con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def assert_one_line_error(result, *words: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    errors = error_lines(result.stderr)
    assert len(errors) == 1, result.stderr
    for word in words:
        assert word in errors[0], (word, errors[0])


def many_sentences(path: Path, count: int) -> Path:
    """A document of ``count`` distinct short sentences, one a line (distinct: nothing is reused)."""
    words = ["الحكومة", "الوزير", "الاقتصاد", "المدينة", "الشركة", "المفاوضات", "الأمطار", "المدرسة"]
    lines = [f"قال {words[i % 8]} إن {words[(i // 8) % 8]} رقم {i} سيعمل مع {words[(i // 64) % 8]}."
             for i in range(count)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- 3: concurrency -------------------------------------------------------------------------------------
def test_processes_opening_one_new_store_at_once_all_succeed(tmp_path):
    # several rounds: the race (two processes switching a new file to WAL at once) is a matter of timing
    for round_ in range(5):
        db = tmp_path / f"new{round_}" / "corpus.sqlite"
        code = f"from translate.store import Store; Store({str(db)!r}).close()"
        procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE, text=True)
                 for _ in range(6)]
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
        assert query(db, "SELECT version FROM schema_migrations ORDER BY version") == [
            (m[0],) for m in sorted(MIGRATIONS)]


def test_two_concurrent_runs_on_one_new_store_both_finish_without_duplicates(tmp_path, tiny_model, env):
    docs = tmp_path / "in"
    docs.mkdir()
    for seed in SEEDS[:3]:
        shutil.copy(seed, docs / seed.name)
    db = tmp_path / "corpus.sqlite"
    runs = [start_cli("run", docs, "--model", tiny_model, "--db", db, "--beam", "1", env=env) for _ in range(2)]
    stored_by_run = []
    for proc in runs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert "Traceback" not in err
        stored_by_run.append(int(re.search(r"segments (\d+) \(", err).group(1)))
    wanted = sum(len(list(iter_segments(read_document(p)))) for p in SEEDS[:3])
    assert sum(stored_by_run) == wanted          # each pair stored (and reported) by one of them
    assert query(db, "SELECT COUNT(*) FROM documents") == [(3,)]
    assert query(db, "SELECT COUNT(*) FROM segments") == [(wanted,)]
    # one pair per segment, each with its score: the two runs split or shared the work, never doubled it
    assert query(db, "SELECT COUNT(*), COUNT(DISTINCT segment_id) FROM translations") == [(wanted, wanted)]
    assert query(db, "SELECT COUNT(*) FROM scores") == [(wanted,)]
    assert query(db, "SELECT status, COUNT(*) FROM runs GROUP BY status") == [("done", 2)]
    assert query(db, "SELECT COUNT(*) FROM models") == [(1,)]


# -- 4: SQLite errors -----------------------------------------------------------------------------------
def unprivileged_prefix() -> list[str]:
    """A command prefix under which file permissions apply. As root, chmod stops nothing, so the command
    runs as root without the capabilities that bypass permissions (setpriv drops them from the bounding
    set; root keeps reading its own 0700 virtualenv and model dirs, which `--reuid=nobody` could not)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: chmod cannot make a file read-only for root")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner,-linux_immutable", "--"]


def run_unprivileged(*args, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(unprivileged_prefix() + translate_cmd(*args), cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8", **env}, timeout=300)


@pytest.fixture
def filled_store(tmp_path, tiny_model, env) -> Path:
    db = tmp_path / "store" / "corpus.sqlite"
    result = run_cli("run", SEEDS[3], "--model", tiny_model, "--db", db, "--beam", "1", env=env)
    assert result.returncode == 0, result.stderr
    return db


def export_ids(path: Path) -> list[int]:
    return [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("what", ["file", "folder"])
def test_read_only_store_exports_and_evaluates_and_a_run_fails_in_one_line(filled_store, tmp_path, tiny_model,
                                                                             env, what):
    folder = filled_store.parent
    pairs = query(filled_store, "SELECT COUNT(*) FROM translations")[0][0]
    os.chmod(filled_store, 0o444)
    if what == "folder":
        os.chmod(folder, 0o555)
    try:
        probe = subprocess.run(unprivileged_prefix() + ["sh", "-c", f"echo x >> '{filled_store}'"],
                               capture_output=True)
        if probe.returncode == 0:
            pytest.skip("this machine lets the test write a 0444 file (permissions are not enforced)")
        out = tmp_path / "out.jsonl"
        result = run_unprivileged("export", "--db", filled_store, "-f", "jsonl", "-o", out, env=env)
        assert result.returncode == 0, result.stderr
        assert len(export_ids(out)) == pairs

        ref = tmp_path / "ref.txt"
        ref.write_text("x\n" * pairs, encoding="utf-8")
        result = run_unprivileged("eval", "--db", filled_store, "--ref", ref, "--json", env=env)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["sentences"] == pairs

        other = tmp_path / "other.txt"
        other.write_text("جملة أخرى للترجمة.\n", encoding="utf-8")
        result = run_unprivileged("run", other, "--model", tiny_model, "--db", filled_store, "--beam", "1", env=env)
        assert_one_line_error(result, str(filled_store), "cannot be written")
    finally:
        os.chmod(folder, 0o755)
        os.chmod(filled_store, 0o644)
    assert query(filled_store, "SELECT COUNT(*) FROM translations") == [(pairs,)]
    assert query(filled_store, "SELECT COUNT(*) FROM documents") == [(1,)]


DISK_FULL_SCRIPT = r'''
set -u
mount -t tmpfs -o size=3m tmpfs "$MNT" || exit 99
cd "$ROOT"
"$PY" -m translate.cli run "$DOC1" --model "$MODEL" --db "$MNT/s.sqlite" --beam 1 2>"$OUT/first.err"; echo $? >"$OUT/first.rc"
"$PY" -m translate.cli export --db "$MNT/s.sqlite" -f jsonl -o "$OUT/before.jsonl" 2>>"$OUT/first.err"
dd if=/dev/zero of="$MNT/fill" bs=4096 2>/dev/null
truncate -s -64K "$MNT/fill"          # room to open the store, not to store a 400 kB document
"$PY" -m translate.cli run "$DOC2" --model "$MODEL" --db "$MNT/s.sqlite" --beam 1 2>"$OUT/full.err"; echo $? >"$OUT/full.rc"
rm "$MNT/fill"
"$PY" -c "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])" \
    "$MNT/s.sqlite" >"$OUT/integrity"
"$PY" -m translate.cli export --db "$MNT/s.sqlite" -f jsonl -o "$OUT/after.jsonl" 2>>"$OUT/first.err"
'''


def test_full_disk_is_a_one_line_error_and_the_store_stays_intact(tmp_path, tiny_model, env):
    """A real full disk: a 3 MB tmpfs mounted in a private mount namespace (root, or an unprivileged
    user namespace), filled up before the second run."""
    if shutil.which("unshare") is None:
        pytest.skip("no unshare: cannot mount a small tmpfs to fill")
    mnt, out = tmp_path / "mnt", tmp_path / "out"
    mnt.mkdir()
    out.mkdir()
    big = tmp_path / "big.txt"
    big.write_text((SEEDS[0].read_text(encoding="utf-8") + "\n") * 60, encoding="utf-8")
    namespace = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-r", "-m"]
    result = subprocess.run([*namespace, "sh", "-c", DISK_FULL_SCRIPT], capture_output=True, text=True, timeout=300,
                            env={**os.environ, **env, "PYTHONIOENCODING": "utf-8", "MNT": str(mnt), "OUT": str(out),
                                 "ROOT": str(ROOT), "PY": sys.executable, "MODEL": str(tiny_model),
                                 "DOC1": str(SEEDS[4]), "DOC2": str(big)})
    if result.returncode == 99 or not (out / "first.rc").exists():
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()[:200]}")
    assert (out / "first.rc").read_text().strip() == "0", (out / "first.err").read_text()

    class Result:
        returncode = int((out / "full.rc").read_text())
        stderr = (out / "full.err").read_text()
    assert_one_line_error(Result, "s.sqlite", "disk is full")
    assert (out / "integrity").read_text().strip() == "ok"
    assert (out / "after.jsonl").read_text() == (out / "before.jsonl").read_text()


def test_locked_store_and_foreign_file_are_one_line_errors(filled_store, tmp_path, tiny_model, env):
    doc = tmp_path / "d.txt"
    doc.write_text("جملة.\n", encoding="utf-8")
    holder = sqlite3.connect(filled_store, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")            # another writer holding the store
    try:
        result = run_cli("run", doc, "--model", tiny_model, "--db", filled_store, "--beam", "1",
                         env={**env, "TRANSLATE_BUSY_TIMEOUT": "0.5"})
        assert_one_line_error(result, str(filled_store), "locked")
        # readers are not blocked by a writer (WAL)
        out = tmp_path / "o.jsonl"
        assert run_cli("export", "--db", filled_store, "-f", "jsonl", "-o", out).returncode == 0
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database at all " * 200)
    for args in (("run", doc, "--model", tiny_model), ("export", "-f", "jsonl", "-o", tmp_path / "g.jsonl")):
        result = run_cli(*args, "--db", garbage, env=env)
        assert_one_line_error(result, str(garbage))


# -- 6: re-running with other segmentation settings ------------------------------------------------------
def exported(db: Path, tmp_path: Path, *extra: str) -> tuple[list[dict], str]:
    out = tmp_path / "export.jsonl"
    result = run_cli("export", "--db", db, "-f", "jsonl", "-o", out, *extra)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()], result.stderr


def assert_no_source_character_twice(records: list[dict]) -> None:
    by_document: dict[str, list[tuple[int, int]]] = {}
    for r in records:
        by_document.setdefault(r["document"], []).append((r["start"], r["end"]))
    for spans in by_document.values():
        spans.sort()
        for (_, end), (start, _) in zip(spans, spans[1:]):
            assert start >= end, f"overlapping spans ending {end} and starting {start}"


def test_rerun_with_other_max_words_supersedes_the_old_segmentation(tmp_path, tiny_model, env):
    seed = next(p for p in SEEDS if p.name.startswith("001_"))      # one 736-word sentence, no full stop
    text = read_document(seed)
    db = tmp_path / "seg.sqlite"
    first = run_cli("run", seed, "--model", tiny_model, "--db", db, "--beam", "1", "--max-words", "60", env=env)
    assert first.returncode == 0, first.stderr
    records, _ = exported(db, tmp_path)
    first_ids = [r["id"] for r in records]
    # the spans of the second segmentation, from the segmenter itself: the first run's pairs outside them
    # are the ones the second run supersedes
    spans_20 = {(seg.start, seg.end) for seg in iter_segments(text, max_words=20)}
    replaced = [r["id"] for r in records if (r["start"], r["end"]) not in spans_20]
    shared = [r["id"] for r in records if (r["start"], r["end"]) in spans_20]
    assert len(replaced) >= 3 and shared
    # a reviewer approves two pairs that will be superseded, edits a third, and approves one that stays
    with sqlite3.connect(db) as con:
        con.execute("UPDATE translations SET status='approved' WHERE id IN (?, ?, ?)",
                    (replaced[0], replaced[2], shared[0]))
        con.execute("UPDATE translations SET status='edited' WHERE id = ?", (replaced[1],))
    reviewed = set(replaced[:3])

    second = run_cli("run", seed, "--model", tiny_model, "--db", db, "--beam", "1", "--max-words", "20", env=env)
    assert second.returncode == 0, second.stderr
    assert f"{len(replaced)} stored segments of an earlier segmentation" in second.stderr, second.stderr
    assert "3 of their reviewed pairs are kept" in second.stderr, second.stderr
    records, stderr = exported(db, tmp_path)
    assert_no_source_character_twice(records)
    assert {(r["start"], r["end"]) for r in records} == spans_20
    assert not reviewed & {r["id"] for r in records}
    assert shared[0] in {r["id"] for r in records}
    assert "3 reviewed pairs of superseded segmentations" in stderr and "--include-superseded" in stderr
    # kept, never deleted: exportable on request
    everything, _ = exported(db, tmp_path, "--include-superseded")
    assert reviewed <= {r["id"] for r in everything}
    approved, _ = exported(db, tmp_path, "--status", "approved", "--include-superseded")
    assert {r["id"] for r in approved} == {replaced[0], replaced[2], shared[0]}

    # back to the first settings: those spans are current again, their reviews with them
    third = run_cli("run", seed, "--model", tiny_model, "--db", db, "--beam", "1", "--max-words", "60", env=env)
    assert third.returncode == 0, third.stderr
    records, _ = exported(db, tmp_path)
    assert_no_source_character_twice(records)
    assert sorted(r["id"] for r in records) == sorted(first_ids)
    assert "segments 0" in third.stderr          # nothing translated twice


def test_migration_4_marks_overlapping_spans_of_older_stores(tmp_path, monkeypatch):
    """A store made before migration 4 holding two segmentations of one document: the later run's spans
    become current. Also: versions need not be contiguous (a store with 1, 2, 4 gets a later 3)."""
    db = tmp_path / "old.sqlite"
    monkeypatch.setattr(store_schema, "MIGRATIONS", [m for m in MIGRATIONS if m[0] <= 2])
    with Store(db) as old:
        doc, _ = old.add_document("d.txt", "aaaa bbbb. cccc", "sha")
        model = old.model_id("m", "w")
        run = old.start_run("translate", model, {})
        whole = old.add_segments(doc, [store_module.NewSegment(0, 0, 15, 0, 0, "aaaa bbbb. cccc")])
        parts = old.add_segments(doc, [store_module.NewSegment(0, 0, 10, 0, 0, "aaaa bbbb."),
                                       store_module.NewSegment(1, 11, 15, 0, 1, "cccc")])
        with old.transaction() as con:
            for sid in whole + parts:
                old.add_translation(con, sid, "x", model, run, 0.5, "check", {})
    # a program that knew 4 but not yet 3 (the branches landed in that order elsewhere)
    monkeypatch.setattr(store_schema, "MIGRATIONS", [m for m in MIGRATIONS if m[0] != 3])
    with Store(db) as new:
        current = new.db.execute("SELECT start, end FROM segments WHERE superseded_at IS NULL"
                                 " ORDER BY start").fetchall()
        assert [tuple(r) for r in current] == [(0, 10), (11, 15)]
        assert 3 not in new._applied_versions()
    monkeypatch.setattr(store_schema, "MIGRATIONS", MIGRATIONS)
    with Store(db) as newer:
        assert newer._applied_versions() == {m[0] for m in MIGRATIONS}
        assert sorted((p["start"], p["end"]) for p in newer.iter_pairs()) == [(0, 10), (11, 15)]
        # migration 3's search index covers the pairs stored before it
        assert newer.db.execute("SELECT COUNT(*) FROM pair_search").fetchone()[0] == 3


# -- 7: interruption ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def long_input(tmp_path_factory) -> Path:
    """Long enough that a run is still working when the test signals it after its first commit (the first
    chunk is small: FIRST_CHUNK_WORDS), short enough that the rerun is quick."""
    return many_sentences(tmp_path_factory.mktemp("long") / "long.txt", 2500)


@pytest.fixture(scope="module")
def very_long_input(tmp_path_factory) -> Path:
    """A run on this is still working while another whole `translate run` starts and ends beside it."""
    return many_sentences(tmp_path_factory.mktemp("long") / "very-long.txt", 30000)


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_the_run_cleanly_and_the_rerun_completes(tmp_path, tiny_model, env, long_input, sig, code):
    db = tmp_path / "sig.sqlite"
    proc = start_cli("run", long_input, "--model", tiny_model, "--db", db, "--beam", "1", env=env)
    wait_for_saved_pairs(db, proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    saved = query(db, "SELECT COUNT(*) FROM translations")[0][0]
    assert last == f"interrupted: {saved} segments saved; run the same command again to resume"
    total = len(list(iter_segments(read_document(long_input))))
    assert 0 < saved < total
    assert query(db, "SELECT status, finished_at IS NOT NULL FROM runs") == [("interrupted", 1)]

    rerun = run_cli("run", long_input, "--model", tiny_model, "--db", db, "--beam", "1", env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert f"segments {total - saved} " in rerun.stderr
    assert query(db, "SELECT COUNT(*), COUNT(DISTINCT segment_id) FROM translations") == [(total, total)]
    assert query(db, "SELECT status FROM runs ORDER BY id") == [("interrupted",), ("done",)]


def test_killed_run_is_marked_interrupted_by_the_next_run_but_a_live_one_is_not(tmp_path, tiny_model, env,
                                                                               long_input, very_long_input):
    db = tmp_path / "kill.sqlite"
    small = tmp_path / "small.txt"
    small.write_text("جملة قصيرة للاختبار.\n", encoding="utf-8")
    killed = start_cli("run", long_input, "--model", tiny_model, "--db", db, "--beam", "1", env=env)
    wait_for_saved_pairs(db, killed)
    killed.kill()
    killed.communicate(timeout=60)
    assert query(db, "SELECT status FROM runs") == [("running",)]

    live = start_cli("run", very_long_input, "--model", tiny_model, "--db", db, "--beam", "1", env=env)
    try:
        before = query(db, "SELECT COUNT(*) FROM translations")[0][0]
        deadline = time.monotonic() + 120
        while query(db, "SELECT COUNT(*) FROM translations")[0][0] == before:   # the live run is working
            assert live.poll() is None and time.monotonic() < deadline, live.communicate()[1]
            time.sleep(0.02)
        # a third run while the second is alive: it marks the killed run, not the live one
        third = run_cli("run", small, "--model", tiny_model, "--db", db, "--beam", "1", env=env)
        assert third.returncode == 0, third.stderr
        assert query(db, "SELECT id, status FROM runs ORDER BY id") == [(1, "interrupted"), (2, "running"),
                                                                        (3, "done")]
    finally:
        live.send_signal(signal.SIGTERM)
        _, err = live.communicate(timeout=60)
    assert live.returncode in (0, 143), err
    assert query(db, "SELECT status FROM runs WHERE id = 2")[0][0] in ("interrupted", "done")
    assert not list(tmp_path.glob("kill.sqlite-run*.lock"))
