"""`translate models ...`: list, pull, import, remove models and build vocabulary maps."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .. import models as model_store
from .. import vocab_map
from .common import fail, models_app


@models_app.command("list")
def models_list() -> None:
    """Installed models, best first (the first one is used by default)."""
    installed = model_store.list_models()
    typer.echo("name\tquality rank (higher is better)\tpath")
    for info in installed:
        m = info.manifest
        tags = ", ".join(t for t in ("bundled" if info.bundled else "", "demo" if m.get("demo") else "") if t)
        typer.echo(f"{info.name}\t{info.quality_rank:g}\t{info.path}{f'  ({tags})' if tags else ''}")
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
    from ..pipeline import InputError, read_lines

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

