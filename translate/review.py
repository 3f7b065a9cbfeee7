"""The review page: a small local web app to approve, reject and correct stored pairs.

`translate review` serves it with uvicorn on 127.0.0.1 (another address only when asked). Pages are
rendered on the server (Jinja2, autoescaped); a little plain JavaScript (static/review.js) handles the
keys and POSTs each action as JSON. Every action is written to SQLite at once, in one transaction, by the
review methods of ``Store`` (which keep the history: edits, review_log, undo).

Security: POSTs must carry the per-server CSRF token (from the page's meta tag, as the X-CSRF-Token
header or a csrf_token form field) or get 403; with ``--token`` every request must carry the token (the
``token`` query parameter once, which sets a cookie) or get 401; Host headers other than the bound
address are refused (DNS rebinding); a strict Content-Security-Policy allows no inline script.
"""
from __future__ import annotations

import json
import math
import secrets
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from .store import STATUSES, Store

HERE = Path(__file__).resolve().parent
PAGE_SIZE = 50
TOKEN_COOKIE = "review_token"
MAX_REVIEWER = 100
MAX_IDS = 1000          # pairs per bulk or undo request (a page has PAGE_SIZE)
MAX_DOCUMENT_CHOICES = 100
MAX_EDIT_CHARS = 20_000
SEARCH_WINDOW = 10_000  # pair ids one text-search page looks through (LIKE cannot use an index)

SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
     b"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),     # the token may be in the address
    (b"x-frame-options", b"DENY"),
]


class ReviewError(Exception):
    """The review server cannot start; the message says why."""


class BadRequest(Exception):
    """A request the page cannot serve; the message says what was wrong."""


def review_url(host: str, port: int, token: str | None = None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"?{urlencode({'token': token})}" if token else "")


class _TokenGuard:
    """ASGI middleware: with a token set, every request needs it (cookie, or the query once) or gets 401.

    Also adds the security headers to every response.
    """

    def __init__(self, app, token: str | None):
        self.app = app
        self.token = token

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        if self.token is not None:
            request = Request(scope)
            given_cookie = request.cookies.get(TOKEN_COOKIE, "")
            given_query = request.query_params.get("token", "")
            if _same(given_query, self.token) and request.method == "GET":
                # move the token from the address into a cookie, so it leaves the address bar and history
                rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
                response = RedirectResponse(request.url.path + (f"?{urlencode(rest)}" if rest else ""), 303)
                response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
                return await response(scope, receive, send_with_headers)
            if not (_same(given_cookie, self.token) or _same(given_query, self.token)):
                response = PlainTextResponse("401: this review server needs its token (open the address it printed)",
                                             401)
                return await response(scope, receive, send_with_headers)
        await self.app(scope, receive, send_with_headers)


def _same(given: str, expected: str) -> bool:
    return bool(given) and secrets.compare_digest(given.encode(), expected.encode())


def create_app(db: Path, reviewer: str | None = None, token: str | None = None, host: str = "127.0.0.1",
               search_window: int = SEARCH_WINDOW) -> Starlette:
    """The review app over the store ``db`` (which must exist)."""
    Store(db, create=False).close()      # fail early (StoreError) on a missing or foreign file
    csrf_token = secrets.token_urlsafe(32)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    local = threading.local()            # one SQLite connection per worker thread

    def store() -> Store:
        if getattr(local, "store", None) is None:
            local.store = Store(db, create=False)
        return local.store

    # ---- helpers --------------------------------------------------------------------------------
    def page_filters(request: Request) -> dict:
        q = request.query_params
        filters: dict = {}
        status = q.get("status", "")
        if status:
            if status not in STATUSES:
                raise BadRequest(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
            filters["status"] = status
        for name, key in (("min", "min_score"), ("max", "max_score")):
            if q.get(name, "").strip():
                filters[key] = _number(q[name], f"{name} score")
        if q.get("doc", "").strip():
            filters["document_id"] = _integer(q["doc"], "document")
        if q.get("q", "").strip():
            filters["search"] = q["q"].strip()
        return filters

    def reviewer_of(body: dict) -> str:
        name = str(body.get("reviewer") or reviewer or "").strip()
        if not name:
            raise BadRequest("enter your name in the reviewer field first")
        if len(name) > MAX_REVIEWER:
            raise BadRequest(f"reviewer name longer than {MAX_REVIEWER} characters")
        return name

    async def checked_body(request: Request) -> dict:
        """The JSON (or form) body of a POST whose CSRF token is right; raises _Forbidden otherwise."""
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            try:
                body = json.loads(await request.body() or b"{}")
            except ValueError:
                body = None
            given = request.headers.get("x-csrf-token", "")
        else:
            form = await request.form()
            body = {k: (form.getlist(k) if k == "ids" else form[k]) for k in form.keys()}
            given = request.headers.get("x-csrf-token") or str(body.get("csrf_token", ""))
        if not _same(given, csrf_token):
            raise _Forbidden()
        if not isinstance(body, dict):
            raise BadRequest("the request body is not a JSON object")
        return body

    def pair_json(row) -> dict:
        return {"id": row["id"], "status": row["status"], "target": row["edited_text"] or row["mt_text"],
                "mt_text": row["mt_text"], "edited": row["edited_text"] is not None,
                "score": row["score"], "label": row["label"]}

    # ---- pages ----------------------------------------------------------------------------------
    def paged(s: Store, filters: dict, after: int | None, before: int | None):
        """(rows, id for the previous link, id for the next link, (first, last) id searched when a
        windowed text search found less than a page)."""
        window = search_window if "search" in filters else None
        if before is not None:
            rows = s.review_page(**filters, before=before, limit=PAGE_SIZE + 1, window=window)
            if len(rows) > PAGE_SIZE:
                rows = rows[1:]
                return rows, rows[0]["id"], before - 1, None
            if window:
                low = max(before - window, 1)
                return rows, low if low > 1 else None, before - 1, (low, before - 1)
            after = None                      # reached the start: show a full first page instead
        start = after or 0
        rows = s.review_page(**filters, after=start, limit=PAGE_SIZE + 1, window=window)
        prev_before = (rows[0]["id"] if rows else start + 1) if start > 0 else None
        if len(rows) > PAGE_SIZE:
            rows = rows[:PAGE_SIZE]
            return rows, prev_before, rows[-1]["id"], None
        if window and start + window < s.review_last_id():
            return rows, prev_before, start + window, (start + 1, start + window)
        return rows, prev_before, None, None

    def index(request: Request) -> Response:
        filters = page_filters(request)
        q = request.query_params
        after = _integer(q["after"], "after") if q.get("after") else None
        before = _integer(q["before"], "before") if q.get("before") else None
        s = store()
        rows, prev_before, next_after, searched = paged(s, filters, after, before)
        kept = {k: v for k, v in q.items() if k in ("status", "min", "max", "doc", "q") and v}
        # a list of documents to pick from while it is short; past that the document id is typed (or a
        # document name in a row clicked): hundreds of options would cost more than the rest of the page
        documents = s.review_documents(limit=MAX_DOCUMENT_CHOICES + 1)
        if len(documents) > MAX_DOCUMENT_CHOICES:
            documents = None
        document_id = filters.get("document_id")
        if documents is not None and document_id is not None and all(d["id"] != document_id for d in documents):
            documents = documents + [{"id": document_id, "path": f"document {document_id}"}]
        return templates.TemplateResponse(request, "review.html", {
            "pairs": [_pair_view(r) for r in rows],
            "query": kept,
            "statuses": STATUSES,
            "documents": documents,
            "document_id": document_id,
            "csrf_token": csrf_token,
            "reviewer": reviewer or "",
            "prev_url": "?" + urlencode({**kept, "before": prev_before}) if prev_before else None,
            "next_url": "?" + urlencode({**kept, "after": next_after}) if next_after else None,
            "searched": searched,
            "page_size": PAGE_SIZE,
        })

    def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    def history(request: Request) -> Response:
        data = store().review_history(request.path_params["pair_id"])
        if not data:
            return JSONResponse({"error": f"no pair {request.path_params['pair_id']}"}, 404)
        return JSONResponse(data)

    # ---- actions --------------------------------------------------------------------------------
    # The body is read in the event loop; the store work runs in Starlette's thread pool with that
    # thread's own connection, so a write waiting for a `translate run` transaction holds up nothing else.
    def pair_action(pair_id: int, verb: str, name: str, body: dict) -> Response:
        s = store()
        try:
            if verb == "approve":
                log_id = s.set_review_status(pair_id, "approved", name)
            elif verb == "reject":
                log_id = s.set_review_status(pair_id, "rejected", name)
            elif verb == "edit":
                text = body.get("text")
                if not isinstance(text, str):
                    raise BadRequest("an edit needs the new English as 'text'")
                if len(text) > MAX_EDIT_CHARS:
                    raise BadRequest(f"the edit is longer than {MAX_EDIT_CHARS} characters")
                log_id = s.edit_translation(pair_id, text, name)
            else:
                return JSONResponse({"error": f"unknown action {verb!r}"}, 404)
        except KeyError:
            return JSONResponse({"error": f"no pair {pair_id}"}, 404)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        return JSONResponse({"pair": pair_json(s.review_pair(pair_id)), "log_ids": [log_id] if log_id else [],
                             "changed": log_id is not None})

    async def action(request: Request) -> Response:
        body = await checked_body(request)
        return await run_in_threadpool(pair_action, request.path_params["pair_id"], request.path_params["verb"],
                                       reviewer_of(body), body)

    def do_bulk_approve(ids: list[int], min_score: float, name: str, back: str | None) -> Response:
        s = store()
        done = s.bulk_approve(ids, min_score, name)
        if back is not None:       # the plain HTML form (no JavaScript): back to the same page
            return RedirectResponse(back if back.startswith("/") and not back.startswith("//") else "/", 303)
        return JSONResponse({"pairs": [pair_json(s.review_pair(pid)) for pid, _ in done],
                             "log_ids": [log_id for _, log_id in done], "changed": bool(done)})

    async def bulk_approve(request: Request) -> Response:
        body = await checked_body(request)
        ids = _id_list(body.get("ids"))
        min_score = _number(str(body.get("min_score", "")), "min score")
        back = str(body.get("back") or "/") if "csrf_token" in body else None
        return await run_in_threadpool(do_bulk_approve, ids, min_score, reviewer_of(body), back)

    def do_undo(log_ids: list[int], name: str) -> Response:
        s = store()
        restored, skipped = s.undo_review(log_ids, name)
        pairs = [pair_json(s.review_pair(pid)) for pid in dict.fromkeys(restored)]
        status = 200 if restored or not skipped else 409
        return JSONResponse({"pairs": pairs, "skipped": skipped,
                             "error": "; ".join(skipped) if status == 409 else None}, status)

    async def undo(request: Request) -> Response:
        body = await checked_body(request)
        return await run_in_threadpool(do_undo, _id_list(body.get("log_ids")), reviewer_of(body))

    async def on_bad_request(request: Request, exc: BadRequest) -> Response:
        if request.method == "GET":
            return PlainTextResponse(f"400: {exc}", 400)
        return JSONResponse({"error": str(exc)}, 400)

    async def on_forbidden(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": "missing or wrong CSRF token: reload the page"}, 403)

    routes = [
        Route("/", index),
        Route("/healthz", health),
        Route("/api/pairs/{pair_id:int}/history", history),
        Route("/api/pairs/{pair_id:int}/{verb}", action, methods=["POST"]),
        Route("/api/bulk-approve", bulk_approve, methods=["POST"]),
        Route("/api/undo", undo, methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    hosts = ["*"] if host in ("0.0.0.0", "::", "") else ["127.0.0.1", "localhost", "[::1]", "::1", host]
    return Starlette(
        routes=routes,
        middleware=[Middleware(_TokenGuard, token=token), Middleware(TrustedHostMiddleware, allowed_hosts=hosts)],
        exception_handlers={BadRequest: on_bad_request, _Forbidden: on_forbidden},
    )


class _Forbidden(Exception):
    pass


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BadRequest(f"{what}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise BadRequest(f"{what}: {text!r} is not a finite number")
    return value


def _integer(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise BadRequest(f"{what}: {text!r} is not a whole number") from None


def _id_list(value) -> list[int]:
    if isinstance(value, (str, int)):
        value = [value]
    if not isinstance(value, list) or not value:
        raise BadRequest("no pair ids given")
    if len(value) > MAX_IDS:
        raise BadRequest(f"more than {MAX_IDS} ids in one request")
    return [_integer(str(v), "pair id") for v in value]


def _pair_view(row) -> dict:
    """What the template shows of one pair."""
    try:
        signals = json.loads(row["signals"]) if row["signals"] else {}
    except ValueError:
        signals = {"signals": row["signals"]}
    shown = {k: (f"{v:.3f}" if isinstance(v, float) else json.dumps(v, ensure_ascii=False)
                 if not isinstance(v, str) else v) for k, v in signals.items()}
    position = f"{row['sentence'] + 1}" + (f".{row['part'] + 1}" if row["part"] else "")
    if row["segment_count"] > 1:
        position += f" +{row['segment_count'] - 1}"
    return {"id": row["id"], "status": row["status"], "source": row["source"],
            "target": row["edited_text"] or row["mt_text"], "mt_text": row["mt_text"],
            "edited": row["edited_text"] is not None, "origin": row["origin"],
            "score": row["score"], "label": row["label"] or "none", "signals": shown,
            "document": row["document"], "document_id": row["document_id"], "position": position}


def serve(db: Path, host: str = "127.0.0.1", port: int = 8765, reviewer: str | None = None,
          token: str | None = None, announce: Callable[[str], None] | None = None) -> None:
    """Run the review server until interrupted; ``announce`` gets the address once it listens."""
    import uvicorn

    app = create_app(db, reviewer=reviewer, token=token, host=host)
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
        announce(review_url(host, port, token))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.run(sockets=[sock])
