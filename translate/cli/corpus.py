"""The corpus commands: segment, export, score, import, eval (align: cli.alignment)."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Optional

import typer

from ..segment import DEFAULT_MAX_WORDS
from ..store import STATUSES, Store
from .common import DbOption, app, check_encoding, fail, input_files, open_store, store_errors


@app.command()
def segment(
    files: list[Path] = typer.Argument(..., help="Text files or directories of .txt files (and .html/.htm "
                                       "pages with --html) to split into sentences."),
    jsonl: bool = typer.Option(False, "--jsonl", help="JSON objects with offsets instead of plain lines."),
    max_words: int = typer.Option(DEFAULT_MAX_WORDS, "--max-words", min=0,
                                  help="Split sentences longer than this at clause points (0: never)."),
    encoding: Optional[str] = typer.Option(None, help="Encoding of the input files that are not UTF-8 "
                                           "(default: detected when certain, else refused)."),
    html: bool = typer.Option(False, "--html", help="Extract the article text of HTML pages (refused without)."),
) -> None:
    """Print one sentence per line (or JSONL with offsets into the decoded text)."""
    from ..api import segment as split_sentences
    from ..pipeline import InputError, display_path, read_document

    check_encoding(encoding)
    paths, missing = input_files(files, html)
    failed = bool(missing)
    for path in paths:
        notes: list[str] = []
        try:
            text = read_document(path, encoding, html=html, notes=notes)
        except InputError as exc:
            typer.echo(f"error: {exc}", err=True)
            failed = True
            continue
        for note in notes:
            typer.echo(f"warning: {note}", err=True)
        for seg in split_sentences(text, max_words=max_words):
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
    output: Path = typer.Option(..., "--output", "-o", help="File to write (- for standard output; missing "
                                "folders are created)."),
    fmt: str = typer.Option("tmx", "--format", "-f", help="tmx, jsonl or tsv (pairs); links (JSONL) or xces "
                                                          "(cesAlign) for the alignments' stand-off links."),
    db: Path = DbOption,
    min_score: Optional[float] = typer.Option(None, "--min-score", help="Only pairs scoring at least this."),
    status: Optional[str] = typer.Option(None, "--status", help=f"Only pairs with this status ({', '.join(STATUSES)})."),
    join_parts: bool = typer.Option(False, "--join-parts",
                                    help="Write the parts of a sentence split by --max-words as one pair."),
    include_superseded: bool = typer.Option(
        False, "--include-superseded",
        help="Also pairs of spans a later run segmented differently (other --max-words): overlapping text."),
    clean: bool = typer.Option(False, "--clean", help="Training export: the default filters and exact dedup."),
    split_spec: Optional[str] = typer.Option(None, "--split", help="Parts by document, e.g. train=0.98,dev=0.01,test=0.01."),
    exclude: list[Path] = typer.Option([], "--exclude", help="Leave out pairs with a side in this file (test set; "
                                       "text one sentence a line, TMX or JSONL). Repeatable."),
    rejected: Optional[Path] = typer.Option(None, "--rejected", help="Write every pair left out here (JSONL, "
                                            "with the filter that removed it)."),
    report: bool = typer.Option(False, "--report", help="Print the report table on stdout."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the report; write nothing."),
    dedup: Optional[str] = typer.Option(None, "--dedup", help="exact, near or none (default: exact with --clean)."),
    force: bool = typer.Option(False, "--force", help="Replace outputs that exist (training exports)."),
    near_threshold: float = typer.Option(0.8, "--near-threshold", help="MinHash similarity of near-duplicates."),
    max_targets: Optional[int] = typer.Option(None, "--max-targets-per-source", help="Keep the N best targets of one source."),
    max_sources: Optional[int] = typer.Option(None, "--max-sources-per-target", help="Keep the N best sources of one target."),
    keep_status: str = typer.Option("pending,approved,edited", "--keep-status", help="Review statuses kept by --clean."),
    min_words: int = typer.Option(1, "--min-words", help="Fewest words on a side (--clean)."),
    max_words: int = typer.Option(200, "--max-words", help="Most words on a side (--clean)."),
    max_ratio: float = typer.Option(3.0, "--max-ratio", help="Largest (longer + 10) / (shorter + 10) side length, in characters."),
    min_source_arabic: float = typer.Option(0.5, "--min-source-arabic", help="Least share of Arabic-script letters in the Arabic side."),
    max_target_arabic: float = typer.Option(0.0, "--max-target-arabic", help="Most share of Arabic-script letters in the English side."),
    min_lang_prob: float = typer.Option(0.9, "--min-lang-prob", help="Identifier probability that rejects a side as another language."),
    min_qe: Optional[float] = typer.Option(None, "--min-qe", help="Least quality estimate (--clean; reported by name)."),
    drop_label: Optional[str] = typer.Option(None, "--drop-label", help="Quality labels to drop, e.g. bad (--clean)."),
    no_filter: Optional[str] = typer.Option(None, "--no-filter", help="Filters to turn off, comma-separated."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, max=64,
                                          help="Processes checking pairs (default: one a CPU, up to 4, from 200,000 pairs)."),
) -> None:
    """Export stored pairs as TMX 1.4, JSONL, TSV, Moses text or Parquet (--clean for training data), or the
    alignments' stand-off links."""
    from ..export import STDOUT, ExportError
    from ..export import export as export_pairs

    fmt = fmt.lower()
    if min_score is not None and not math.isfinite(min_score):
        fail(f"--min-score {min_score}: not a finite number", 2)
    if status is not None and status not in STATUSES:
        fail(f"unknown status {status!r}: use one of {', '.join(STATUSES)}", 2)
    if (clean or split_spec or exclude or rejected or report or dry_run or dedup or force or workers
            or fmt in ("moses", "parquet")):
        from ..clean import FilterConfig

        filters = FilterConfig(
            keep_status=_names(keep_status), min_words=min_words, max_words=max_words, max_ratio=max_ratio,
            min_source_arabic=min_source_arabic, max_target_arabic=max_target_arabic, min_lang_prob=min_lang_prob,
            min_qe=min_qe, drop_labels=_names(drop_label), disabled=_names(no_filter))
        _training_export(output, fmt, db, filters, clean=clean, split_spec=split_spec, exclude=exclude,
                         rejected=rejected, report=report, dry_run=dry_run, dedup=dedup, force=force,
                         near_threshold=near_threshold, max_targets_per_source=max_targets,
                         max_sources_per_target=max_sources, min_score=min_score, status=status,
                         join_parts=join_parts, include_superseded=include_superseded, workers=workers)
        return
    links = fmt in ("links", "xces")
    if links and (min_score is not None or status is not None or join_parts):
        fail(f"--format {fmt} writes every link of every alignment: --min-score, --status and --join-parts "
             "select pairs", 2)
    store = open_store(db, create=False, readonly=True)
    try:
        with store_errors(db):
            count = export_pairs(store, output, fmt, min_score=min_score, status=status, join_parts=join_parts,
                                 include_superseded=include_superseded)
            left_out = 0 if include_superseded or links else store.superseded_reviewed()
    except ExportError as exc:
        fail(str(exc))
    finally:
        store.close()
    where = "standard output" if str(output) == STDOUT else output
    typer.echo(f"exported {count} {'links' if links else 'pairs'} to {where}", err=True)
    if left_out:
        typer.echo(f"{left_out} reviewed pairs of superseded segmentations (re-run with other --max-words), of "
                   "earlier versions of an edited file or of changed alignment links were left out; "
                   "--include-superseded exports them", err=True)



def _names(value: Optional[str]) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip()) if value else ()


def _training_export(output: Path, fmt: str, db: Path, filters, split_spec: Optional[str], report: bool,
                     **options) -> None:
    """`export` with --clean, --split, --exclude, --rejected, --report, --dry-run, --dedup, --force, or
    the moses and parquet formats: translate.clean_export."""
    from ..clean import FilterConfigError
    from ..clean_export import DEDUP_MODES, FORMATS, CleanExportError, CleanOptions, format_report, run
    from ..exclude import ExcludeError
    from ..split import SplitError, parse_split

    if fmt not in FORMATS:
        fail(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}", 2)
    if str(output) == "-":
        fail("-o -: a training export writes files (and a manifest beside them): give a path", 2)
    if options["dedup"] is not None and options["dedup"] not in DEDUP_MODES:
        fail(f"--dedup {options['dedup']!r}: use one of {', '.join(DEDUP_MODES)}", 2)
    if not 0 < options["near_threshold"] <= 1:
        fail(f"--near-threshold {options['near_threshold']}: must be in (0, 1]", 2)
    for name in ("max_targets_per_source", "max_sources_per_target"):
        if options[name] is not None and options[name] < 1:
            fail(f"--{name.replace('_', '-')} {options[name]}: must be 1 or more", 2)
    try:
        filters.validate(STATUSES)
        parts = parse_split(split_spec) if split_spec else None
    except (FilterConfigError, SplitError) as exc:
        fail(str(exc), 2)
    clean_options = CleanOptions(fmt=fmt, output=output, filters=filters, split=parts, **options)
    store = open_store(db, create=False, readonly=True)
    try:
        with store_errors(db):
            result = run(store, db, clean_options)
    except (CleanExportError, ExcludeError) as exc:
        fail(str(exc))
    finally:
        store.close()
    table = format_report(result)
    typer.echo(table, err=not (report or options["dry_run"]))
    if options["dry_run"]:
        typer.echo("dry run: nothing written", err=True)
    else:
        typer.echo(f"exported {result['pairs_out']} of {result['pairs_in']} pairs to {output}", err=True)


@app.command()
def score(
    src: Path = typer.Option(..., "--src", help="Arabic sources, one per line."),
    hyp: Path = typer.Option(..., "--hyp", help="English translations, line-aligned with --src."),
    ref: Optional[Path] = typer.Option(None, "--ref", help="Reference translations, line-aligned (adds chrF)."),
    jsonl: bool = typer.Option(False, "--jsonl", help="One JSON object per line with every signal."),
) -> None:
    """Estimate the quality of each (source, translation) line pair; no model needed."""
    from ..api import score as score_pair
    from ..pipeline import InputError, read_lines

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


@app.command("import")
def import_memory(
    file: Path = typer.Argument(..., help="Translation memory: .tmx (TMX 1.4), .tsv or .jsonl."),
    fmt: Optional[str] = typer.Option(None, "--format", "-f", help="tmx, tsv or jsonl (default: from the name)."),
    no_quotes: bool = typer.Option(False, "--no-quotes",
                                   help="TSV: double quotes are plain text (default: csv quoting, as spreadsheets "
                                        "and pandas write it)."),
    db: Path = DbOption,
) -> None:
    """Import an existing translation memory into the store (origin 'imported'), scored for review (a
    memory of our own export keeps its review: status, reviewer, reject reason, edits); or a links export
    (`export --format links`) back into the alignments of documents the store holds."""
    from ..links_io import is_links_file
    from ..tm_import import TMImportError, import_pairs, read_pairs

    fmt = fmt.lower() if fmt else None
    if fmt == "links" or (fmt is None and is_links_file(file)):
        _import_links(file, db)
        return

    try:
        pairs = read_pairs(file, fmt, quotes=not no_quotes)
    except TMImportError as exc:
        fail(str(exc))
    store = open_store(db)
    try:
        summary = import_pairs(store, file, pairs, {"format": fmt})
    finally:
        store.close()
    skipped = f", {summary.skipped} skipped (empty side or no Arabic/English variant)" if summary.skipped else ""
    reviewed = f", {summary.reviewed} with their review" if summary.reviewed else ""
    typer.echo(f"imported {summary.stored} new pairs ({summary.existing} already stored{skipped}{reviewed}) "
               f"from {file} into {db}", err=True)


def _import_links(file: Path, db: Path) -> None:
    """Every document pair of the file becomes that pair's alignment (checked whole before it is stored)."""
    from ..alignment_edit import OpError, store_imported_alignment
    from ..links_io import LinksImportError, read_links

    try:
        alignments = read_links(file)
    except LinksImportError as exc:
        fail(str(exc))
    store = open_store(db)
    added = 0
    try:
        with store_errors(db):
            for alignment in alignments:
                try:
                    _, new = store_imported_alignment(store, alignment.ar_sha256, alignment.en_sha256, alignment.rows)
                except (ValueError, OpError) as exc:
                    fail(f"{file}: line {alignment.rows[0]['line']}: {exc}")
                added += new
    finally:
        store.close()
    typer.echo(f"imported the links of {len(alignments)} document pairs from {file} into {db} "
               f"({added} new pairs)", err=True)


@app.command("eval")
def evaluate(
    ref: Path = typer.Option(..., "--ref", help="Reference translations, one per line."),
    hyp: Optional[Path] = typer.Option(None, "--hyp", help="Translations, line-aligned with --ref."),
    db: Optional[Path] = typer.Option(None, "--db", help="Evaluate a run stored here instead of --hyp."),
    run_id: Optional[int] = typer.Option(None, "--run", help="Run id in --db (default: the newest translate run that stored translations)."),
    as_json: bool = typer.Option(False, "--json", help="Print the scores as one JSON object."),
) -> None:
    """Corpus BLEU, chrF and TER (sacrebleu) of translations against references."""
    from sacrebleu.metrics import BLEU, CHRF, TER

    from ..pipeline import InputError, read_lines

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
                if run_id is None:
                    run_id = store.latest_productive_run("translate")
                    if run_id is None:
                        fail(f"{db}: no translate run with translations stored")
                rows = store.run_output(run_id)
                if rows is None:
                    fail(f"{db}: no run {run_id}")
                by_line = _joined_by_line(store, rows)
        finally:
            store.close()
        hypotheses = [row["text"] for row in rows]
        source = f"{db} run {run_id}"
        # a reference is usually line-aligned with the run's input, whose lines the run may have split
        # into several segments: join the segments of each input line (segment-aligned references
        # still work when the line count does not match)
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
        which = {"run": run_id} if db is not None else {}
        typer.echo(json.dumps({"sentences": len(references), **{k: round(v.score, 2) for k, v in scores.items()},
                               **which}))
    else:
        for result in scores.values():
            typer.echo(str(result))
        typer.echo(f"{len(references)} sentences from {source}", err=True)


def _joined_by_line(store: Store, rows: list) -> list[str]:
    """A run's translations (Store.run_output) joined per line of its input documents (in document order;
    a blank line gives an empty string, trailing blank lines are dropped as when a reference file is read)."""
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
