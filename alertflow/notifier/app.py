"""The notifier's ASGI app: Socket.IO at /socket.io/ behind the packet guard, the HTTP routes,
health, and the dashboard at / — every answer with the security headers (http_security)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import socketio
import structlog
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from alertflow import metrics
from alertflow.domain.origins import AllowedOrigins
from alertflow.http_security import cors_middleware, security_headers
from alertflow.notifier.client_queue import marking_polls
from alertflow.notifier.config import MAX_PACKET_BYTES
from alertflow.notifier.dashboard_page import page_routes
from alertflow.notifier.direct_send import Transports
from alertflow.notifier.handshake import without_compression
from alertflow.notifier.packet_guard import packet_guard
from alertflow.roles.http import ReadinessCheck, health_routes

log = structlog.get_logger("alertflow.notifier")

DASHBOARD_DIR = Path(__file__).resolve().parent.parent / "dashboard"


def dashboard() -> Mount:
    return Mount("/", app=StaticFiles(directory=DASHBOARD_DIR, html=True), name="dashboard")


def _refused(scope: Any, reason: str, frame: str) -> None:
    metrics.clients_dropped.labels("malformed").inc()
    log.warning("malformed packet; connection closed", client=scope.get("client"),
                reason=reason, frame=frame)


def _count_long_polling_clients(sio: socketio.AsyncServer) -> None:
    """Set at scrape only (a pass over every session). Operators watch it: a polling client
    costs the notifier as much CPU as 13–23 websocket clients while alerts flow
    (docs/scaling.md). Sessions that are connected, not upgraded and not yet closed (engineio
    sweeps closed ones later; a direct websocket is not connected until it is upgraded)."""
    metrics.long_polling_clients.set(sum(
        1 for socket in sio.eio.sockets.values()
        if socket.connected and not socket.upgraded and not socket.closed))


def notifier_asgi_app(sio: socketio.AsyncServer, transports: Transports,
                      routes: list[BaseRoute], readiness: ReadinessCheck,
                      allowed_origins: AllowedOrigins) -> Any:
    starlette = Starlette(
        routes=[*routes, *health_routes(readiness, lambda: _count_long_polling_clients(sio)),
                *page_routes(DASHBOARD_DIR), dashboard()],
        middleware=cors_middleware(allowed_origins))
    return security_headers(without_compression(transports.middleware(packet_guard(
        marking_polls(socketio.ASGIApp(sio, other_asgi_app=starlette)), MAX_PACKET_BYTES,
        _refused))))
