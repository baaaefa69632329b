"""The national feed's paths, served from the notifier's state (alertflow.domain.hfc_out):

`/WarningMessages/alert/Alerts.json` (the open windows) and
`/WarningMessages/alert/History/AlertsHistory.json` (the recent opens), each also with a
lower-case `w` as consumers spell them. Built for many pollers behind a CDN: a body is rebuilt
only when the feed's position (epoch, seq) has moved since it was built — every open and close
moves it — once for all the requests waiting, never per request. Each answer carries `ETag`
(a digest of the body), `Last-Modified` and `Cache-Control: public, max-age=1`; a conditional
request that still holds the body gets `304`.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime

import structlog
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from alertflow.backends.ports import StoreUnavailable
from alertflow.domain import hfc_out
from alertflow.notifier.routes.context import RouteContext

log = structlog.get_logger("alertflow.notifier")
REALTIME_PATH = "/WarningMessages/alert/Alerts.json"
HISTORY_PATH = "/WarningMessages/alert/History/AlertsHistory.json"
CACHE_CONTROL = "public, max-age=1"


@dataclass(frozen=True, slots=True)
class Body:
    position: tuple[str, int]
    data: bytes
    etag: str
    modified_s: int
    # Another body had the same Last-Modified second: that date no longer names one body, so an
    # If-Modified-Since equal to it cannot be answered 304.
    shared_second: bool


class CachedBody:
    def __init__(self, position: Callable[[], tuple[str, int]],
                 build: Callable[[], Awaitable[bytes]]) -> None:
        self._position = position
        self._build = build
        self._body: Body | None = None
        self._lock = asyncio.Lock()

    async def current(self) -> Body:
        body = self._body
        if body is not None and body.position == self._position():
            return body
        async with self._lock:  # one rebuild, however many requests wait for it
            position = self._position()  # read first: a change during the build rebuilds again
            body = self._body
            if body is None or body.position != position:
                try:
                    data = await self._build()
                except StoreUnavailable:
                    if body is None:
                        raise
                    log.warning("feed body kept: the store cannot be read")
                    return body
                self._body = body = self._next(body, position, data)
            return body

    @staticmethod
    def _next(old: Body | None, position: tuple[str, int], data: bytes) -> Body:
        if old is not None and old.data == data:
            return Body(position, data, old.etag, old.modified_s, old.shared_second)
        now = int(time.time())
        return Body(position, data, '"' + hashlib.sha256(data).hexdigest()[:32] + '"', now,
                    old is not None and old.modified_s >= now)


def _unchanged(request: Request, body: Body) -> bool:
    tags = request.headers.get("if-none-match")
    if tags is not None:  # it decides alone when present (RFC 9110 13.2.2)
        return tags.strip() == "*" or body.etag in {t.strip().removeprefix("W/")
                                                    for t in tags.split(",")}
    since = request.headers.get("if-modified-since")
    if since is None:
        return False
    try:
        since_s = parsedate_to_datetime(since).timestamp()
    except (TypeError, ValueError):
        return False
    return since_s > body.modified_s or (since_s == body.modified_s and not body.shared_second)


def serve(cached: CachedBody, media_type: str = "application/json"
          ) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            body = await cached.current()
        except StoreUnavailable:
            return Response(b"", status_code=503, headers={"Retry-After": "1"})
        headers = {"ETag": body.etag, "Cache-Control": CACHE_CONTROL,
                   "Last-Modified": formatdate(body.modified_s, usegmt=True)}
        if _unchanged(request, body):
            return Response(status_code=304, headers=headers)
        return Response(body.data, media_type=media_type, headers=headers)
    return endpoint


def _both_cases(path: str) -> list[str]:
    return [path, "/w" + path[2:]]


def routes(context: RouteContext) -> list[BaseRoute]:
    def position() -> tuple[str, int]:
        return context.feed.epoch, context.feed.last_seq

    async def build_realtime() -> bytes:
        return hfc_out.realtime((await context.store.snapshot()).incidents)

    async def build_history() -> bytes:
        stored = await context.store.recent_events(context.config.history_limit)
        return hfc_out.history(stored.events)

    realtime = serve(CachedBody(position, build_realtime))
    history = serve(CachedBody(position, build_history))
    return [*(Route(path, realtime, methods=["GET"]) for path in _both_cases(REALTIME_PATH)),
            *(Route(path, history, methods=["GET"]) for path in _both_cases(HISTORY_PATH))]
