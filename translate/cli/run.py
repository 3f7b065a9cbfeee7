"""`translate run`: translate articles into the store, locally or on a Ray cluster (the driver then runs
in a child process, so that a lost cluster ends in one line)."""
from __future__ import annotations

import os
import signal
import sqlite3
import sys
from pathlib import Path
from typing import NoReturn, Optional

import typer

from .. import models as model_store
from ..segment import DEFAULT_MAX_WORDS
from ..store import Store, StoreError
from .common import (
    PARTIAL,
    DbOption,
    app,
    check_encoding,
    fail,
    input_files,
    open_store,
    store_errors,
)


@app.command()
def run(
    paths: list[Path] = typer.Argument(..., help="Files or directories of .txt articles (and .html/.htm pages "
                                       "with --html)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model name or directory (default: best installed)."),
    db: Path = DbOption,
    device: str = typer.Option("cpu", help="cpu or cuda."),
    beam: int = typer.Option(4, min=1, help="Beam size (4: quality; 1: fastest)."),
    threads: int = typer.Option(0, min=0, help="CPU threads in all (0: every core)."),
    max_words: int = typer.Option(DEFAULT_MAX_WORDS, "--max-words", min=0,
                                  help="Split sentences longer than this at clause points (0: never)."),
    encoding: Optional[str] = typer.Option(None, help="Encoding of the input files that are not UTF-8 "
                                           "(default: detected when certain, else refused)."),
    html: bool = typer.Option(False, "--html", help="Extract the article text of HTML pages (refused without)."),
    compute_type: Optional[str] = typer.Option(None, "--compute-type",
                                               help="CTranslate2 compute type (default int8; int8_float16 on cuda)."),
    inter_threads: int = typer.Option(0, "--inter-threads", min=0,
                                      help="Engine replicas sharing --threads (0: one per 4 cores)."),
    batch_tokens: int = typer.Option(0, "--batch-tokens", min=0,
                                     help="Token budget of one engine batch (0: 2048 on cpu, 8192 on cuda)."),
    vmap: Optional[bool] = typer.Option(None, "--vmap/--no-vmap",
                                        help="Decode with the model's vocabulary map (default: if it has one)."),
    ray: bool = typer.Option(False, "--ray", help="Translate on a Ray cluster (RAY_ADDRESS, else a new local one); "
                             "the store stays here. Needs pip install 'translate-arabic\\[ray]'."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", metavar="ADDR",
                                              help="Ray cluster to use (implies --ray): auto, host:port or ray://host:port."),
    ray_actors: int = typer.Option(0, "--ray-actors", min=0,
                                   help="With --ray: translator actors (0: as many as the cluster's CPUs, "
                                   "--threads each, or GPUs hold)."),
) -> None:
    """Segment, translate, score and store Arabic articles.

    With --ray, --threads is the threads of each actor (0: 4, at most a node's CPUs)."""
    from ..pipeline import RunFailed, RunInterrupted, stop_on_signals

    check_encoding(encoding)
    files, missing = input_files(paths, html)
    try:
        info = model_store.resolve_model(model)
    except model_store.ModelError as exc:
        fail(str(exc))
    if ray_address is not None:
        ray = True
    if ray:
        from ..distributed import INSTALL_HINT, RayUnavailable, import_ray
        if not os.environ.get(RAY_DRIVER_ENV):
            import importlib.util
            if importlib.util.find_spec("ray") is None:      # without importing Ray in this process
                fail(INSTALL_HINT)
            _supervise_ray_driver(db)
        _stop_with_parent(int(os.environ[RAY_DRIVER_ENV]))
        try:
            import_ray()
        except RayUnavailable as exc:
            fail(str(exc))
    # the store before the model loads: a store that cannot be written fails at once
    store = open_store(db)
    try:
        with stop_on_signals():
            summary = _translate(store, db, files, info, device, threads, beam, compute_type, inter_threads,
                                 batch_tokens, vmap, max_words, encoding, html,
                                 (ray_address or "auto") if ray else None, ray_actors)
    except KeyboardInterrupt as exc:         # RunInterrupted, or a signal before the run started
        saved = exc.summary.saved if isinstance(exc, RunInterrupted) else 0
        _exit_now(store, f"\ninterrupted: {saved} segments saved; run the same command again to resume",
                  128 + getattr(exc, "signum", signal.SIGINT))
    except RunFailed as exc:
        _exit_now(store, f"error: {exc} ({exc.summary.saved} segments of this run were saved)", 1)
    store.close()
    for message in summary.warnings:
        typer.echo(f"warning: {message}", err=True)
    for message in summary.errors:
        typer.echo(f"error: {message}", err=True)
    refused = len(summary.errors) + len(missing)
    if summary.superseded:
        typer.echo(f"{summary.superseded} stored segments of an earlier segmentation (other --max-words) were "
                   f"superseded; {summary.superseded_reviewed} of their reviewed pairs are kept and exported only "
                   "with --include-superseded", err=True)
    if summary.new_versions:
        typer.echo(f"{summary.new_versions} documents are new versions of files stored before (same path, changed "
                   f"content): the earlier versions are superseded and {summary.versions_reviewed} of their reviewed "
                   f"pairs are kept and exported only with --include-superseded; {summary.reviews_carried} unchanged "
                   "sentences kept their review", err=True)
    mean = f"{summary.mean_score:.3f}" if summary.mean_score is not None else "-"
    typer.echo(
        f"model {summary.model}{' (demo model: not for production)' if summary.demo_model else ''}; "
        f"documents {summary.documents} (+{summary.documents_skipped} already done), "
        f"segments {summary.segments} (translated {summary.translated}, reused {summary.reused}"
        f"{f', copied {summary.copied} Latin-script' if summary.copied else ''}"
        f"{f', {summary.left_to_other_runs} left to another run' if summary.left_to_other_runs else ''}), "
        f"words {summary.words}, {summary.words_per_second:.1f} words/s, mean score {mean}; store {db}"
        + (f"; Ray: {summary.cluster}" if summary.cluster else "")
        + (f"; {refused} input{'s' if refused > 1 else ''} refused (errors above)" if refused else ""),
        err=True)
    if refused:
        # some inputs stored and some refused (PARTIAL), or nothing could be read (1)
        raise typer.Exit(PARTIAL if summary.documents + summary.documents_skipped else 1)


RAY_DRIVER_ENV = "TRANSLATE_RAY_DRIVER"    # set in the child that is the Ray driver


def _supervise_ray_driver(db: Path) -> NoReturn:
    """Run this same command as a child process (the Ray driver) and exit with its status.

    Ray ends a driver process at once, without a word, when it loses its node's raylet or the head node;
    run in a child, that leaves this process to say so in one line. What the child committed is kept:
    the next run marks its run interrupted and resumes. Ctrl-C reaches the child directly (same process
    group); SIGTERM and SIGHUP sent to this process are passed on to it."""
    import subprocess

    before = _last_run_id(db)
    child = subprocess.Popen([sys.executable, "-m", "translate.cli", *sys.argv[1:]],
                             env={**os.environ, RAY_DRIVER_ENV: str(os.getpid())})
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda received, _frame: child.send_signal(received))
    code = child.wait()
    if code != 0:
        abandoned = _abandoned_runs(db, before)
        if abandoned:
            saved = sum(saved for _, saved in abandoned)
            typer.echo(f"error: the Ray driver process ended abruptly (exit status {code}; the Ray cluster or "
                       f"this node's raylet was lost?): {saved} segments of this run were saved; run the same "
                       "command again to resume", err=True)
    raise SystemExit(code if code >= 0 else 128 - code)


def _stop_with_parent(parent: int) -> None:
    """In the Ray driver child: a SIGTERM (a clean stop) when the supervising process dies, even by
    SIGKILL, so that killing the command stops the run (Linux; elsewhere the child runs on)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)       # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:              # it died before the line above
        os.kill(os.getpid(), signal.SIGTERM)


def _last_run_id(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        store = Store(db, create=False, readonly=True)
    except StoreError:
        return 0
    try:
        return store.latest_run() or 0
    except sqlite3.Error:
        return 0
    finally:
        store.close()


def _abandoned_runs(db: Path, after: int) -> list[tuple[int, int]]:
    """(run id, pairs saved) of the runs started after ``after`` that were left 'running' by a process
    that is gone."""
    try:
        store = Store(db, create=False, readonly=True)
    except StoreError:
        return []
    try:
        return [(run_id, store.run_saved(run_id)) for run_id in store.dead_runs_since(after)]
    except sqlite3.Error:
        return []
    finally:
        store.close()


def _exit_now(store: Store, message: str, code: int) -> NoReturn:
    """End a stopped run: the store is closed (everything saved is committed), then the process exits at
    once. A normal exit would first wait for the engine's threads to finish the batches still queued
    (seconds, minutes with a large model) and throw their results away."""
    store.close()
    typer.echo(message, err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _translate(store: Store, db: Path, files: list[Path], info: model_store.ModelInfo, device: str, threads: int,
               beam: int, compute_type: Optional[str], inter_threads: int, batch_tokens: int, vmap: Optional[bool],
               max_words: int, encoding: Optional[str], html: bool, ray_address: Optional[str] = None,
               ray_actors: int = 0):
    """Load the model (or start the Ray actor pool) and run the pipeline with a progress bar; returns its
    summary."""
    from ..pipeline import run as run_pipeline
    from ..translate import Engine, TranslateError

    if ray_address is not None:
        from ..distributed import RayTranslator, RayUnavailable
        try:
            engine = RayTranslator(info, ray_address, device=device, threads=threads, actors=ray_actors, beam=beam,
                                   compute_type=compute_type, max_batch_tokens=batch_tokens, vocabulary_map=vmap)
        except RayUnavailable as exc:
            store.close()
            fail(str(exc))
        options = {"model": info.name, "device": device, "beam": beam, "max_words": max_words,
                   "compute_type": compute_type, "batch_tokens": batch_tokens, "vocabulary_map": vmap,
                   **engine.options()}
    else:
        try:
            engine = Engine(info, device=device, threads=threads, beam=beam, compute_type=compute_type,
                            inter_threads=inter_threads, max_batch_tokens=batch_tokens, vocabulary_map=vmap)
        except TranslateError as exc:
            store.close()
            fail(str(exc))
        options = {"model": info.name, "device": device, "beam": beam, "threads": list(engine.threads),
                   "max_words": max_words, "compute_type": engine.compute_type,
                   "batch_tokens": engine.max_batch_tokens, "vocabulary_map": engine.vocabulary_map}
    total = sum(f.stat().st_size if f.exists() else 0 for f in files)   # a file may go before it is read
    with store_errors(db), typer.progressbar(length=total, label="translating", file=sys.stderr,
                                             show_eta=True) as bar:
        summary = run_pipeline(files, store, engine, max_words=max_words, encoding=encoding, html=html,
                               options=options, progress=bar.update)
    summary.model, summary.demo_model = info.name, bool(info.manifest.get("demo"))
    if ray_address is not None:
        engine.close()
        summary.cluster = (f"{len(engine.nodes_used)} of {engine.nodes_in_cluster} nodes, "
                           f"{len(engine.actors_used)} actors used ({engine.actors} in the pool, "
                           f"{engine.threads} threads each)")
    return summary

