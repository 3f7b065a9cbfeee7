"""`translate review`: serve the review page; `translate review users add|list|remove`: reviewer accounts."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..store import StoreError
from .common import DbOption, app, fail, open_store, store_errors

review_app = typer.Typer(help="Serve the review page; manage reviewer accounts (`review users`).")
users_app = typer.Typer(no_args_is_help=True, help="Reviewer accounts: each has its own token (team review).")
review_app.add_typer(users_app, name="users")
app.add_typer(review_app, name="review")


@review_app.callback(invoke_without_command=True)
def review(
    ctx: typer.Context,
    db: Path = DbOption,
    port: int = typer.Option(8765, "--port", min=1, max=65535, help="Port to listen on."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind. Anything but loopback needs a token "
                             "(one is generated and printed when --token is not given)."),
    reviewer: Optional[str] = typer.Option(None, "--reviewer", help="Name recorded with each change (default: "
                                           "the name typed on the page). Ignored when the store has reviewers."),
    token: Optional[str] = typer.Option(None, "--token", help="Require this token on every request (a store "
                                        "with reviewers takes each reviewer's own token instead)."),
    allow_host: list[str] = typer.Option([], "--allow-host", help="Another host name the page may be opened "
                                         "under (a proxy, a DNS name); repeatable."),
    overlap: float = typer.Option(0.05, "--overlap", min=0.0, max=1.0, help="Team review: share of pairs "
                                  "reviewed blind by two reviewers (agreement figures)."),
    batch: int = typer.Option(20, "--claim-batch", min=1, max=500, help="Team review: pairs claimed at a time."),
    lease: float = typer.Option(15.0, "--lease", min=0.01, help="Team review: minutes a claim lasts without "
                                "activity."),
) -> None:
    """Serve the review page: approve, reject and correct pairs in a browser (keys: j k n a r e c u ?)."""
    if ctx.invoked_subcommand is not None:
        return
    from ..review import ReviewError, serve
    from ..review.team import TeamSettings

    if token is not None and not token.strip():
        fail("--token: empty token", 2)
    open_store(db, create=False, readonly=True).close()     # one that cannot be written is browsed
    try:
        serve(db, host=host, port=port, reviewer=reviewer, token=token, extra_hosts=allow_host,
              announce=lambda line: typer.echo(line, err=True),
              team=TeamSettings(overlap=overlap, batch=batch, lease_s=lease * 60))
    except (StoreError, ReviewError) as exc:
        fail(str(exc))


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="The reviewer's name, recorded with each of their decisions."),
    role: str = typer.Option("reviewer", "--role", help="reviewer, or lead (adjudicates, sends back, releases "
                             "claims)."),
    db: Path = DbOption,
) -> None:
    """Add a reviewer and print their token (shown this once; the store keeps only its hash)."""
    if role not in ("reviewer", "lead"):
        fail(f"--role {role}: use reviewer or lead", 2)
    store = open_store(db, create=False)
    try:
        with store_errors(db):
            token = store.add_reviewer(name, role)
    except (ValueError, StoreError) as exc:
        fail(f"{db}: {exc}" if isinstance(exc, ValueError) else str(exc))
    finally:
        store.close()
    typer.echo(f"added {role} {name.strip()}; token (shown once, keep it secret):")
    typer.echo(token)
    typer.echo("open the review page with ?token=<token> once, or paste the token when it asks", err=True)


@users_app.command("list")
def users_list(db: Path = DbOption) -> None:
    """List reviewers: name, role, live claims, decisions, added."""
    store = open_store(db, create=False, readonly=True)
    try:
        rows = store.reviewers()
    finally:
        store.close()
    if not rows:
        typer.echo("no reviewers: the review page runs in single-user mode", err=True)
        return
    typer.echo("name\trole\tclaims\tdecisions\tadded")
    for r in rows:
        typer.echo(f"{r['name']}\t{r['role']}\t{r['claims']}\t{r['decisions']}\t{r['created_at']}")


@users_app.command("remove")
def users_remove(name: str = typer.Argument(..., help="The reviewer to remove."), db: Path = DbOption) -> None:
    """Remove a reviewer: their token stops working, their claims are released, their decisions stay."""
    store = open_store(db, create=False)
    try:
        with store_errors(db):
            removed = store.remove_reviewer(name.strip())
    finally:
        store.close()
    if not removed:
        fail(f"{db}: no reviewer {name.strip()!r}")
    typer.echo(f"removed {name.strip()}; their token no longer works")
