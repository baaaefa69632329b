"""`POST /v1/alerts`: alertflow's own JSON (one alert or a barrage)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alertflow.domain.alert import parse_v1
from alertflow.listener.ingest import Ingest


def routes(ingest: Ingest) -> list[Route]:
    async def post(request: Request) -> Response:
        return await ingest.handle(request, parse_v1)

    return [Route("/v1/alerts", post, methods=["POST"])]
