"""What every command shares: the Typer apps, the one-line error, opening the store."""
from __future__ import annotations

import codecs
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import typer

from ..store import DEFAULT_DB, Store, StoreError, describe_error

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



def input_files(paths: list[Path], html: bool) -> tuple[list[Path], list[str]]:
    """The files to read under ``paths`` (see inputs.find_inputs): prints a warning for each file a folder
    holds that is skipped and an error for each path that is missing; none to read is a one-line error.
    Returns (files, missing)."""
    from ..inputs import find_inputs, input_kinds

    skipped: list[str] = []
    files, missing = find_inputs(paths, html=html, skipped=skipped)
    for message in skipped:
        typer.echo(f"warning: {message}", err=True)
    for message in missing:
        typer.echo(f"error: {message}", err=True)
    if not files:
        fail(f"no {input_kinds(html)} input files found")
    return files, missing
