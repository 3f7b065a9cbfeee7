"""The review page's routes for team review (see ``team``), and what the templates show of it.

They come before the single-user routes in the app: each handler serves a store without reviewers by
handing the request to the single-user handler unchanged. The reviewer is the one the guard found for
the request's token (``request.state.reviewer``), never a name in the body.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..store import REJECT_REASONS
from . import actions, agreement, pages
from .errors import BadRequest, NotFound
from .pages import integer, kept_query, pair_json, pair_view, parse_filter, parse_order, path_id
from .team import Conflict, LeadOnly, Reviewer, TeamWork

PAIR_VERBS = ("approve", "reject", "edit", "reason")


def routes() -> list[Route]:
    return [
        Route("/", list_page),
        Route("/api/next-pending", next_pending),
        Route("/api/pairs/{pair_id}/{verb}", pair_action, methods=["POST"]),
        Route("/api/bulk-approve", bulk_approve, methods=["POST"]),
        Route("/api/undo", undo, methods=["POST"]),
        Route("/adjudicate", adjudication_page),
        Route("/api/adjudicate/{pair_id}", adjudicate, methods=["POST"]),
        Route("/api/team/release", release, methods=["POST"]),
        Route("/api/team/me", me_json),
    ]


def reviewer_of(request: Request) -> Reviewer | None:
    return getattr(request.state, "reviewer", None)


def work(request: Request) -> TeamWork:
    """The team rules over this thread's store connection: call it in the thread that uses it."""
    context = request.app.state.review
    return TeamWork(context.store(), request.app.state.team, context.decisions())


def _refused(exc: Exception, status: int) -> JSONResponse:
    return JSONResponse({"error": str(exc), **getattr(exc, "details", {})}, status)


# ---- the list and next pending --------------------------------------------------------------------
def list_page(request: Request) -> Response:
    """The first page of the worst-first order hands the reviewer their claimed pairs: it opens at the
    first of them (claiming a batch when they hold none)."""
    me = reviewer_of(request)
    q = request.query_params
    if (me is not None and q.get("sort") == "score" and q.get("status", "") in ("", "pending")
            and not any(q.get(k) for k in ("after", "before", "from"))):
        pair_id = work(request).next_pending(me, parse_order(request), parse_filter(request))
        if pair_id is not None:
            return RedirectResponse("/?" + urlencode({**kept_query(request), "from": pair_id}) + f"#pair-{pair_id}",
                                    303)
    return pages.list_page(request)


def next_pending(request: Request) -> Response:
    me = reviewer_of(request)
    if me is None:
        return pages.next_pending_json(request)
    pair_id = work(request).next_pending(me, parse_order(request), parse_filter(request))
    if pair_id is None:
        return JSONResponse({"id": None})
    return JSONResponse({"id": pair_id, "url": "/?" + urlencode({**kept_query(request), "from": pair_id})
                         + f"#pair-{pair_id}"})


# ---- actions on one pair ------------------------------------------------------------------------
async def pair_action(request: Request) -> Response:
    me = reviewer_of(request)
    if me is None:
        return await actions.pair_action(request)
    verb = request.path_params["verb"]
    if verb in ("flag", "send-back"):
        return await lead_pair_action(request, me, verb)
    body = await actions.checked_body(request)
    pair_id = path_id(request, "pair_id", "pair")
    if verb not in PAIR_VERBS:
        raise NotFound(f"unknown action {verb!r}")
    text = body.get("text") if isinstance(body.get("text"), str) else None
    if text is not None and len(text) > actions.MAX_EDIT_CHARS:
        raise BadRequest(f"the edit is longer than {actions.MAX_EDIT_CHARS} characters")
    try:
        mode = await run_in_threadpool(lambda: work(request).admit(me, pair_id, verb, text))
    except KeyError:
        raise NotFound(f"no pair {pair_id}") from None
    except Conflict as exc:
        return _refused(exc, 409)
    if mode == "vote":
        return await run_in_threadpool(_vote, request, me, pair_id, verb, body)
    response = await actions.pair_action(request)
    if response.status_code == 200:
        log_ids = json.loads(response.body)["log_ids"]

        if me.is_lead and log_ids:
            await run_in_threadpool(lambda: work(request).settle(me, pair_id, log_ids[0]))
    return response


def _vote(request: Request, me: Reviewer, pair_id: int, verb: str, body: dict) -> Response:
    team = work(request)
    if verb == "reason" and body.get("reason") not in (None, *REJECT_REASONS):
        raise BadRequest(f"unknown reason {body.get('reason')!r}: use one of {', '.join(REJECT_REASONS)}")
    try:
        vote = team.vote(me, pair_id, verb, body)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    pair = pair_json(request.app.state.review.queries().pair(pair_id))
    # the voter sees their own vote (the pair stays pending for the second reviewer, who sees nothing of it)
    pair.update(status=vote["status"], target=vote["text"] or pair["target"],
                reject_reason=vote["reason"], reject_reason_text=pages.REASON_LABELS.get(vote["reason"] or "", ""))
    if vote["outcome"] == "reason":
        pair["reject_comment"] = (body.get("comment") or "").strip()[:500] or None
    return JSONResponse({"pair": pair, "log_ids": [], "changed": True, "vote": vote})


async def lead_change(request: Request, pair_id: int, change: Callable[[TeamWork], dict]) -> Response:
    """Run a lead's change of one pair (off the event loop) and answer what it returns with the pair as it
    now is: a reviewer who is no lead gets 403, an unknown pair 404, a value the change refuses 400."""
    def act() -> Response:
        try:
            answer = change(work(request))
        except LeadOnly as exc:
            return _refused(exc, 403)
        except KeyError:
            raise NotFound(f"no pair {pair_id}") from None
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        return JSONResponse({**answer, "pair": pair_json(request.app.state.review.queries().pair(pair_id))})
    return await run_in_threadpool(act)


async def lead_pair_action(request: Request, me: Reviewer, verb: str) -> Response:
    body = await actions.checked_body(request)
    pair_id = path_id(request, "pair_id", "pair")
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise BadRequest("a comment is a string")

    def change(team: TeamWork) -> dict:
        if verb == "flag":
            team.flag(me, pair_id, comment)
            return {"flagged": pair_id}
        return {"sent_back_to": team.send_back(me, pair_id, comment or "")}
    return await lead_change(request, pair_id, change)


async def bulk_approve(request: Request) -> Response:
    me = reviewer_of(request)
    if me is not None and not me.is_lead:
        await actions.checked_body(request)
        return _refused(LeadOnly("only a lead can bulk approve in team review (it would take pairs others "
                                 "hold)"), 403)
    return await actions.bulk_approve(request)


async def undo(request: Request) -> Response:
    me = reviewer_of(request)
    if me is None:
        return await actions.undo(request)
    body = await actions.checked_body(request)
    batch = integer(str(body["batch"]), "batch") if body.get("batch") is not None else None
    log_ids = [] if batch is not None else actions._id_list(body.get("log_ids"))
    try:
        await run_in_threadpool(lambda: work(request).check_undo(me, log_ids, batch))
    except Conflict as exc:
        return _refused(exc, 409)
    return await actions.undo(request)


# ---- the lead's queue ---------------------------------------------------------------------------
def adjudication_page(request: Request) -> Response:
    me = reviewer_of(request)
    if me is None:
        raise NotFound("no adjudication queue: this store has no reviewer accounts (translate review users add)")
    if not me.is_lead:
        return JSONResponse({"error": "only a lead sees the adjudication queue"}, 403) \
            if request.url.path.startswith("/api/") else Response("403: only a lead sees the adjudication queue",
                                                                  403, media_type="text/plain")
    context = request.app.state.review
    store, queries = context.store(), context.queries()
    items = []
    for item in store.adjudication_queue():
        row = queries.pair(item["translation_id"])
        if row is None:
            continue
        with_votes = store.votes_on(store.db, item["translation_id"])
        items.append({"item": dict(item), "pair": pair_view(row), "votes": [dict(v) for v in with_votes],
                      "decided_by": store.decided_by(store.db, item["translation_id"])})
    return context.templates.TemplateResponse(request, "adjudicate.html", {
        **pages.base_context(), "items": items, "csrf_token": context.csrf_token, "reviewer": me.name,
        "reason_labels": pages.REASON_LABELS})


async def adjudicate(request: Request) -> Response:
    me = reviewer_of(request)
    body = await actions.checked_body(request)
    if me is None:
        raise NotFound("no adjudication queue: this store has no reviewer accounts")
    pair_id = path_id(request, "pair_id", "pair")
    status, text, reason, comment = (body.get(k) for k in ("status", "text", "reason", "comment"))
    if not all(v is None or isinstance(v, str) for v in (status, text, reason, comment)):
        raise BadRequest("status, text, reason and comment are strings")
    if reason is not None and reason not in REJECT_REASONS:
        raise BadRequest(f"unknown reason {reason!r}: use one of {', '.join(REJECT_REASONS)}")
    if text is not None and len(text) > actions.MAX_EDIT_CHARS:
        raise BadRequest(f"the edit is longer than {actions.MAX_EDIT_CHARS} characters")

    return await lead_change(request, pair_id, lambda team: {
        "log_id": team.adjudicate(me, pair_id, status or "", text, reason, comment)})


async def release(request: Request) -> Response:
    me = reviewer_of(request)
    body = await actions.checked_body(request)
    if me is None:
        raise NotFound("no claims: this store has no reviewer accounts")
    name = body.get("reviewer")
    if not isinstance(name, str) or not name.strip():
        raise BadRequest("name the reviewer whose claims to release ('reviewer')")
    try:
        count = await run_in_threadpool(lambda: work(request).release(me, name.strip()))
    except LeadOnly as exc:
        return _refused(exc, 403)
    except KeyError:
        raise NotFound(f"no reviewer {name.strip()!r}") from None
    return JSONResponse({"released": count})


def me_json(request: Request) -> Response:
    me = reviewer_of(request)
    return JSONResponse({"name": me.name, "role": me.role} if me else {"name": None, "role": None})


# ---- what the templates show (a Jinja2 context processor) ------------------------------------------
class TeamView:
    """``team`` in the templates of a team-mode request: the reviewer, the marks of one pair (claimed by
    whom, the reviewer's own blind vote, a lead's note), and the stats page's team figures."""

    def __init__(self, request: Request, me: Reviewer):
        self.request, self.me, self.at = request, me, time.time()

    def mark(self, pair_id: int) -> dict:
        store = self.request.app.state.review.store()
        claim = store.claim_marks([pair_id], self.at).get(pair_id)
        vote = store.my_votes(self.me.id, [pair_id]).get(pair_id)
        holder, note = claim if claim else (None, None)
        return {"claim": None if holder is None else "mine" if holder == self.me.name else "other",
                "holder": holder, "note": note if holder == self.me.name else None,
                "vote": vote["status"] if vote else None}

    def figures(self) -> dict:
        return agreement.team_figures(self.request.app.state.review.store())


def template_context(request: Request) -> dict:
    me = reviewer_of(request)
    return {"team": TeamView(request, me) if me is not None else None, "me": me}
