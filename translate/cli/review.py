"""`translate review`: serve the review page."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..store import StoreError
from .common import DbOption, app, fail, open_store


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
    from ..review import ReviewError, serve

    if token is not None and not token.strip():
        fail("--token: empty token", 2)
    open_store(db, create=False, readonly=True).close()     # one that cannot be written is browsed
    try:
        serve(db, host=host, port=port, reviewer=reviewer, token=token, extra_hosts=allow_host,
              announce=lambda line: typer.echo(line, err=True))
    except (StoreError, ReviewError) as exc:
        fail(str(exc))

