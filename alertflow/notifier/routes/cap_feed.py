"""CAP 1.2 out (alertflow.domain.cap_out): `GET /v1/cap`, an Atom feed of the open windows
(cached like the national feed's paths: rebuilt once per change of the feed's position, ETag,
304), and `GET /v1/cap/{incident_id}.xml`, a window's CAP message: Alert while it is open,
Cancel once an all-clear closed it early (found among the stream's recent events); 404 for a
window that is unknown or ended on its own (it expired: nothing to withdraw)."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from alertflow.backends.ports import StoreUnavailable
from alertflow.domain import cap_out
from alertflow.notifier.routes.context import RouteContext
from alertflow.notifier.routes.hfc_feed import CachedBody, serve
from alertflow.roles.http import error

CAP_MEDIA_TYPE = "application/cap+xml"
_INCIDENT_ID = re.compile(r"^[0-9A-Za-z_.:\-]{1,128}$")


def routes(context: RouteContext) -> list[BaseRoute]:
    def position() -> tuple[str, int]:
        return context.feed.epoch, context.feed.last_seq

    async def build_atom() -> bytes:
        return cap_out.atom((await context.store.snapshot()).incidents)

    get_atom = serve(CachedBody(position, build_atom), "application/atom+xml")

    async def get_message(request: Request) -> Response:
        incident_id = request.path_params["incident_id"]
        if not _INCIDENT_ID.match(incident_id):
            return error(404, "no such alert window", "incident_id", "not a window id")
        try:
            snapshot = await context.store.snapshot()
            for incident in snapshot.incidents:
                if str(incident["incident_id"]) == incident_id and not incident.get("late"):
                    return Response(cap_out.alert(incident, context.catalog),
                                    media_type=CAP_MEDIA_TYPE)
            recent = await context.store.recent_events(context.config.history_limit)
        except StoreUnavailable:
            return error(503, "store unavailable", "$", "try again",
                         headers={"Retry-After": "1"})
        for event in reversed(recent.events):
            if (event["kind"] == "close" and str(event["incident_id"]) == incident_id
                    and event.get("reason") == "cancelled" and not event.get("superseded")):
                return Response(cap_out.cancel(event, context.catalog), media_type=CAP_MEDIA_TYPE)
        return error(404, "no such alert window", "incident_id",
                     "not open, and not cancelled among the recent events")

    return [Route("/v1/cap", get_atom, methods=["GET"]),
            Route("/v1/cap/{incident_id}.xml", get_message, methods=["GET"])]
