"""The notifier's HTTP routes, one module per resource; each module's `routes(context)` gives
its routes, and `notifier_routes` lists them all (add a new module's routes there). Web Push's
routes (`push`) need the push store, so the notify role adds them itself when it is configured."""

from __future__ import annotations

from starlette.routing import BaseRoute

from alertflow.notifier.routes import cap_feed, events, hfc_feed, locations
from alertflow.notifier.routes.context import RouteContext

__all__ = ["RouteContext", "notifier_routes"]


def notifier_routes(context: RouteContext) -> list[BaseRoute]:
    return [*locations.routes(context), *events.routes(context), *hfc_feed.routes(context),
            *cap_feed.routes(context)]
