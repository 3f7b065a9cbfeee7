"""`translate align`: two documents, or two folders of them (which English document translates which
Arabic one, then the sentences of every pair), aligned and stored as the document pairs' links."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from .. import models as model_store
from .common import DbOption, app, fail, open_store, store_errors


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
    force: bool = typer.Option(False, "--force", help="Two files that do not look like translations of each "
                                                      "other: align them anyway and store the pairs labelled bad."),
    pairs_hint: Optional[Path] = typer.Option(
        None, "--pairs-hint", help="Folders: a file of known pairs, one `ARABIC<TAB>ENGLISH` path per line (relative "
                                   "to the folders); evidence, not orders."),
    ray: bool = typer.Option(False, "--ray", help="Folders: align the pairs (and their bridge MT) on a Ray cluster "
                                                  "(RAY_ADDRESS, else a new local one); the store stays here."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", metavar="ADDR",
                                              help="Ray cluster to use (implies --ray): auto, host:port or ray://host:port."),
    ray_actors: int = typer.Option(0, "--ray-actors", min=0, help="With --ray: aligner actors (0: one per CPU)."),
) -> None:
    """Align Arabic documents with their English translations and store the pairs.

    Two files: the sentences of one document pair. Two folders: first which English document translates
    which Arabic one, then the sentences of every pair.
    """
    from ..align import AlignError
    from ..pipeline import InputError

    if translations is not None and no_bridge:
        fail("--translations is an MT bridge and --no-bridge aligns without one: give one of them", 2)
    if pairs_hint is not None and not (ar_path.is_dir() and en_path.is_dir()):
        fail("--pairs-hint: only for aligning two folders", 2)
    if ray_address is not None:
        ray = True
    if ray and not (ar_path.is_dir() and en_path.is_dir()):
        fail("--ray: only for aligning two folders", 2)
    if ar_path.is_dir() or en_path.is_dir():
        if not (ar_path.is_dir() and en_path.is_dir()):
            fail(f"{en_path if ar_path.is_dir() else ar_path}: give two files or two folders")
        if force:
            fail("--force: only for aligning two files (folders pair only documents that translate each other)", 2)
        if translations is not None:
            fail("--translations: only for aligning two files", 2)
        _align_folders(ar_path, en_path, presegmented, jsonl, db, no_store, no_bridge, model, device, pairs_hint,
                       (ray_address or "auto") if ray else None, ray_actors)
        return
    from ..align import align as align_sentences
    from ..align import (
        arabic_sentences,
        english_sentences,
        read_translations,
        store_alignment,
    )
    from ..pipeline import display_path, read_document

    try:
        ar_text, en_text = read_document(ar_path), read_document(en_path)
        segments = arabic_sentences(ar_text, presegmented)
        english = english_sentences(en_text, presegmented)
        mt = read_translations(translations, len(segments)) if translations is not None else None
    except (InputError, AlignError) as exc:
        fail(str(exc))
    not_a_translation = _check_pair(ar_path, en_path, ar_text, en_text, [s.text for s in segments], english, force)
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
                                          options, en_path=display_path(en_path), en_text=en_text,
                                          not_a_translation=not_a_translation)
        except AlignError as exc:
            fail(str(exc))
        finally:
            store.close()
        message += f"; stored {summary.stored} new pairs ({summary.existing} already stored) in {db}"
        if summary.kept_confirmed:
            message += f"; kept {summary.kept_confirmed} confirmed rows and re-aligned the rows between them"
    typer.echo(message, err=True)


def _check_pair(ar_path: Path, en_path: Path, ar_text: str, en_text: str, arabic: list[str], english: list[str],
                force: bool) -> bool:
    """Refuse a pair in the wrong languages; refuse one that does not look like a translation unless
    --force (then True: its pairs are stored labelled bad)."""
    from ..docalign import TRANSLATION_EVIDENCE, language_problem, translation_evidence

    problem = language_problem(ar_text, en_text)
    if problem is not None:
        side, why = problem
        named = {"ar": f"{ar_path}: ", "en": f"{en_path}: ", "swapped": f"{ar_path}, {en_path}: "}[side]
        fail(named + why)
    evidence = translation_evidence(arabic, english)
    if evidence >= TRANSLATION_EVIDENCE:
        return False
    message = (f"{ar_path}, {en_path}: do not look like translations of each other (document evidence "
               f"{evidence:.2f}, translations reach {TRANSLATION_EVIDENCE})")
    if not force:
        fail(message + "; --force aligns them anyway and stores the pairs labelled bad")
    typer.echo(f"warning: {message}; storing the pairs labelled bad (--force)", err=True)
    return True


def _bridge_engine(model: Optional[str], device: str):
    from ..translate import Engine, TranslateError

    try:
        model_info = model_store.resolve_model(model)
        return Engine(model_info, device=device), model_info
    except (model_store.ModelError, TranslateError) as exc:
        fail(str(exc))


def _align_folders(ar_dir: Path, en_dir: Path, presegmented: bool, jsonl: bool, db: Path, no_store: bool,
                   no_bridge: bool, model: Optional[str], device: str, pairs_hint: Optional[Path] = None,
                   ray_address: Optional[str] = None, ray_actors: int = 0) -> None:
    """`translate align AR_DIR EN_DIR`: match the documents, then align and store every pair.

    The texts are read twice and never all held: once to index them (docalign keeps bags of feature
    ids), then each matched pair again to align it, so memory is bounded by the index."""
    from ..docalign import Metadata, match_documents, matching_fingerprint
    from ..pipeline import InputError, display_path, find_inputs, read_document

    def names_of(folder: Path) -> str:
        return display_path(folder.resolve())

    files = {}
    for side, folder in (("ar", ar_dir), ("en", en_dir)):
        skipped: list[str] = []
        files[side], _ = find_inputs([folder], skipped=skipped)
        for message in skipped:
            typer.echo(f"warning: {message}", err=True)
    for side, folder in (("ar", ar_dir), ("en", en_dir)):
        if not files[side]:
            fail(f"{folder}: no readable .txt documents")
    # the names as shown and stored (any byte sequence, escaped): see pipeline.display_path
    names = {side: [display_path(p) for p in paths] for side, paths in files.items()}
    relative = {side: [display_path(p.relative_to(folder)) for p in files[side]]
                for side, folder in (("ar", ar_dir), ("en", en_dir))}
    hints = _read_pairs_hint(pairs_hint, relative, names) if pairs_hint is not None else []
    unreadable: dict[str, int] = {"ar": 0, "en": 0}

    def texts(side: str):
        for path in files[side]:
            try:
                yield read_document(path)
            except InputError as exc:
                typer.echo(f"error: {exc}", err=True)
                unreadable[side] += 1
                yield ""                    # keeps the numbering; an empty document matches nothing

    fingerprint = None if no_store else matching_fingerprint(
        list(zip(relative["ar"], files["ar"])), list(zip(relative["en"], files["en"])), hints)
    pairs = None if no_store else _saved_matching(db, fingerprint, relative)
    if pairs is None:
        total = len(files["ar"]) + len(files["en"])
        with typer.progressbar(length=total, label="indexing", file=sys.stderr, show_eta=True) as bar:
            pairs = match_documents(texts("ar"), texts("en"), metadata=Metadata(relative["ar"], relative["en"], hints),
                                    progress=lambda side, count: bar.update(1))
        for side, folder in (("ar", ar_dir), ("en", en_dir)):
            if unreadable[side] == len(files[side]):
                fail(f"{folder}: no readable .txt documents")
        # saved before any pair is aligned: an interrupted run's rerun starts from it (a matching made
        # while some file could not be read is not saved, so the rerun reports that file again)
        if fingerprint is not None and not any(unreadable.values()):
            with store_errors(db), open_store(db) as store:
                store.save_matching(fingerprint, names_of(ar_dir), names_of(en_dir), len(files["ar"]),
                                    len(files["en"]), [(relative["ar"][a], relative["en"][e], c) for a, e, c in pairs])
    failed = _align_pairs(pairs, files, names, presegmented, jsonl, db, no_store, no_bridge, model, device,
                          ray_address, ray_actors)
    failed = failed or any(unreadable.values())
    matched_ar, matched_en = {p.ar for p in pairs}, {p.en for p in pairs}
    unmatched = ([(name, None) for k, name in enumerate(names["ar"]) if k not in matched_ar]
                 + [(None, name) for k, name in enumerate(names["en"]) if k not in matched_en])
    for ar_file, en_file in unmatched:
        if jsonl:
            typer.echo(json.dumps({"ar_file": ar_file, "en_file": en_file, "score": None, "beads": []},
                                  ensure_ascii=False))
        else:
            typer.echo(f"{ar_file or '-'}\t{en_file or '-'}\t-\tunmatched")
    if failed:
        raise typer.Exit(1)


def _saved_matching(db: Path, fingerprint: str, relative: dict[str, list[str]]) -> list | None:
    """The document pairs an earlier run of the same folder alignment saved (see matching_fingerprint);
    None if there are none."""
    from ..docalign import DocumentPair

    with store_errors(db), open_store(db) as store:
        saved = store.saved_matching(fingerprint)
    if saved is None:
        return None
    where = {side: {name: k for k, name in enumerate(relative[side])} for side in ("ar", "en")}
    typer.echo(f"reusing the document matching saved by an earlier run of this alignment ({len(saved)} pairs)",
               err=True)
    return [DocumentPair(where["ar"][ar], where["en"][en], confidence) for ar, en, confidence in saved]


def _read_pairs_hint(path: Path, relative: dict[str, list[str]], names: dict[str, list[str]]) -> list[tuple[int, int]]:
    """--pairs-hint: one `ARABIC<TAB>ENGLISH` pair of paths per line (relative to the folders, or as
    given on the command line with them); # starts a comment."""
    from ..inputs import text_lines
    from ..pipeline import InputError, read_document

    where = {side: {name: k for listing in (relative[side], names[side]) for k, name in enumerate(listing)}
             for side in ("ar", "en")}
    try:
        lines = text_lines(read_document(path))
    except InputError as exc:
        fail(str(exc))
    hints = []
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.rstrip("\n").split("\t")
        if len(fields) != 2:
            fail(f"{path}: line {number}: expected two tab-separated paths (Arabic, English)")
        for side, field_ in zip(("ar", "en"), fields):
            if field_.strip() not in where[side]:
                fail(f"{path}: line {number}: {field_.strip()!r} is not a document of the "
                     f"{'Arabic' if side == 'ar' else 'English'} folder")
        hints.append((where["ar"][fields[0].strip()], where["en"][fields[1].strip()]))
    return hints


def _align_pairs(pairs, files: dict, names: dict, presegmented: bool, jsonl: bool, db: Path, no_store: bool,
                 no_bridge: bool, model: Optional[str], device: str, ray_address: Optional[str] = None,
                 ray_actors: int = 0) -> bool:
    """Align and store every matched pair (each read again), skipping those a finished run stored;
    prints one record per pair and the summary; True if some pair failed. With ``ray_address`` the
    pairs are aligned (and bridged) on Ray actors, and stored here as they come back."""
    from ..align import AlignError, align_documents, store_alignment
    from ..docalign import aligned_before, document_sha256
    from ..pipeline import InputError, read_document

    from ..distributed import RayAligner, RayUnavailable     # imports Ray only when RayAligner is made

    engine, model_info = None, None
    if ray_address is not None:
        try:
            model_info = None if no_bridge else model_store.resolve_model(model)
            aligner = RayAligner(model_info, ray_address, actors=ray_actors, device=device)
        except (model_store.ModelError, RayUnavailable) as exc:
            fail(str(exc))
    elif not no_bridge:
        engine, model_info = _bridge_engine(model, device)
    bridge_name = model_info.name if model_info else None
    store = None if no_store else open_store(db)
    done = aligned_before(store) if store else set()
    counts = {"pairs": 0, "skipped": 0, "stored": 0, "existing": 0, "failed": 0}
    waiting: dict[int, tuple[str, str, tuple]] = {}   # pairs read and sent: their texts and store key

    def to_align():
        """(index, Arabic text, English text) of each pair not aligned before; reports the others."""
        for index, (a, e, confidence) in enumerate(pairs):
            ar_file, en_file = names["ar"][a], names["en"][e]
            try:
                ar_text, en_text = read_document(files["ar"][a]), read_document(files["en"][e])
            except InputError as exc:       # changed since it was indexed
                typer.echo(f"error: {exc}", err=True)
                counts["failed"] += 1
                continue
            key = (document_sha256(ar_text), document_sha256(en_text), bridge_name)
            if key in done:
                counts["skipped"] += 1
                if jsonl:
                    typer.echo(json.dumps({"ar_file": ar_file, "en_file": en_file, "score": round(confidence, 4),
                                           "beads": None, "aligned_before": True}, ensure_ascii=False))
                else:
                    typer.echo(f"{ar_file}\t{en_file}\t{confidence:.3f}\taligned before")
                continue
            waiting[index] = (ar_text, en_text, key)
            yield index, ar_text, en_text

    def aligned_here():
        for index, ar_text, en_text in to_align():
            try:
                yield index, align_documents(ar_text, en_text, presegmented, engine), None
            except AlignError as exc:
                yield index, None, str(exc)

    try:
        model_id = store.model_id(model_info.name, model_info.weights_sha256) if store and model_info else None
        results = aligner.align(to_align(), presegmented) if ray_address is not None else aligned_here()
        with typer.progressbar(length=len(pairs), label="aligning", file=sys.stderr, show_eta=True) as bar:
            for index, alignment, error in results:
                bar.update(1)
                a, e, confidence = pairs[index]
                ar_file, en_file = names["ar"][a], names["en"][e]
                ar_text, en_text, key = waiting.pop(index)
                if error is not None:
                    typer.echo(f"error: {ar_file}: {error}", err=True)
                    counts["failed"] += 1
                    continue
                segments, english, mt, beads = alignment
                counts["pairs"] += 1
                record = {"ar_file": ar_file, "en_file": en_file, "score": round(confidence, 4)}
                if jsonl:
                    typer.echo(json.dumps({**record, "beads": [
                        {"ar": [segments[i].text for i in b.ar], "en": [english[j] for j in b.en],
                         "score": round(b.score, 4)} for b in beads]}, ensure_ascii=False))
                else:
                    typer.echo(f"{ar_file}\t{en_file}\t{confidence:.3f}\t"
                               f"{sum(1 for b in beads if b.ar and b.en)} sentence pairs")
                if store:
                    options = {"ar": ar_file, "en": en_file, "ar_sha256": key[0], "en_sha256": key[1],
                               "bridge": bridge_name, "presegmented": presegmented, "document_score": confidence}
                    summary = store_alignment(store, ar_file, ar_text, segments, english, mt, beads, model_id, options,
                                              en_path=en_file, en_text=en_text)
                    counts["stored"] += summary.stored
                    counts["existing"] += summary.existing
    except RayUnavailable as exc:           # the cluster failed: one line, what was stored stays
        fail(str(exc))
    finally:
        if store:
            store.close()
    n_ar, n_en = len(names["ar"]), len(names["en"])
    message = (f"{n_ar} Arabic and {n_en} English documents: {len(pairs)} pairs "
               f"({counts['pairs']} aligned, {counts['skipped']} aligned before), "
               f"{n_ar - len(pairs)} Arabic and {n_en - len(pairs)} English unmatched")
    if store:
        message += f"; stored {counts['stored']} new sentence pairs ({counts['existing']} already stored) in {db}"
    typer.echo(message, err=True)
    return counts["failed"] > 0
