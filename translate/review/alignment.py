"""The alignment editor over HTTP: the list of document pairs, the two-column view of one alignment
(/align/ID), and its JSON API (the page's and scripts'). The operations themselves are in
translate.alignment_edit; these handlers only parse, call and answer.

- GET  /api/alignments              -> [{"id", "ar_file", "en_file", "rows", "confirmed", "non_1_1", ...}]
- GET  /api/alignments/ID           -> {"id", "version", "ar": [texts], "en": [texts], "rows": [...]}
- POST /api/alignments/ID/ops       {"op", "row", "side", "at", "offset", "version"} -> the new alignment
- POST /api/alignments/ID/undo      {"version"} -> the alignment before the newest change

POSTs need the CSRF header as every action. An op that cannot apply answers 400 with the reason and
changes nothing; a "version" older than the stored alignment answers 409 with the current alignment.
"""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..alignment_edit import OpError, Stale, alignment_json, apply_op, parse_op, undo
from ..score import GOOD_THRESHOLD
from .actions import MAX_REVIEWER, checked_body
from .errors import BadRequest, NotFound
from .pages import path_id


def routes() -> list[Route]:
    return [
        Route("/align", list_page),
        Route("/align/{pair_id}", alignment_page),
        Route("/api/alignments", list_json),
        Route("/api/alignments/{pair_id}", alignment_get),
        Route("/api/alignments/{pair_id}/ops", alignment_op, methods=["POST"]),
        Route("/api/alignments/{pair_id}/undo", alignment_undo, methods=["POST"]),
    ]


def summaries(store) -> list[dict]:
    return [{"id": r["id"], "ar_file": r["ar_file"], "en_file": r["en_file"], "rows": r["rows"],
             "confirmed": r["confirmed"], "unconfirmed": r["rows"] - r["confirmed"], "non_1_1": r["non_1_1"],
             "below_check": r["below_check"], "version": r["version"], "bridge": r["bridge"]}
            for r in store.alignment_summaries(GOOD_THRESHOLD)]


def list_json(request: Request) -> Response:
    return JSONResponse(summaries(request.app.state.review.store()))


def _load(request: Request) -> tuple:
    store = request.app.state.review.store()
    pair_id = path_id(request, "pair_id", "alignment")
    alignment = store.load_alignment(pair_id)
    if alignment is None:
        raise NotFound(f"no alignment {pair_id}")
    return store, alignment


def alignment_get(request: Request) -> Response:
    store, alignment = _load(request)
    return JSONResponse(alignment_json(store, alignment))


def _reviewer(request: Request, body: dict) -> str:
    """In team review the token's reviewer, whatever the body says; otherwise the body's reviewer, else
    the server's; a script that names none is logged as 'api'."""
    signed_in = getattr(request.state, "reviewer", None)
    if signed_in is not None:
        return signed_in.name
    name = str(body.get("reviewer") or request.app.state.review.reviewer or "api").strip() or "api"
    if len(name) > MAX_REVIEWER:
        raise BadRequest(f"reviewer name longer than {MAX_REVIEWER} characters")
    return name


def _version(body: dict) -> int | None:
    version = body.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise BadRequest("version must be the whole number the alignment was read with")
    return version


async def alignment_op(request: Request) -> Response:
    body = await checked_body(request)
    pair_id = path_id(request, "pair_id", "alignment")
    try:
        op = parse_op(body)
    except OpError as exc:
        raise BadRequest(str(exc)) from None
    name, version = _reviewer(request, body), _version(body)
    return await run_in_threadpool(_change, request, pair_id, lambda store: apply_op(store, pair_id, op, name, version))


async def alignment_undo(request: Request) -> Response:
    body = await checked_body(request)
    pair_id = path_id(request, "pair_id", "alignment")
    name, version = _reviewer(request, body), _version(body)
    return await run_in_threadpool(_change, request, pair_id, lambda store: undo(store, pair_id, name, version))


def _change(request: Request, pair_id: int, change) -> Response:
    store = request.app.state.review.store()
    try:
        alignment = change(store)
    except KeyError:
        raise NotFound(f"no alignment {pair_id}") from None
    except OpError as exc:
        raise BadRequest(str(exc)) from None
    except Stale as exc:
        return JSONResponse({"error": str(exc), "alignment": alignment_json(store, exc.alignment)}, 409)
    return JSONResponse(alignment_json(store, alignment))


# ---- pages ---------------------------------------------------------------------------------------
def list_page(request: Request) -> Response:
    context = request.app.state.review
    return context.templates.TemplateResponse(request, "alignments.html", {
        "alignments": summaries(context.store()), "csrf_token": context.csrf_token,
        "reviewer": context.reviewer or ""})


def alignment_page(request: Request) -> Response:
    context = request.app.state.review
    store, alignment = _load(request)
    data = alignment_json(store, alignment)
    return context.templates.TemplateResponse(request, "alignment.html", {
        "alignment": data, "csrf_token": context.csrf_token, "reviewer": context.reviewer or "",
        "good_threshold": GOOD_THRESHOLD, "readonly": context.readonly})
