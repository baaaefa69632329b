"""`GET /v1/events?limit=N`: the most recent events of the stream, with its epoch and seq."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from alertflow.backends.ports import StoreUnavailable
from alertflow.notifier.routes.context import RouteContext


def routes(context: RouteContext) -> list[BaseRoute]:
    limit = context.config.history_limit

    async def get_events(request: Request) -> Response:
        raw = request.query_params.get("limit", "200")
        if not raw.isdigit() or not 1 <= int(raw) <= limit:
            return JSONResponse({"error": "invalid_query", "field": "limit",
                                 "reason": f"an integer 1…{limit}"}, status_code=422)
        try:
            stored = await context.store.recent_events(int(raw))
        except StoreUnavailable:
            return JSONResponse({"error": "unavailable", "field": "$",
                                 "reason": "the event stream cannot be read; retry"},
                                status_code=503, headers={"Retry-After": "1"})
        seq = stored.events[-1]["seq"] if stored.events else context.feed.last_seq
        return JSONResponse({"epoch": stored.epoch, "seq": seq, "events": stored.events})

    return [Route("/v1/events", get_events, methods=["GET"])]
