"""`GET /v1/events`: the most recent events of the stream, with its epoch and seq.

`limit=N` (default 200), and optionally only some places and times: `locations=NAME` and
`zones=NAME` (repeatable, any name in any language, as in `subscribe`) and `since_ms=EPOCH_MS`
(events that happened at or after it). A page reloads its areas' last 24 h from here.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from alertflow.backends.ports import StoreUnavailable
from alertflow.domain.history import EventFilter
from alertflow.domain.subscriptions import SubscriptionError, parse_subscription
from alertflow.notifier.routes.context import RouteContext

QUERY_KEYS = frozenset({"limit", "locations", "zones", "since_ms"})


def _invalid(field: str, reason: str) -> Response:
    return JSONResponse({"error": "invalid_query", "field": field, "reason": reason},
                        status_code=422)


def routes(context: RouteContext) -> list[BaseRoute]:
    limit = context.config.history_limit

    async def get_events(request: Request) -> Response:
        query = request.query_params
        unknown = sorted(set(query) - QUERY_KEYS)
        if unknown:
            return _invalid(unknown[0], "unknown parameter: limit, locations, zones, since_ms")
        raw = query.get("limit", "200")
        if not raw.isdigit() or not 1 <= int(raw) <= limit:
            return _invalid("limit", f"an integer 1…{limit}")
        where = None
        names = {"locations": query.getlist("locations"), "zones": query.getlist("zones")}
        since = query.get("since_ms")
        if since is not None and not since.isdigit():
            return _invalid("since_ms", "epoch milliseconds (a non-negative integer)")
        if names["locations"] or names["zones"] or since is not None:
            try:
                wanted = parse_subscription({k: v for k, v in names.items() if v},
                                            context.catalog, None)
            except SubscriptionError as exc:
                return _invalid(exc.field, exc.reason)
            where = EventFilter(locations=wanted.locations, zones=wanted.zones,
                                since_ms=int(since) if since is not None else None)
        try:
            stored = await context.store.recent_events(int(raw), where)
        except StoreUnavailable:
            return JSONResponse({"error": "unavailable", "field": "$",
                                 "reason": "the event stream cannot be read; retry"},
                                status_code=503, headers={"Retry-After": "1"})
        seq = stored.events[-1]["seq"] if stored.events else context.feed.last_seq
        return JSONResponse({"epoch": stored.epoch, "seq": seq, "events": stored.events})

    return [Route("/v1/events", get_events, methods=["GET"])]
