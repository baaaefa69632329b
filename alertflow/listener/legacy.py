"""`POST /api/alerts` (with or without the trailing slash): the original sources' format."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alertflow.domain.alert import parse_legacy
from alertflow.listener.ingest import Ingest


def routes(ingest: Ingest) -> list[Route]:
    async def post(request: Request) -> Response:
        return await ingest.handle(request, parse_legacy)

    return [Route("/api/alerts", post, methods=["POST"]),
            Route("/api/alerts/", post, methods=["POST"])]
