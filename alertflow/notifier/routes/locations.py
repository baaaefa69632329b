"""`GET /v1/locations`: the location catalog, as the dashboard and apps read it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from alertflow.catalog import catalog_json
from alertflow.notifier.routes.context import RouteContext


def routes(context: RouteContext) -> list[BaseRoute]:
    body = catalog_json(context.catalog)  # built once: the catalog does not change at run time

    async def get_locations(_request: Request) -> Response:
        return Response(body, media_type="application/json",
                        headers={"Cache-Control": "public, max-age=3600"})

    return [Route("/v1/locations", get_locations, methods=["GET"])]
