"""Pieces every role's HTTP side shares: health, readiness, metrics, JSON errors, serving."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from hypercorn.asyncio import serve
from hypercorn.config import Config
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from alertflow import metrics

ReadinessCheck = Callable[[], dict[str, bool]]


def health_routes(readiness: ReadinessCheck) -> list[Route]:
    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def readyz(_request: Request) -> Response:
        checks = readiness()
        ready = all(checks.values())
        return JSONResponse(
            {"ready": ready, "checks": checks,
             "missing": [name for name, ok in checks.items() if not ok]},
            status_code=200 if ready else 503,
        )

    async def metrics_endpoint(_request: Request) -> Response:
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]


def error(status: int, error_code: str, field: str, reason: str,
          headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": error_code, "field": field, "reason": reason,
                            "status": status}
    return JSONResponse(body, status_code=status, headers=headers)


async def serve_app(app: Any, host: str, port: int, shutdown: asyncio.Event,
                    graceful_timeout: float = 10.0) -> None:
    """Serve `app` with Hypercorn until `shutdown` is set, then drain open requests."""
    config = Config()
    config.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    config.graceful_timeout = graceful_timeout
    config.accesslog = None
    config.errorlog = None
    config.keep_alive_timeout = 75
    await serve(app, config, shutdown_trigger=shutdown.wait)
