"""The POST actions of the review page: approve, reject, reason, edit, bulk approve, undo.

Each request must carry the per-server CSRF token in the X-CSRF-Token header, checked before the body is
read; bodies are JSON objects. The store work runs in Starlette's thread pool with that thread's own
connection, so a write waiting for a `translate run` transaction holds up nothing else.
"""
from __future__ import annotations

import json
import re
import secrets

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .errors import BadRequest, Forbidden, NotFound, ReadOnly
from .pages import integer, number, pair_json, parse_filter, path_id

MAX_REVIEWER = 100
MAX_IDS = 1000          # review_log ids per undo request (a bulk approve is undone by its batch id)
MAX_EDIT_CHARS = 20_000
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")     # NUL, line breaks, escapes: nothing a name holds


def routes() -> list[Route]:
    return [
        Route("/api/pairs/{pair_id}/{verb}", pair_action, methods=["POST"]),
        Route("/api/bulk-approve", bulk_approve, methods=["POST"]),
        Route("/api/undo", undo, methods=["POST"]),
    ]


async def checked_body(request: Request) -> dict:
    """The JSON body of a POST whose CSRF token is right (checked before the body is read), on a store
    that can be written."""
    given = request.headers.get("x-csrf-token", "")
    expected = request.app.state.review.csrf_token
    if not (given and secrets.compare_digest(given.encode(), expected.encode())):
        raise Forbidden()
    if request.app.state.review.readonly:
        raise ReadOnly(f"{request.app.state.review.db} cannot be written (read-only file or folder): "
                       "changes are not saved")
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise BadRequest("send the action as JSON (Content-Type: application/json)")
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise BadRequest("the request body is not valid JSON") from None
    except RecursionError:      # arrays or objects nested thousands deep: the parser gives up
        raise BadRequest("the request body is nested too deeply") from None
    if not isinstance(body, dict):
        raise BadRequest("the request body is not a JSON object")
    return body


def reviewer_of(request: Request, body: dict) -> str:
    """The reviewer's name: in team review the token's reviewer only; otherwise the body's "reviewer" (a
    short printable string) or the server's default."""
    signed_in = getattr(request.state, "reviewer", None)     # team review: the token's reviewer, only
    if signed_in is not None:
        return signed_in.name
    given = body.get("reviewer")
    if given is not None and not isinstance(given, str):
        raise BadRequest("the reviewer name must be a string")
    if given and _CONTROL.search(given):
        raise BadRequest("the reviewer name holds control characters")
    name = (given or request.app.state.review.reviewer or "").strip()
    if not name:
        raise BadRequest("enter your name in the reviewer field first")
    if len(name) > MAX_REVIEWER:
        raise BadRequest(f"reviewer name longer than {MAX_REVIEWER} characters")
    return name


async def pair_action(request: Request) -> Response:
    body = await checked_body(request)
    pair_id = path_id(request, "pair_id", "pair")
    verb = request.path_params["verb"]
    if verb not in ("approve", "reject", "edit", "reason"):
        raise NotFound(f"unknown action {verb!r}")
    name = reviewer_of(request, body)
    return await run_in_threadpool(_pair_action, request, pair_id, verb, name, body)


def _pair_action(request: Request, pair_id: int, verb: str, name: str, body: dict) -> Response:
    context = request.app.state.review
    decisions = context.decisions()
    try:
        if verb == "approve":
            log_id = decisions.set_status(pair_id, "approved", name)
        elif verb == "reject":
            log_id = decisions.set_status(pair_id, "rejected", name)
        elif verb == "reason":
            reason = body.get("reason")
            comment = body.get("comment")
            if reason is not None and not isinstance(reason, str) or comment is not None and not isinstance(comment, str):
                raise BadRequest("a reason and a comment are strings")
            log_id = decisions.set_reason(pair_id, reason or None, comment, name)
        else:
            text = body.get("text")
            if not isinstance(text, str):
                raise BadRequest("an edit needs the new English as 'text'")
            if len(text) > MAX_EDIT_CHARS:
                raise BadRequest(f"the edit is longer than {MAX_EDIT_CHARS} characters")
            log_id = decisions.edit(pair_id, text, name)
    except KeyError:
        raise NotFound(f"no pair {pair_id}") from None
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    return JSONResponse({"pair": pair_json(context.queries().pair(pair_id)),
                         "log_ids": [log_id] if log_id else [], "changed": log_id is not None})


async def bulk_approve(request: Request) -> Response:
    """Approve the pending pairs of the filter in the address (every page) scoring at least min_score.
    With "count_only": true it only says how many that would be."""
    body = await checked_body(request)
    flt = parse_filter(request)
    min_score = number(str(body.get("min_score", "")), "min score")
    if body.get("count_only"):
        return await run_in_threadpool(
            lambda: JSONResponse({"count": request.app.state.review.decisions().bulk_approve_count(flt, min_score)}))
    name = reviewer_of(request, body)

    def approve() -> Response:
        batch, ids = request.app.state.review.decisions().bulk_approve(flt, min_score, name)
        return JSONResponse({"batch": batch, "count": len(ids), "changed": bool(ids)})
    return await run_in_threadpool(approve)


async def undo(request: Request) -> Response:
    body = await checked_body(request)
    name = reviewer_of(request, body)
    batch = integer(str(body["batch"]), "batch") if body.get("batch") is not None else None
    log_ids = [] if batch is not None else _id_list(body.get("log_ids"))

    def revert() -> Response:
        context = request.app.state.review
        restored, skipped = context.decisions().undo(log_ids, name, batch=batch)
        queries = context.queries()
        unique = list(dict.fromkeys(restored))
        pairs = [pair_json(queries.pair(pid)) for pid in unique[:200]]
        status = 200 if restored or not skipped else 409
        return JSONResponse({"pairs": pairs, "count": len(unique), "skipped": skipped[:20],
                             "error": "; ".join(skipped[:5]) if status == 409 else None}, status)
    return await run_in_threadpool(revert)


def _id_list(value) -> list[int]:
    if isinstance(value, (str, int)):
        value = [value]
    if not isinstance(value, list) or not value:
        raise BadRequest("no review entry ids given")
    if len(value) > MAX_IDS:
        raise BadRequest(f"more than {MAX_IDS} ids in one request")
    return [integer(str(v), "review entry id") for v in value]
