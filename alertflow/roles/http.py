"""Pieces every role's HTTP side shares: health, readiness, metrics, JSON errors, serving."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

from hypercorn.asyncio import serve
from hypercorn.config import Config, Sockets
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from alertflow import metrics
from alertflow.roles.hypercorn_cycles import free_closed_connections

ReadinessCheck = Callable[[], dict[str, bool]]


def health_routes(readiness: ReadinessCheck,
                  before_scrape: Callable[[], None] | None = None) -> list[Route]:
    """/healthz, /readyz and /metrics; `before_scrape` sets gauges too costly to keep current."""
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
        readiness()  # refreshes the connection gauges: a scrape alone must not read stale ones
        # Live tasks: a leak (a task left behind per vanished client) shows as steady growth.
        metrics.event_loop_tasks.set(len(asyncio.all_tasks()))
        if before_scrape is not None:
            before_scrape()
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


class _Config(Config):
    """Hypercorn's config, with a kernel-enforced deadline for unacknowledged sends."""

    send_timeout_s: float | None = None

    def create_sockets(self) -> Sockets:
        sockets = super().create_sockets()
        user_timeout = getattr(socket, "TCP_USER_TIMEOUT", None)  # Linux only
        if self.send_timeout_s and user_timeout is not None:
            # Accepted connections inherit it. A peer that stops reading (zero window) or
            # vanishes makes Hypercorn's drain() wait forever; with this the kernel aborts the
            # connection instead, so its buffers and tasks are freed.
            for sock in sockets.insecure_sockets:
                sock.setsockopt(socket.IPPROTO_TCP, user_timeout,
                                int(self.send_timeout_s * 1000))
        return sockets


async def serve_app(app: Any, host: str, port: int, shutdown: asyncio.Event,
                    graceful_timeout: float = 10.0, send_timeout_s: float | None = None) -> None:
    """Serve `app` with Hypercorn until `shutdown` is set, then drain open requests."""
    free_closed_connections()
    config = _Config()
    config.send_timeout_s = send_timeout_s
    config.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    config.graceful_timeout = graceful_timeout
    config.accesslog = None
    config.errorlog = None
    config.keep_alive_timeout = 75
    await serve(app, config, shutdown_trigger=shutdown.wait)
