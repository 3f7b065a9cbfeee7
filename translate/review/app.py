"""The review server: the Starlette app, its guard (hosts, token, body size, security headers) and `serve`.

`translate review` serves it with uvicorn on 127.0.0.1. Binding to any other address needs a token (one is
generated and printed in the address when none is given) and keeps a Host allow-list (the bound host, this
machine's names and addresses, ``--allow-host``), so neither another machine without the token nor a web
page through DNS rebinding can read or change pairs. Pages are rendered on the server (``pages``); the
POST actions (``actions``) need the per-server CSRF token, checked before the body is read; bodies over
``MAX_BODY`` bytes get 413 before they are read.
"""
from __future__ import annotations

import secrets
from html import escape
import socket
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ..store import Store, StoreError
from . import actions, alignment, pages, team_routes
from .decisions import ReviewDecisions
from .errors import BadRequest, Forbidden, NotFound, ReadOnly, ReviewError
from .queries import ReviewQueries
from .team import Accounts, TeamSettings

HERE = Path(__file__).resolve().parent.parent
TOKEN_COOKIE = "review_token"
MAX_BODY = 1_000_000
LOOPBACK = ("127.0.0.1", "::1", "localhost")

SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
     b"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),     # the token may be in the address
    (b"x-frame-options", b"DENY"),
]


@dataclass
class ReviewContext:
    """What every request handler needs: the store (one SQLite connection per worker thread), the CSRF
    token, the templates and the default reviewer name."""
    db: Path
    reviewer: str | None
    csrf_token: str
    templates: Jinja2Templates
    readonly: bool = False        # the store cannot be written: pages work, actions answer 503
    local: threading.local = field(default_factory=threading.local)
    stats_cache: dict = field(default_factory=dict)

    def store(self) -> Store:
        if getattr(self.local, "store", None) is None:
            self.local.store = Store(self.db, create=False, readonly=self.readonly)
        return self.local.store

    def queries(self) -> ReviewQueries:
        return ReviewQueries(self.store())

    def decisions(self) -> ReviewDecisions:
        return ReviewDecisions(self.store(), scorer=_rescore)


def store_writable(db: Path) -> bool:
    """Whether review actions can be saved; raises StoreError for a missing or foreign file (which the
    read-only opening refuses too)."""
    try:
        Store(db, create=False).close()
        return True
    except StoreError:
        Store(db, create=False, readonly=True).close()
        return False


def _rescore(source: str, target: str) -> tuple[float, str, dict]:
    from ..score import score_pair

    quality = score_pair(source, target)
    return quality.score, quality.label, quality.signals


def review_url(host: str, port: int, token: str | None = None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"?{urlencode({'token': token})}" if token else "")


def is_loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


def allowed_hosts(host: str, extra: list[str] = ()) -> list[str]:
    """Host header values the server answers: loopback names, the bound host and, when it listens beyond
    loopback, this machine's names and addresses (a DNS-rebinding page sends its own name, never these)."""
    names = {"127.0.0.1", "localhost", "::1", "[::1]"}
    if host not in ("0.0.0.0", "::", ""):
        names.add(host)
    if not is_loopback(host):
        hostname = socket.gethostname()
        names.update({hostname, socket.getfqdn()})
        try:
            names.update(info[4][0] for info in socket.getaddrinfo(hostname, None))
        except OSError:
            pass
    names.update(extra)
    return sorted(names | {f"[{n}]" for n in names if ":" in n and not n.startswith("[")})


class Guard:
    """ASGI middleware, first in line: Host allow-list (400), token (401), body size (413), security headers.

    With ``accounts`` and a store that has reviewers (team review), the token must be a reviewer's own
    (the shared ``token`` is not accepted); the reviewer it names is put in the request's state."""

    def __init__(self, app, token: str | None, hosts: list[str], max_body: int = MAX_BODY,
                 accounts: Accounts | None = None):
        self.app, self.token, self.hosts, self.max_body = app, token, set(hosts), max_body
        self.accounts = accounts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        request = Request(scope)
        host = request.headers.get("host", "")
        host_name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if host_name not in self.hosts:
            return await PlainTextResponse("400: this review server does not answer to that host name "
                                           "(start it with --allow-host to add one)", 400)(scope, receive,
                                                                                          send_with_headers)
        if self.accounts is not None and self.accounts.team_mode():
            refused = self._reviewer(request, scope)
            if refused is not None:
                return await refused(scope, receive, send_with_headers)
        elif self.token is not None:
            given_cookie = request.cookies.get(TOKEN_COOKIE, "")
            given_query = request.query_params.get("token", "")
            if _same(given_query, self.token) and request.method == "GET":
                # move the token from the address into a cookie, so it leaves the address bar and history
                rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
                response = RedirectResponse(request.url.path + (f"?{urlencode(rest)}" if rest else ""), 303)
                response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
                return await response(scope, receive, send_with_headers)
            if not (_same(given_cookie, self.token) or _same(given_query, self.token)):
                return await PlainTextResponse("401: this review server needs its token (open the address it "
                                               "printed)", 401)(scope, receive, send_with_headers)
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return await _too_large(self.max_body)(scope, receive, send_with_headers)
        seen = 0

        async def capped_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise _BodyTooLarge()
            return message

        await self.app(scope, capped_receive, send_with_headers)


    def _reviewer(self, request: Request, scope) -> Response | None:
        """Team review: find the reviewer of the request's token (put in scope state); a response when
        there is none: the token from a link goes into a cookie (303), a missing or wrong one gets 401."""
        given_query = request.query_params.get("token", "")
        given = given_query or request.cookies.get(TOKEN_COOKIE, "")
        reviewer = self.accounts.authenticate(given) if given else None
        if reviewer is None:
            return _unauthorised(request, wrong=bool(given))
        if given_query and request.method == "GET":
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            response = RedirectResponse(request.url.path + (f"?{urlencode(rest)}" if rest else ""), 303)
            response.set_cookie(TOKEN_COOKIE, given_query, httponly=True, samesite="strict")
            return response
        scope.setdefault("state", {})["reviewer"] = reviewer
        return None


def _unauthorised(request: Request, wrong: bool) -> Response:
    """401 for team review: a page that asks for the token (its form puts it in the address once, and the
    guard moves it into a cookie), or JSON for the API."""
    message = ("that token is wrong or its reviewer was removed; ask your lead for a new one" if wrong
               else "this review server needs your reviewer token")
    if request.url.path.startswith("/api/") or request.method != "GET":
        return JSONResponse({"error": f"401: {message}"}, 401)
    html = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            'content="width=device-width, initial-scale=1"><title>Token needed · translate</title></head>'
            f'<body><h1>Review pairs: token needed</h1><p id="why">401: {message}.</p>'
            f'<form method="get" action="{escape(request.url.path)}"><label>Your reviewer token '
            '<input name="token" type="password" autocomplete="off" required autofocus></label> '
            '<button type="submit">Open</button></form></body></html>')
    response = HTMLResponse(html, 401)
    if wrong:
        response.delete_cookie(TOKEN_COOKIE)
    return response


class _BodyTooLarge(Exception):
    """A body without Content-Length that grew past the limit (raised while it is read)."""


def _too_large(limit: int) -> Response:
    return JSONResponse({"error": f"request body larger than {limit} bytes"}, 413)


def _same(given: str, expected: str) -> bool:
    return bool(given) and secrets.compare_digest(given.encode(), expected.encode())


def create_app(db: Path, reviewer: str | None = None, token: str | None = None, host: str = "127.0.0.1",
               extra_hosts: list[str] = (), team: TeamSettings = TeamSettings()) -> Starlette:
    """The review app over the store ``db`` (which must exist)."""
    templates = Jinja2Templates(directory=str(HERE / "templates"), context_processors=[team_routes.template_context])
    context = ReviewContext(db, reviewer, secrets.token_urlsafe(32), templates, readonly=not store_writable(db))
    routes = [
        *team_routes.routes(),      # team review first: each hands a store without reviewers on unchanged
        *pages.routes(),
        *actions.routes(),
        *alignment.routes(),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]

    async def on_bad_request(request: Request, exc: BadRequest) -> Response:
        if request.method == "GET" and not request.url.path.startswith("/api/"):
            return PlainTextResponse(f"400: {exc}", 400)
        return JSONResponse({"error": str(exc)}, 400)

    async def on_not_found(request: Request, exc: NotFound) -> Response:
        if request.method == "GET" and not request.url.path.startswith("/api/"):
            return PlainTextResponse(f"404: {exc}", 404)
        return JSONResponse({"error": str(exc)}, 404)

    async def on_forbidden(request: Request, exc: Forbidden) -> Response:
        return JSONResponse({"error": "missing or wrong CSRF token: reload the page"}, 403)

    async def on_database_error(request: Request, exc: sqlite3.Error) -> Response:
        # a store that cannot be written (read-only file or folder, full disk) or stays locked: the page
        # says so instead of failing with a 500
        message = f"the store {db} cannot be written now ({exc}); nothing was changed"
        if request.method == "GET" and not request.url.path.startswith("/api/"):
            return PlainTextResponse(f"503: {message}", 503)
        return JSONResponse({"error": message}, 503)

    async def on_read_only(request: Request, exc: ReadOnly) -> Response:
        return JSONResponse({"error": str(exc)}, 503)

    async def on_body_too_large(request: Request, exc: _BodyTooLarge) -> Response:
        return _too_large(MAX_BODY)

    app = Starlette(routes=routes, exception_handlers={
        BadRequest: on_bad_request, NotFound: on_not_found, Forbidden: on_forbidden,
        sqlite3.Error: on_database_error, StoreError: on_database_error, ReadOnly: on_read_only,
        _BodyTooLarge: on_body_too_large})
    app.state.review = context
    app.state.team = team
    return Guard(app, token=token, hosts=allowed_hosts(host, list(extra_hosts)), accounts=Accounts(db))


def serve(db: Path, host: str = "127.0.0.1", port: int = 8765, reviewer: str | None = None,
          token: str | None = None, extra_hosts: list[str] = (),
          announce: Callable[[str], None] | None = None, team: TeamSettings = TeamSettings()) -> None:
    """Run the review server until interrupted; ``announce`` gets each line to tell the user once it listens."""
    import uvicorn

    if not is_loopback(host) and token is None:
        token = secrets.token_urlsafe(18)        # never expose the page beyond this machine without one
    app = create_app(db, reviewer=reviewer, token=token, host=host, extra_hosts=extra_hosts, team=team)
    # bind here rather than in uvicorn: a busy port is then a one-line error, and the address is
    # printed only once it really listens
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             proto=socket.IPPROTO_TCP)[0]
        # proto must say TCP: asyncio sets TCP_NODELAY only on such sockets, and without it small
        # responses wait ~40 ms for delayed ACKs
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        raise ReviewError(f"{host}:{port}: cannot listen ({exc.strerror or exc})") from None
    if announce:
        shown = socket.gethostname() if host in ("0.0.0.0", "::") else host
        team_mode = app.accounts.team_mode()     # each reviewer brings their own token: none in the address
        announce(f"reviewing {db} at {review_url(shown, port, None if team_mode else token)}  (Ctrl+C stops)")
        if team_mode:
            announce(f"team review: each reviewer opens the address with their own token (?token=...); "
                     f"claims of {team.batch} pairs last {team.lease_s / 60:g} min without activity; "
                     f"{team.overlap:.0%} of pairs are reviewed blind by two")
        if app.app.state.review.readonly:
            announce(f"{db} cannot be written: the page shows the pairs, but changes are refused")
        if is_loopback(host):
            announce("only this machine can reach the page")
        else:
            answered = ", ".join(sorted(h for h in app.hosts if not h.startswith("[")))
            announce(f"listening on {host}: other machines on the network can reach the page, with the token "
                     f"in the address; host names answered: {answered}")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.run(sockets=[sock])
