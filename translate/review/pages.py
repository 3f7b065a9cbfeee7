"""The pages (list of pairs, one document, stats) and the read-only JSON the list page asks for
(counts, context, history, next pending pair). Rendered on the server. The handlers are plain functions,
so Starlette runs them in its thread pool, each thread with its own SQLite connection."""
from __future__ import annotations

import json
import math
import threading
import time
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..clean import FILTERS
from ..score import BAD_THRESHOLD, GOOD_THRESHOLD
from ..store import REJECT_REASONS, STATUSES
from . import charts
from .errors import BadRequest, NotFound
from .explain import LEGEND, ORIGINS, reasons, shown_score
from .queries import ORDERS, SORT_LABELS, Filter, Order

PAGE_SIZE = 50
MAX_DOCUMENT_CHOICES = 100
MAX_ID = 2 ** 63 - 1                    # SQLite's integer range: larger ids cannot exist
QUERY_KEYS = ("status", "min", "max", "doc", "q", "reason", "sort", "superseded")
REASON_LABELS = {"misaligned": "misaligned", "omission": "omission", "addition": "addition",
                 "untranslated": "untranslated or wrong language", "mistranslation": "mistranslation",
                 "poor-english": "poor English", "other": "other"}


def routes() -> list[Route]:
    return [
        Route("/", list_page),
        Route("/doc/{document_id}", document_page),
        Route("/stats", stats_page),
        Route("/healthz", lambda request: PlainTextResponse("ok")),
        Route("/api/counts", counts_json),
        Route("/api/next-pending", next_pending_json),
        Route("/api/position", position_json),
        Route("/api/pairs/{pair_id}/context", context_json),
        Route("/api/pairs/{pair_id}/history", history_json),
    ]


# ---- parsing what the address says ---------------------------------------------------------------
def parse_filter(request: Request) -> Filter:

    q = request.query_params
    flt = Filter()
    status = q.get("status", "")
    if status:
        if status not in STATUSES:
            raise BadRequest(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
        flt.status = status
    reason = q.get("reason", "")
    if reason:
        if reason not in REJECT_REASONS:
            raise BadRequest(f"unknown reason {reason!r}: use one of {', '.join(REJECT_REASONS)}")
        flt.reason = reason
    if q.get("min", "").strip():
        flt.min_score = number(q["min"], "min score")
    if q.get("max", "").strip():
        flt.max_score = number(q["max"], "max score")
    if q.get("doc", "").strip():
        flt.document_id = integer(q["doc"], "document")
    if q.get("q", "").strip():
        flt.search = q["q"].strip()[:200]
    flt.superseded = q.get("superseded", "") == "1"
    return flt


def parse_order(request: Request) -> Order:

    sort = request.query_params.get("sort", "") or "doc"
    if sort not in ORDERS:
        raise BadRequest(f"unknown sort {sort!r}: use one of {', '.join(ORDERS)}")
    return ORDERS[sort]


def number(text: str, what: str) -> float:

    try:
        value = float(text)
    except ValueError:
        raise BadRequest(f"{what}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise BadRequest(f"{what}: {text!r} is not a finite number")
    return value


def integer(text: str, what: str) -> int:
    """A whole number in SQLite's range (an id past 64 bits is a bad request, not a crash)."""

    text = str(text).strip()
    if not text.isdigit() or len(text) > 19 or int(text) > MAX_ID:
        raise BadRequest(f"{what}: {text[:40]!r} is not an id (a whole number up to {MAX_ID})")
    return int(text)


def path_id(request: Request, name: str, what: str) -> int:
    """An id from the path: anything that cannot be one is simply not found."""

    text = request.path_params[name]
    if not text.isdigit() or len(text) > 19 or int(text) > MAX_ID:
        raise NotFound(f"no {what} {text[:40]!r}")
    return int(text)


def kept_query(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if k in QUERY_KEYS and v}


# ---- what the templates show of a pair ---------------------------------------------------------
def pair_view(row) -> dict:
    try:
        signals = json.loads(row["signals"]) if row["signals"] else {}
    except ValueError:
        signals = {}
    shown = {k: (f"{v:.3f}" if isinstance(v, float) else json.dumps(v, ensure_ascii=False)
                 if not isinstance(v, str) else v) for k, v in signals.items()}
    position = f"{row['sentence'] + 1}" + (f".{row['part'] + 1}" if row["part"] else "")
    if row["segment_count"] > 1:
        position += f" +{row['segment_count'] - 1}"
    target = row["edited_text"] or row["mt_text"]
    label = row["label"] or "none"
    origin = ORIGINS.get(row["origin"], row["origin"])
    return {"id": row["id"], "status": row["status"], "source": row["source"], "target": target,
            "original": row["mt_text"], "edited": row["edited_text"] is not None,
            "origin": row["origin"], "origin_text": origin, "model": row["model"], "bridge": row["bridge"],
            "score": row["score"], "score_text": shown_score(row["score"]), "label": label, "signals": shown,
            "reasons": reasons(row["source"], target, signals, row["label"]),
            "reject_reason": row["reject_reason"], "reject_comment": row["reject_comment"],
            "reject_reason_text": REASON_LABELS.get(row["reject_reason"] or "", ""),
            "document": row["document"], "document_id": row["document_id"], "position": position}


def pair_json(row) -> dict:
    view = pair_view(row)
    del view["signals"]
    return view


def base_context() -> dict:
    return {"legend": LEGEND, "good_threshold": GOOD_THRESHOLD, "bad_threshold": BAD_THRESHOLD,
            "reasons": [(r, REASON_LABELS[r]) for r in REJECT_REASONS]}


def with_alignment_links(context, views: list[dict]) -> list[dict]:
    """Each pair a link of an alignment makes gets ``alignment``: (document pair id, row) for /align/ID."""
    links = context.store().link_rows_of([v["id"] for v in views if v["origin"] == "human"])
    for view in views:
        view["alignment"] = links.get(view["id"])
    return views


# ---- the list ------------------------------------------------------------------------------------
def list_page(request: Request) -> Response:
    context = request.app.state.review
    flt, order = parse_filter(request), parse_order(request)
    q = request.query_params
    cursors = {name: integer(q[name], name) for name in ("after", "before", "from") if q.get(name, "").strip()}
    if len(cursors) > 1:
        raise BadRequest("give only one of after, before and from")
    queries = context.queries()
    page = queries.page(order, flt, after=cursors.get("after"), before=cursors.get("before"),
                        start=cursors.get("from"), size=PAGE_SIZE)
    if page is None:
        raise NotFound(f"no pair {next(iter(cursors.values()))}" + (" with a score" if order.name != "doc" else ""))
    # the whole store's counts read one index; a filter's may read every pair it matches, so the page
    # asks for them (/api/counts) once it is shown rather than waiting for them
    store_counts = queries.counts()
    filter_counts = store_counts if flt == Filter() else None
    # the position of the first row: carried by the pager's links (`at`); a page opened at some pair
    # without it asks /api/position once loaded (a count of every pair before it is not worth a slower page)
    if not (page.rows and page.has_previous):
        first = 1
    elif q.get("at", "").strip():
        first = integer(q["at"], "at")
    else:
        first = None
    kept = kept_query(request)
    documents = queries.documents(limit=MAX_DOCUMENT_CHOICES + 1)
    if len(documents) > MAX_DOCUMENT_CHOICES:
        documents = None          # past that the document id is typed (or a document name in a row clicked)
    if documents is not None and flt.document_id is not None and all(d["id"] != flt.document_id for d in documents):
        documents = documents + [{"id": flt.document_id, "path": f"document {flt.document_id}"}]
    rows = page.rows
    return context.templates.TemplateResponse(request, "review.html", {
        **base_context(),
        "pairs": with_alignment_links(context, [pair_view(r) for r in rows]),
        "query": kept,
        "query_string": urlencode(kept),
        "statuses": STATUSES,
        "sorts": SORT_LABELS,
        "sort": order.name,
        "documents": documents,
        "document_id": flt.document_id,
        "csrf_token": context.csrf_token,
        "reviewer": context.reviewer or "",
        "prev_url": "/?" + urlencode({**kept, "before": rows[0]["id"]}
                                     | ({"at": max(first - PAGE_SIZE, 1)} if first else {}))
        if rows and page.has_previous else None,
        "next_url": "/?" + urlencode({**kept, "after": rows[-1]["id"]}
                                     | ({"at": first + len(rows)} if first else {}))
        if rows and page.has_next else None,
        "first_position": first,
        "last_position": first + len(rows) - 1 if first else None,
        "first_id": rows[0]["id"] if rows else None,
        "filter_counts": filter_counts,
        "store_counts": store_counts,
        "filtered": flt != Filter(),
    })


# ---- one document --------------------------------------------------------------------------------
def document_page(request: Request) -> Response:
    context = request.app.state.review
    document_id = path_id(request, "document_id", "document")
    doc, rows = context.queries().document(document_id)
    if doc is None:
        raise NotFound(f"no document {document_id}")
    counts = {s: 0 for s in STATUSES}
    for r in rows:
        counts[r["status"]] += 1
    return context.templates.TemplateResponse(request, "document.html", {
        **base_context(), "doc": doc, "pairs": with_alignment_links(context, [pair_view(r) for r in rows]),
        "counts": counts, "alignments": context.store().alignments_of_document(document_id),
        "csrf_token": context.csrf_token, "reviewer": context.reviewer or ""})


# ---- stats ---------------------------------------------------------------------------------------
STATS_BINS = 20


def stats_page(request: Request) -> Response:
    context = request.app.state.review
    figures, as_of, stale = stats_figures(context)
    return context.templates.TemplateResponse(request, "stats.html", {
        **base_context(), **figures, "reason_labels": REASON_LABELS, "as_of": as_of, "stale": stale,
        "training": training_figures(context), "filter_reasons": dict(FILTERS),
        "csrf_token": context.csrf_token, "reviewer": context.reviewer or ""})


def stats_figures(context) -> tuple[dict, str, bool]:
    """The stats page's figures, (figures, as-of time, stale). They read every pair (about a second on
    200,000), so they are kept and served while a fresh copy is computed in the background after the
    store changed; the page says when its figures are from."""
    fingerprint = context.queries().fingerprint()
    cache = context.stats_cache
    with cache.setdefault("lock", threading.Lock()):
        cached = cache.get("figures")
        if cached is not None and cached[0] != fingerprint and not cache.get("refreshing"):
            cache["refreshing"] = True
            threading.Thread(target=_refresh_stats, args=(context,), daemon=True).start()
    if cached is None:
        cached = _refresh_stats(context)
    return cached[1], cached[2], cached[0] != fingerprint


def _refresh_stats(context) -> tuple:
    from ..store import Store
    from .queries import ReviewQueries

    # a connection of its own: this runs outside the request threads
    with Store(context.db, create=False, readonly=True) as store:
        queries = ReviewQueries(store)
        fingerprint = queries.fingerprint()
        by_status = queries.score_histogram("status", STATS_BINS)
        by_model = queries.score_histogram("model", STATS_BINS)
        figures = {
            "status_chart": charts.histograms(by_status, STATUSES, GOOD_THRESHOLD, BAD_THRESHOLD),
            "model_chart": charts.histograms(by_model, sorted(by_model), GOOD_THRESHOLD, BAD_THRESHOLD),
            "documents": [dict(r) for r in queries.document_summary(25)],
            "reasons": queries.reasons(),
            "progress": [dict(r) for r in queries.progress_by_day(60)],
            "counts": queries.counts(),
        }
    figures["progress_chart"] = charts.progress(figures["progress"])
    entry = (fingerprint, figures, time.strftime("%H:%M:%S"))
    context.stats_cache["figures"] = entry
    context.stats_cache["refreshing"] = False
    return entry


def training_figures(context) -> dict | None:
    """The counts of a default `translate export --clean` of the store (translate.clean_export.preview),
    or None while they are first computed: they check every pair (seconds on 100,000), so they are
    computed in a thread of their own, again whenever the store changed, and never hold up the page."""
    fingerprint = context.queries().fingerprint()
    cache = context.stats_cache
    with cache.setdefault("lock", threading.Lock()):
        entry = cache.get("training")
        if (entry is None or entry[0] != fingerprint) and not cache.get("training_running"):
            cache["training_running"] = True
            threading.Thread(target=_refresh_training, args=(context,), daemon=True).start()
    return entry[1] if entry else None


def _refresh_training(context) -> None:
    from ..clean_export import preview
    from ..store import Store
    from .queries import ReviewQueries

    try:
        with Store(context.db, create=False, readonly=True) as store:
            fingerprint = ReviewQueries(store).fingerprint()
            context.stats_cache["training"] = (fingerprint, preview(store))
    finally:
        context.stats_cache["training_running"] = False


# ---- JSON for the list page ----------------------------------------------------------------------
def counts_json(request: Request) -> Response:
    queries = request.app.state.review.queries()
    flt = parse_filter(request)
    filtered = queries.counts(flt)
    return JSONResponse({"filter": filtered, "store": filtered if flt == Filter() else queries.counts()})


def next_pending_json(request: Request) -> Response:
    queries = request.app.state.review.queries()
    flt, order = parse_filter(request), parse_order(request)
    after = request.query_params.get("after", "").strip()
    pair_id = queries.next_pending(order, flt, integer(after, "after") if after else None)
    if pair_id is None:
        return JSONResponse({"id": None})
    kept = kept_query(request)
    return JSONResponse({"id": pair_id, "url": "/?" + urlencode({**kept, "from": pair_id}) + f"#pair-{pair_id}"})


def position_json(request: Request) -> Response:
    """{"position": rank of pair ``id`` in the filtered order} (1-based)."""
    queries = request.app.state.review.queries()
    flt, order = parse_filter(request), parse_order(request)
    pair_id = integer(request.query_params.get("id", ""), "id")
    if queries.key_of(order, pair_id) is None:
        raise NotFound(f"no pair {pair_id}")
    return JSONResponse({"position": queries.position(order, flt, pair_id)})


def context_json(request: Request) -> Response:
    pair_id = path_id(request, "pair_id", "pair")
    found = request.app.state.review.queries().context(pair_id)
    if found is None:
        raise NotFound(f"no pair {pair_id}")
    side = lambda row: None if row is None else {  # noqa: E731
        "id": row["id"], "source": row["source"], "target": row["edited_text"] or row["mt_text"],
        "status": row["status"]}
    return JSONResponse({"before": side(found[0]), "after": side(found[1])})


def history_json(request: Request) -> Response:
    pair_id = path_id(request, "pair_id", "pair")
    data = request.app.state.review.queries().history(pair_id)
    if not data:
        raise NotFound(f"no pair {pair_id}")
    data["origin_text"] = ORIGINS.get(data["origin"], data["origin"])
    for edit in data["edits"]:
        edit["old_score_text"] = shown_score(edit["old_score"])
    return JSONResponse(data)
