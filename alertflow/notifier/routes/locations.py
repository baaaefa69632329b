"""`GET /v1/locations`: the location catalog, as the dashboard and apps read it, and
`GET /v1/aliases`: other names for its places (the listener's alias table), for searches."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from alertflow.catalog import catalog_json, load_aliases
from alertflow.notifier.routes.context import RouteContext


def routes(context: RouteContext) -> list[BaseRoute]:
    body = catalog_json(context.catalog)  # built once: the catalog does not change at run time

    async def get_locations(_request: Request) -> Response:
        return Response(body, media_type="application/json",
                        headers={"Cache-Control": "public, max-age=3600"})

    # The table names places of the bundled catalog: serve the entries this catalog has (an
    # area, a zone, or a split city: the common prefix of its areas' names).
    ids = list(context.catalog.areas)
    zones = {area.zone for area in context.catalog.areas.values()}
    known = {name: names for name, names in load_aliases().items()
             if name in zones or any(i == name or i.startswith(name + " -") for i in ids)}
    aliases = json.dumps({"aliases": known}, ensure_ascii=False).encode()

    async def get_aliases(_request: Request) -> Response:
        return Response(aliases, media_type="application/json",
                        headers={"Cache-Control": "public, max-age=3600"})

    return [Route("/v1/locations", get_locations, methods=["GET"]),
            Route("/v1/aliases", get_aliases, methods=["GET"])]
