"""The `translate` command line: a thin layer over the stage modules.

Errors the user can fix are printed as one line on stderr ("error: FILE: problem") with exit status 1
(2 for bad usage, as typer does). `run` exits with PARTIAL (3) when it refused some inputs but stored
the others. A run stopped by SIGINT or SIGTERM says what it saved in one line and exits 130 or 143
(128 + the signal number, as shells do).
"""
from __future__ import annotations

import codecs
import json
import os
import signal
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn, Optional

import typer

from . import models as model_store
from . import vocab_map
from .segment import DEFAULT_MAX_WORDS, segment as segment_text
from .store import DEFAULT_DB, STATUSES, Store, StoreError, describe_error

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Arabic→English translation and parallel-corpus tool.")
models_app = typer.Typer(no_args_is_help=True, help="List, pull, import and remove translation models.")
app.add_typer(models_app, name="models")

DbOption = typer.Option(DEFAULT_DB, "--db", help="SQLite store file.")
PARTIAL = 3       # exit status of a run that refused some inputs and stored the others


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def check_encoding(encoding: str | None) -> None:
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            fail(f"--encoding {encoding}: unknown encoding (e.g. cp1256, iso8859_6)", 2)


def open_store(db: Path, create: bool = True, readonly: bool = False) -> Store:
    """The store, or a one-line error. ``readonly``: for commands that only read (works on a store that
    cannot be written; see Store)."""
    try:
        return Store(db, create=create, readonly=readonly)
    except StoreError as exc:
        fail(str(exc))


@contextmanager
def store_errors(db: Path) -> Iterator[None]:
    """Turn an SQLite error (disk full, locked, read-only...) into the one-line error naming the store."""
    try:
        yield
    except sqlite3.Error as exc:
        fail(describe_error(db, exc))


@app.command()
def run(
    paths: list[Path] = typer.Argument(..., help="Files or directories of .txt articles."),
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
                             "the store stays here. Needs pip install 'translate[ray]'."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", metavar="ADDR",
                                              help="Ray cluster to use (implies --ray): auto, host:port or ray://host:port."),
    ray_actors: int = typer.Option(0, "--ray-actors", min=0,
                                   help="With --ray: translator actors (0: as many as the cluster's CPUs, "
                                   "--threads each, or GPUs hold)."),
) -> None:
    """Segment, translate, score and store Arabic articles.

    With --ray, --threads is the threads of each actor (0: 4, at most a node's CPUs)."""
    from .pipeline import RunFailed, RunInterrupted, find_inputs, stop_on_signals

    check_encoding(encoding)
    files, missing = find_inputs(paths)
    for message in missing:
        typer.echo(f"error: {message}", err=True)
    if not files:
        fail("no .txt input files found")
    try:
        info = model_store.resolve_model(model)
    except model_store.ModelError as exc:
        fail(str(exc))
    if ray_address is not None:
        ray = True
    if ray:
        from .distributed import INSTALL_HINT, RayUnavailable, import_ray
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
    mean = f"{summary.mean_score:.3f}" if summary.mean_score is not None else "-"
    typer.echo(
        f"model {summary.model}{' (demo model: not for production)' if summary.demo_model else ''}; "
        f"documents {summary.documents} (+{summary.documents_skipped} already done), "
        f"segments {summary.segments} (translated {summary.translated}, reused {summary.reused}"
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
        return store.db.execute("SELECT IFNULL(MAX(id), 0) FROM runs").fetchone()[0]
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
        rows = store.db.execute("SELECT id FROM runs WHERE id > ? AND status = 'running'", (after,)).fetchall()
        return [(r[0], store.run_saved(r[0])) for r in rows if store.run_is_dead(r[0])]
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
    from .pipeline import run as run_pipeline
    from .translate import Engine, TranslateError

    if ray_address is not None:
        from .distributed import RayTranslator, RayUnavailable
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


@app.command()
def segment(
    files: list[Path] = typer.Argument(..., help="Text files to split into sentences."),
    jsonl: bool = typer.Option(False, "--jsonl", help="JSON objects with offsets instead of plain lines."),
    max_words: int = typer.Option(DEFAULT_MAX_WORDS, "--max-words", min=0,
                                  help="Split sentences longer than this at clause points (0: never)."),
    encoding: Optional[str] = typer.Option(None, help="Encoding of the input files that are not UTF-8 "
                                           "(default: detected when certain, else refused)."),
    html: bool = typer.Option(False, "--html", help="Extract the article text of HTML pages (refused without)."),
) -> None:
    """Print one sentence per line (or JSONL with offsets into the decoded text)."""
    from .pipeline import InputError, display_path, iter_segments, read_document

    check_encoding(encoding)
    failed = False
    for path in files:
        notes: list[str] = []
        try:
            text = read_document(path, encoding, html=html, notes=notes)
        except InputError as exc:
            typer.echo(f"error: {exc}", err=True)
            failed = True
            continue
        for note in notes:
            typer.echo(f"warning: {note}", err=True)
        for seg in iter_segments(text, max_words=max_words):
            if jsonl:
                typer.echo(json.dumps({"file": display_path(path), "start": seg.start, "end": seg.end,
                                       "text": seg.text, "sentence": seg.sentence, "part": seg.part},
                                      ensure_ascii=False))
            else:
                # a segment never contains a newline (a newline always ends a sentence)
                typer.echo(seg.text)
    if failed:
        raise typer.Exit(1)


@app.command()
def export(
    output: Path = typer.Option(..., "--output", "-o", help="File to write."),
    fmt: str = typer.Option("tmx", "--format", "-f", help="tmx, jsonl or tsv."),
    db: Path = DbOption,
    min_score: Optional[float] = typer.Option(None, "--min-score", help="Only pairs scoring at least this."),
    status: Optional[str] = typer.Option(None, "--status", help=f"Only pairs with this status ({', '.join(STATUSES)})."),
    join_parts: bool = typer.Option(False, "--join-parts",
                                    help="Write the parts of a sentence split by --max-words as one pair."),
    include_superseded: bool = typer.Option(
        False, "--include-superseded",
        help="Also pairs of spans a later run segmented differently (other --max-words): overlapping text."),
) -> None:
    """Export stored pairs as TMX 1.4, JSONL or TSV."""
    from .export import ExportError, export as export_pairs

    if status is not None and status not in STATUSES:
        fail(f"unknown status {status!r}: use one of {', '.join(STATUSES)}", 2)
    store = open_store(db, create=False, readonly=True)
    try:
        with store_errors(db):
            count = export_pairs(store, output, fmt, min_score=min_score, status=status, join_parts=join_parts,
                                 include_superseded=include_superseded)
            left_out = 0 if include_superseded else store.superseded_reviewed()
    except ExportError as exc:
        fail(str(exc))
    finally:
        store.close()
    typer.echo(f"exported {count} pairs to {output}", err=True)
    if left_out:
        typer.echo(f"{left_out} reviewed pairs of superseded segmentations (re-run with other --max-words) "
                   "were left out; --include-superseded exports them", err=True)


@models_app.command("list")
def models_list() -> None:
    """Installed models, best first (the first one is used by default)."""
    installed = model_store.list_models()
    for info in installed:
        m = info.manifest
        tags = ", ".join(t for t in ("bundled" if info.bundled else "", "demo" if m.get("demo") else "") if t)
        typer.echo(f"{info.name}\t{m.get('quality_rank', 0)}\t{info.path}{f'  ({tags})' if tags else ''}")
    typer.echo(f"catalogue (translate models pull NAME): {', '.join(model_store.CATALOGUE)}", err=True)


def _size_option(value: str) -> int:
    try:
        return model_store.parse_size(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


MaxUnpackedOption = typer.Option("8G", "--max-unpacked-size", parser=_size_option, metavar="SIZE",
                                 help="Refuse an archive that unpacks to more than this (e.g. 8G, 500M).")


@models_app.command("pull")
def models_pull(name: str, url: Optional[str] = typer.Option(None, help="Download from this URL instead."),
                force: bool = typer.Option(False, "--force", help="Replace an installed model of that name."),
                sha256: Optional[str] = typer.Option(None, "--sha256", metavar="HEX",
                                                     help="Install only if the download has this sha256."),
                max_download: int = typer.Option("4G", "--max-download-size", parser=_size_option, metavar="SIZE",
                                                 help="Stop a download larger than this (e.g. 4G)."),
                max_unpacked: int = MaxUnpackedOption) -> None:
    """Download a catalogue model, verify it, convert it to int8 and install it."""
    def downloaded(size: int, digest: str) -> None:
        typer.echo(f"downloaded {size} bytes, sha256 {digest}", err=True)

    try:
        info = model_store.pull(name, url=url, force=force, sha256=sha256, max_download=max_download,
                                max_unpacked=max_unpacked, on_download=downloaded)
    except model_store.ModelError as exc:
        fail(str(exc))
    typer.echo(f"installed {info.name} in {info.path}", err=True)


@models_app.command("import")
def models_import(path: Path, name: Optional[str] = typer.Option(None, help="Name to install it under."),
                  force: bool = typer.Option(False, "--force", help="Replace an installed model of that name."),
                  max_unpacked: int = MaxUnpackedOption) -> None:
    """Install a CTranslate2 model dir, an Argos .argosmodel package or an OPUS-MT release zip."""
    try:
        info = model_store.import_model(path, name=name, force=force, max_unpacked=max_unpacked)
    except model_store.ModelError as exc:
        fail(str(exc))
    digest = info.manifest.get("archive_sha256")
    typer.echo(f"installed {info.name} in {info.path}{f' (archive sha256 {digest})' if digest else ''}", err=True)


@models_app.command("vmap")
def models_vmap(
    model: str = typer.Argument(..., help="Installed model name or model directory."),
    source: Path = typer.Option(..., "--source", help="Arabic side of a line-aligned parallel corpus."),
    target: Path = typer.Option(..., "--target", help="English side, one line per --source line."),
    always: int = typer.Option(vocab_map.DEFAULT_ALWAYS, min=0, help="Most frequent target tokens always allowed."),
    per_token: int = typer.Option(vocab_map.DEFAULT_PER_TOKEN, "--per-token", min=1,
                                  help="Target candidates kept per source token."),
    min_count: int = typer.Option(vocab_map.DEFAULT_MIN_COUNT, "--min-count", min=1,
                                  help="Sentence pairs a candidate must co-occur in."),
    max_pairs: int = typer.Option(vocab_map.DEFAULT_MAX_PAIRS, "--max-pairs", min=1,
                                  help="Use at most this many pairs (the first ones)."),
) -> None:
    """Learn a vocabulary map (target shortlist) for faster CPU decoding; runs use it by default."""
    from .pipeline import InputError, read_lines

    try:
        info = model_store.resolve_model(model)
        summary = vocab_map.build(info, read_lines(source), read_lines(target), (str(source), str(target)),
                                  always=always, per_token=per_token, min_count=min_count, max_pairs=max_pairs)
    except (model_store.ModelError, InputError, vocab_map.VocabMapError) as exc:
        fail(str(exc))
    typer.echo(f"{summary.path}: {summary.pairs} pairs, {summary.always} tokens always allowed, "
               f"{summary.keys} source tokens with {summary.mean_candidates:.1f} candidates each", err=True)


@models_app.command("remove")
def models_remove(name: str) -> None:
    """Remove an installed model."""
    try:
        model_store.remove(name)
    except model_store.ModelError as exc:
        fail(str(exc))
    typer.echo(f"removed {name}", err=True)


@app.command()
def review(
    db: Path = DbOption,
    port: int = typer.Option(8765, "--port", min=1, max=65535, help="Port to listen on."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind. Anything but loopback needs a token "
                             "(one is generated and printed when --token is not given)."),
    reviewer: Optional[str] = typer.Option(None, "--reviewer", help="Name recorded with each change (default: "
                                           "the name typed on the page)."),
    token: Optional[str] = typer.Option(None, "--token", help="Require this token on every request."),
    allow_host: list[str] = typer.Option([], "--allow-host", help="Another host name the page may be opened "
                                         "under (a proxy, a DNS name); repeatable."),
) -> None:
    """Serve the review page: approve, reject and correct pairs in a browser (keys: j k n a r e c u ?)."""
    from .review import ReviewError, serve

    if token is not None and not token.strip():
        fail("--token: empty token", 2)
    open_store(db, create=False, readonly=True).close()     # one that cannot be written is browsed
    try:
        serve(db, host=host, port=port, reviewer=reviewer, token=token, extra_hosts=allow_host,
              announce=lambda line: typer.echo(line, err=True))
    except (StoreError, ReviewError) as exc:
        fail(str(exc))


@app.command()
def score(
    src: Path = typer.Option(..., "--src", help="Arabic sources, one per line."),
    hyp: Path = typer.Option(..., "--hyp", help="English translations, line-aligned with --src."),
    ref: Optional[Path] = typer.Option(None, "--ref", help="Reference translations, line-aligned (adds chrF)."),
    jsonl: bool = typer.Option(False, "--jsonl", help="One JSON object per line with every signal."),
) -> None:
    """Estimate the quality of each (source, translation) line pair; no model needed."""
    from .pipeline import InputError, read_lines
    from .score import score_pair

    try:
        sources, hypotheses = read_lines(src), read_lines(hyp)
        references = read_lines(ref) if ref is not None else None
    except InputError as exc:
        fail(str(exc))
    for path, lines in ((hyp, hypotheses), (ref, references)):
        if lines is not None and len(lines) != len(sources):
            fail(f"{path}: {len(lines)} lines, but {src} has {len(sources)}")
    labels = {"good": 0, "check": 0, "bad": 0}
    total = 0.0
    for number, (source, target) in enumerate(zip(sources, hypotheses), 1):
        quality = score_pair(source, target, reference=references[number - 1] if references else None)
        labels[quality.label] += 1
        total += quality.score
        if jsonl:
            typer.echo(json.dumps({"line": number, "score": quality.score, "label": quality.label,
                                   **quality.signals}, ensure_ascii=False))
        else:
            details = " ".join(f"{k}={v}" for k, v in quality.signals.items())
            typer.echo(f"{number}\t{quality.score:.3f}\t{quality.label}\t{details}")
    count = len(sources)
    mean = f"{total / count:.3f}" if count else "-"
    typer.echo(f"scored {count} pairs: mean score {mean}; good {labels['good']}, check {labels['check']}, "
               f"bad {labels['bad']}", err=True)


@app.command()
def align(
    ar_path: Path = typer.Argument(..., help="Arabic document, or a folder of Arabic .txt documents."),
    en_path: Path = typer.Argument(..., help="Its English translation, or a folder of English .txt documents."),
    translations: Optional[Path] = typer.Option(
        None, "--translations", help="MT of the Arabic sentences, one line each (instead of the model)."),
    presegmented: bool = typer.Option(False, "--presegmented", help="Documents have one sentence per line."),
    jsonl: bool = typer.Option(False, "--jsonl", help="JSON objects: one per bead (files), one per document "
                                                      "pair (folders)."),
    db: Path = DbOption,
    no_store: bool = typer.Option(False, "--no-store", help="Print the alignment only."),
    no_bridge: bool = typer.Option(False, "--no-bridge", help="Align without MT: lexicon, numbers, names and "
                                                              "length only (fast)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Bridge MT model (default: best installed)."),
    device: str = typer.Option("cpu", help="cpu or cuda (for the bridge MT)."),
) -> None:
    """Align Arabic documents with their English translations and store the pairs.

    Two files: the sentences of one document pair. Two folders: first which English document translates
    which Arabic one, then the sentences of every pair.
    """
    from .align import AlignError
    from .pipeline import InputError

    if ar_path.is_dir() or en_path.is_dir():
        if not (ar_path.is_dir() and en_path.is_dir()):
            fail(f"{en_path if ar_path.is_dir() else ar_path}: give two files or two folders")
        if translations is not None:
            fail("--translations: only for aligning two files", 2)
        _align_folders(ar_path, en_path, presegmented, jsonl, db, no_store, no_bridge, model, device)
        return
    from .align import (align as align_sentences, arabic_sentences, english_sentences, read_translations,
                        store_alignment)
    from .pipeline import display_path, read_document

    try:
        ar_text, en_text = read_document(ar_path), read_document(en_path)
        segments = arabic_sentences(ar_text, presegmented)
        english = english_sentences(en_text, presegmented)
        mt = read_translations(translations, len(segments)) if translations is not None else None
    except (InputError, AlignError) as exc:
        fail(str(exc))
    model_info = None
    if translations is None and not no_bridge:
        engine, model_info = _bridge_engine(model, device)
        mt = [hyp.text for hyp in engine.translate([s.text for s in segments])]
    try:
        beads = align_sentences(mt, english, [s.text for s in segments])
    except AlignError as exc:
        fail(f"{ar_path}: {exc}")
    for bead in beads:
        if jsonl:
            typer.echo(json.dumps(bead.as_json(), ensure_ascii=False))
        else:
            ar_side = " ".join(segments[i].text for i in bead.ar)
            en_side = " ".join(english[j] for j in bead.en)
            typer.echo(f"{','.join(map(str, bead.ar)) or '-'}\t{','.join(map(str, bead.en)) or '-'}\t"
                       f"{bead.score:.3f}\t{ar_side}\t{en_side}")
    linked = [b for b in beads if b.ar and b.en]
    message = (f"aligned {len(segments)} Arabic and {len(english)} English sentences: {len(linked)} pairs, "
               f"{sum(1 for b in beads if not b.en)} Arabic and {sum(1 for b in beads if not b.ar)} English "
               "sentences unmatched")
    if not no_store:
        store = open_store(db)
        try:
            with store_errors(db):
                model_id = store.model_id(model_info.name, model_info.weights_sha256) if model_info else None
                options = {"ar": str(ar_path), "en": str(en_path), "presegmented": presegmented,
                           "translations": str(translations) if translations else None,
                           "model": model_info.name if model_info else None}
                summary = store_alignment(store, display_path(ar_path), ar_text, segments, english, mt, beads, model_id,
                                          options)
        finally:
            store.close()
        message += f"; stored {summary.stored} new pairs ({summary.existing} already stored) in {db}"
    typer.echo(message, err=True)


def _bridge_engine(model: Optional[str], device: str):
    from .translate import Engine, TranslateError

    try:
        model_info = model_store.resolve_model(model)
        return Engine(model_info, device=device), model_info
    except (model_store.ModelError, TranslateError) as exc:
        fail(str(exc))


def _align_folders(ar_dir: Path, en_dir: Path, presegmented: bool, jsonl: bool, db: Path, no_store: bool,
                   no_bridge: bool, model: Optional[str], device: str) -> None:
    """`translate align AR_DIR EN_DIR`: match the documents, then align and store every pair."""
    from .align import AlignError, align as align_sentences, arabic_sentences, english_sentences, store_alignment
    from .docalign import aligned_before, document_sha256, match_documents
    from .pipeline import InputError, display_path, find_inputs, read_document

    texts: dict[str, list[tuple[str, str]]] = {"ar": [], "en": []}
    failed = False
    for side, folder in (("ar", ar_dir), ("en", en_dir)):
        files, _ = find_inputs([folder])
        for path in files:
            try:
                # the name as shown and stored (any byte sequence, escaped): see pipeline.display_path
                texts[side].append((display_path(path), read_document(path)))
            except InputError as exc:
                typer.echo(f"error: {exc}", err=True)
                failed = True
    if not texts["ar"] or not texts["en"]:
        fail(f"{ar_dir if not texts['ar'] else en_dir}: no readable .txt documents")
    pairs = match_documents([t for _, t in texts["ar"]], [t for _, t in texts["en"]])
    engine, model_info = (None, None) if no_bridge else _bridge_engine(model, device)
    bridge_name = model_info.name if model_info else None
    store = None if no_store else open_store(db)
    done = aligned_before(store) if store else set()
    counts = {"pairs": 0, "skipped": 0, "stored": 0, "existing": 0}
    try:
        model_id = store.model_id(model_info.name, model_info.weights_sha256) if store and model_info else None
        total = sum(len(texts["ar"][a][1]) for a, _, _ in pairs)
        with typer.progressbar(length=total, label="aligning", file=sys.stderr, show_eta=True) as bar:
            for a, e, margin in pairs:
                (ar_file, ar_text), (en_file, en_text) = texts["ar"][a], texts["en"][e]
                record = {"ar_file": str(ar_file), "en_file": str(en_file), "score": round(margin, 4)}
                key = (document_sha256(ar_text), document_sha256(en_text), bridge_name)
                if key in done:
                    counts["skipped"] += 1
                    if jsonl:
                        typer.echo(json.dumps({**record, "beads": None, "aligned_before": True}, ensure_ascii=False))
                    else:
                        typer.echo(f"{ar_file}\t{en_file}\t{margin:.3f}\taligned before")
                    bar.update(len(ar_text))
                    continue
                segments = arabic_sentences(ar_text, presegmented)
                english = english_sentences(en_text, presegmented)
                mt = [h.text for h in engine.translate([s.text for s in segments])] if engine else None
                try:
                    beads = align_sentences(mt, english, [s.text for s in segments])
                except AlignError as exc:
                    typer.echo(f"error: {ar_file}: {exc}", err=True)
                    failed = True
                    continue
                counts["pairs"] += 1
                if jsonl:
                    typer.echo(json.dumps({**record, "beads": [
                        {"ar": [segments[i].text for i in b.ar], "en": [english[j] for j in b.en],
                         "score": round(b.score, 4)} for b in beads]}, ensure_ascii=False))
                else:
                    typer.echo(f"{ar_file}\t{en_file}\t{margin:.3f}\t"
                               f"{sum(1 for b in beads if b.ar and b.en)} sentence pairs")
                if store:
                    options = {"ar": str(ar_file), "en": str(en_file), "ar_sha256": key[0], "en_sha256": key[1],
                               "bridge": bridge_name, "presegmented": presegmented, "document_score": margin}
                    summary = store_alignment(store, str(ar_file), ar_text, segments, english, mt, beads,
                                              model_id, options)
                    counts["stored"] += summary.stored
                    counts["existing"] += summary.existing
                bar.update(len(ar_text))
    finally:
        if store:
            store.close()
    matched_ar, matched_en = {a for a, _, _ in pairs}, {e for _, e, _ in pairs}
    unmatched = ([(str(p), None) for k, (p, _) in enumerate(texts["ar"]) if k not in matched_ar]
                 + [(None, str(p)) for k, (p, _) in enumerate(texts["en"]) if k not in matched_en])
    for ar_file, en_file in unmatched:
        if jsonl:
            typer.echo(json.dumps({"ar_file": ar_file, "en_file": en_file, "score": None, "beads": []},
                                  ensure_ascii=False))
        else:
            typer.echo(f"{ar_file or '-'}\t{en_file or '-'}\t-\tunmatched")
    message = (f"{len(texts['ar'])} Arabic and {len(texts['en'])} English documents: {len(pairs)} pairs "
               f"({counts['pairs']} aligned, {counts['skipped']} aligned before), "
               f"{len(texts['ar']) - len(pairs)} Arabic and {len(texts['en']) - len(pairs)} English unmatched")
    if store:
        message += f"; stored {counts['stored']} new sentence pairs ({counts['existing']} already stored) in {db}"
    typer.echo(message, err=True)
    if failed:
        raise typer.Exit(1)


@app.command("import")
def import_memory(
    file: Path = typer.Argument(..., help="Translation memory: .tmx (TMX 1.4), .tsv or .jsonl."),
    fmt: Optional[str] = typer.Option(None, "--format", "-f", help="tmx, tsv or jsonl (default: from the name)."),
    db: Path = DbOption,
) -> None:
    """Import an existing translation memory into the store (origin 'imported'), scored for review."""
    from .tm_import import TMImportError, import_pairs, read_pairs

    try:
        pairs = read_pairs(file, fmt)
    except TMImportError as exc:
        fail(str(exc))
    store = open_store(db)
    try:
        summary = import_pairs(store, file, pairs, {"format": fmt})
    finally:
        store.close()
    skipped = f", {summary.skipped} skipped (empty side)" if summary.skipped else ""
    typer.echo(f"imported {summary.stored} new pairs ({summary.existing} already stored{skipped}) from {file} "
               f"into {db}", err=True)


@app.command("eval")
def evaluate(
    ref: Path = typer.Option(..., "--ref", help="Reference translations, one per line."),
    hyp: Optional[Path] = typer.Option(None, "--hyp", help="Translations, line-aligned with --ref."),
    db: Optional[Path] = typer.Option(None, "--db", help="Evaluate a run stored here instead of --hyp."),
    run_id: Optional[int] = typer.Option(None, "--run", help="Run id in --db (default: the latest translate run)."),
    as_json: bool = typer.Option(False, "--json", help="Print the scores as one JSON object."),
) -> None:
    """Corpus BLEU, chrF and TER (sacrebleu) of translations against references."""
    from sacrebleu.metrics import BLEU, CHRF, TER

    from .pipeline import InputError, read_lines

    if (hyp is None) == (db is None):
        fail("give either --hyp FILE or --db PATH", 2)
    try:
        references = read_lines(ref)
        hypotheses = read_lines(hyp) if hyp is not None else []
    except InputError as exc:
        fail(str(exc))
    if hyp is not None:
        source = str(hyp)
    else:
        store = open_store(db, create=False, readonly=True)
        try:
            with store_errors(db):
                run_id = run_id if run_id is not None else store.latest_run("translate")
                if run_id is None:
                    fail(f"{db}: no translate run stored")
                hypotheses = store.run_translations(run_id)
            if hypotheses is None:
                fail(f"{db}: no run {run_id}")
        finally:
            store.close()
        source = f"{db} run {run_id}"
        # a reference is usually line-aligned with the run's input, whose lines the run may have split
        # into several segments: join the segments of each input line (segment-aligned references
        # still work when the line count does not match)
        store = open_store(db, create=False)
        try:
            by_line = _run_translations_by_line(store, run_id)
        finally:
            store.close()
        if len(by_line) == len(references):
            if len(by_line) != len(hypotheses) or by_line != hypotheses:
                typer.echo(f"joined {len(hypotheses)} segment translations into the {len(by_line)} input lines",
                           err=True)
            hypotheses = by_line
        elif len(hypotheses) != len(references):
            fail(f"{source}: {len(hypotheses)} translations of {len(by_line)} input lines, but {ref} has "
                 f"{len(references)} lines")
    if len(hypotheses) != len(references):
        fail(f"{source}: {len(hypotheses)} translations, but {ref} has {len(references)} lines")
    scores = {"bleu": BLEU().corpus_score(hypotheses, [references]),
              "chrf": CHRF().corpus_score(hypotheses, [references]),
              "ter": TER().corpus_score(hypotheses, [references])}
    if as_json:
        typer.echo(json.dumps({"sentences": len(references), **{k: round(v.score, 2) for k, v in scores.items()}}))
    else:
        for result in scores.values():
            typer.echo(str(result))
        typer.echo(f"{len(references)} sentences from {source}", err=True)


def _run_translations_by_line(store: Store, run_id: int) -> list[str]:
    """A run's translations joined per line of its input documents (in document order; a blank line
    gives an empty string, trailing blank lines are dropped as when a reference file is read)."""
    rows = store.db.execute(
        "SELECT s.document_id, s.start, t.text FROM translations t JOIN segments s ON s.id = t.segment_id"
        " WHERE t.run_id = ? ORDER BY s.document_id, s.start, t.id", (run_id,)).fetchall()
    out: list[str] = []
    document_id, text, lines = None, "", []
    for row in rows + [None]:
        if row is None or row["document_id"] != document_id:
            while lines and not lines[-1]:
                lines.pop()
            out.extend(" ".join(parts) for parts in lines)
            if row is None:
                break
            document_id = row["document_id"]
            text = store.db.execute("SELECT text FROM documents WHERE id = ?", (document_id,)).fetchone()[0]
            lines = [[] for _ in text.split("\n")]
        lines[text.count("\n", 0, row["start"])].append(row["text"])
    return out


if __name__ == "__main__":
    app()
