"""The notifier: pushes events to Socket.IO clients, gap-free and in `seq` order.

One feed task reads the event channel in order and is the only writer of `last_seq` and the
recent-events ring. A connecting client is registered before anything is read for it, and
buffers live events until its snapshot or replay has been sent; then the buffer is flushed by
seq, so nothing falls between the snapshot and the live stream and nothing comes twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import socketio
import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from alertflow import metrics
from alertflow.backends.ports import EventFeed, StateStore, StoreUnavailable
from alertflow.catalog import catalog_json
from alertflow.domain.locations import Catalog
from alertflow.domain.subscriptions import Subscription, SubscriptionError, parse_subscription
from alertflow.roles.http import ReadinessCheck, health_routes

log = structlog.get_logger("alertflow.notifier")

DASHBOARD_DIR = Path(__file__).resolve().parent.parent / "dashboard"
Event = dict[str, Any]


@dataclass(slots=True)
class Client:
    sid: str
    subscription: Subscription
    syncing: bool = True
    buffer: list[Event] = field(default_factory=list)
    last_seq: int = 0  # the newest seq this client has been given (or its snapshot reflects)


@dataclass(frozen=True, slots=True)
class NotifierConfig:
    ring_size: int = 10_000
    replay_limit: int = 10_000
    history_limit: int = 1_000


class Notifier:
    def __init__(
        self, store: StateStore, feed: EventFeed, catalog: Catalog,
        config: NotifierConfig | None = None,
    ) -> None:
        self._store = store
        self._feed = feed
        self._catalog = catalog
        self._config = config or NotifierConfig()
        self.sio = socketio.AsyncServer(
            async_mode="asgi", cors_allowed_origins="*", max_http_buffer_size=64 * 1024,
            ping_interval=20, ping_timeout=20,
        )
        self._clients: dict[str, Client] = {}
        self._ring: deque[Event] = deque(maxlen=self._config.ring_size)
        self.last_seq = 0
        self.epoch = ""
        self._synced = asyncio.Event()
        self._register_handlers()

    # -- readiness
    @property
    def ready(self) -> bool:
        return self._synced.is_set() and self._feed.connected

    def readiness(self) -> dict[str, bool]:
        metrics.redis_connected.set(1 if self._feed.connected else 0)
        return {"redis_feed": self._feed.connected, "synced": self._synced.is_set()}

    # -- the feed
    async def run_feed(self) -> None:
        async for batch in self._feed.batches():
            try:
                if not batch:  # (re)subscribed: whatever was published meanwhile is in the stream
                    await self._catch_up()
                    continue
                if batch[0]["seq"] > self.last_seq + 1:
                    metrics.feed_gap_fills.inc()
                    await self._catch_up()
                await self._deliver([event for event in batch if event["seq"] > self.last_seq])
            except StoreUnavailable as exc:
                # The next (re)subscription or the next batch's gap check fills this in.
                log.warning("could not read the stream", error=str(exc))

    async def _catch_up(self) -> None:
        if not self._synced.is_set():
            snapshot = await self._store.snapshot()
            self.epoch, self.last_seq = snapshot.epoch, snapshot.seq
            self._synced.set()
            log.info("notifier synced", epoch=self.epoch, seq=self.last_seq)
        while True:
            stored = await self._store.events_after(self.last_seq, self._config.replay_limit)
            if stored.epoch != self.epoch or not stored.covered:
                await self._resync_everyone(stored.epoch)
                return
            if not stored.events:
                return
            await self._deliver(stored.events)
            if len(stored.events) < self._config.replay_limit:
                return

    async def _resync_everyone(self, new_epoch: str) -> None:
        """The stream lost its history (Redis lost data, or we fell too far behind)."""
        snapshot = await self._store.snapshot()
        log.warning("stream history lost; resyncing clients", old_epoch=self.epoch,
                    new_epoch=new_epoch, seq=snapshot.seq)
        self.epoch, self.last_seq = snapshot.epoch, snapshot.seq
        self._ring.clear()
        for client in list(self._clients.values()):
            if not client.syncing:
                client.last_seq = snapshot.seq
                await self.sio.emit("snapshot", self._snapshot_payload(
                    snapshot.epoch, snapshot.seq, snapshot.incidents, client, resync=True),
                    to=client.sid)

    async def _deliver(self, events: list[Event]) -> None:
        if not events:
            return
        self._ring.extend(events)
        self.last_seq = events[-1]["seq"]
        now = time.time()
        for event in events:
            if event["kind"] == "open" and event.get("received_at"):
                metrics.end_to_end_latency_seconds.observe(
                    max(0.0, now - event["received_at"] / 1000))
        for client in list(self._clients.values()):
            if client.syncing:
                client.buffer.extend(events)
            else:
                await self._send(client, events)

    async def _send(self, client: Client, events: list[Event]) -> None:
        wanted = [e for e in events if e["seq"] > client.last_seq and client.subscription.wants(e)]
        if events:
            client.last_seq = max(client.last_seq, events[-1]["seq"])
        if wanted:
            metrics.deliveries.inc(len(wanted))
            await self.sio.emit("alerts", wanted, to=client.sid)

    # -- clients
    def _snapshot_payload(self, epoch: str, seq: int, incidents: list[dict[str, Any]],
                          client: Client, resync: bool) -> dict[str, Any]:
        return {
            "epoch": epoch, "seq": seq, "resync": resync,
            "incidents": [i for i in incidents if client.subscription.wants(i)],
        }

    async def _sync(self, client: Client, since: int | None, epoch: str | None) -> None:
        """Bring a new client up to date, then switch it to live delivery."""
        await self._synced.wait()
        try:
            replay = None
            if since is not None and epoch == self.epoch and since <= self.last_seq:
                replay = await self._events_since(since)
            if replay is not None:
                client.last_seq = since or 0
                await self._send(client, replay)
            else:
                snapshot = await self._store.snapshot()
                client.last_seq = snapshot.seq
                await self.sio.emit("snapshot", self._snapshot_payload(
                    snapshot.epoch, snapshot.seq, snapshot.incidents, client,
                    resync=since is not None), to=client.sid)
            # Flush what arrived meanwhile; the loop ends with no await between the last
            # check and the switch to live, so the feed cannot slip an event in between.
            while client.buffer:
                pending, client.buffer = client.buffer, []
                await self._send(client, pending)
            client.syncing = False
        except StoreUnavailable as exc:
            log.warning("cannot sync client; disconnecting it to retry", sid=client.sid,
                        error=str(exc))
            await self.sio.disconnect(client.sid)

    async def _events_since(self, since: int) -> list[Event] | None:
        """Events after `since` up to `last_seq`, from memory or the stream; None if gone."""
        if since == self.last_seq:
            return []
        if self._ring and self._ring[0]["seq"] <= since + 1:
            return [event for event in self._ring if event["seq"] > since]
        stored = await self._store.events_after(since, self._config.replay_limit)
        if stored.epoch != self.epoch or not stored.covered:
            return None
        if stored.events and stored.events[-1]["seq"] < self.last_seq and (
                len(stored.events) >= self._config.replay_limit):
            return None  # too far behind to replay: a snapshot is cheaper and exact
        return [event for event in stored.events if event["seq"] <= self.last_seq]

    def _register_handlers(self) -> None:
        sio = self.sio

        async def connect(sid: str, _environ: dict[str, Any], auth: Any = None) -> None:
            auth = auth if isinstance(auth, dict) else {}
            since = auth.get("since")
            if since is not None and (not isinstance(since, int) or isinstance(since, bool)
                                      or since < 0):
                raise socketio.exceptions.ConnectionRefusedError(
                    {"error": "since must be a non-negative integer", "field": "since"})
            epoch = auth.get("epoch")
            try:
                subscription = parse_subscription(
                    {k: auth[k] for k in ("locations", "zones") if k in auth}, self._catalog,
                    base=None)
            except SubscriptionError as exc:
                raise socketio.exceptions.ConnectionRefusedError(exc.as_dict()) from None
            client = Client(sid, subscription)
            self._clients[sid] = client
            metrics.connected_clients.set(len(self._clients))
            asyncio.get_running_loop().call_soon(
                lambda: asyncio.ensure_future(
                    self._sync(client, since, epoch if isinstance(epoch, str) else None)))

        async def disconnect(sid: str, *_args: Any) -> None:
            self._clients.pop(sid, None)
            metrics.connected_clients.set(len(self._clients))

        async def change(sid: str, data: Any, adding: bool) -> dict[str, Any]:
            client = self._clients.get(sid)
            if client is None:
                return {"error": "not connected", "field": ""}
            try:
                if adding:
                    client.subscription = parse_subscription(data, self._catalog,
                                                             base=client.subscription)
                else:
                    client.subscription = client.subscription.without(
                        parse_subscription(data, self._catalog, base=None))
            except SubscriptionError as exc:
                return exc.as_dict()
            try:
                snapshot = await self._store.snapshot()
            except StoreUnavailable:
                return {"error": "temporarily unavailable; retry", "field": ""}
            return self._snapshot_payload(snapshot.epoch, snapshot.seq, snapshot.incidents,
                                          client, resync=False)

        async def subscribe(sid: str, data: Any = None) -> dict[str, Any]:
            return await change(sid, data, adding=True)

        async def unsubscribe(sid: str, data: Any = None) -> dict[str, Any]:
            return await change(sid, data, adding=False)

        async def unknown(event: str, sid: str, *_args: Any) -> dict[str, Any]:
            return {"error": f"unknown event {event!r}; clients may send subscribe, unsubscribe",
                    "field": "event"}

        for name, handler in (("connect", connect), ("disconnect", disconnect),
                              ("subscribe", subscribe), ("unsubscribe", unsubscribe),
                              ("*", unknown)):
            sio.on(name, handler)

    async def disconnect_all(self) -> None:
        for sid in list(self._clients):
            with contextlib.suppress(Exception):
                await self.sio.disconnect(sid)

    # -- HTTP
    def routes(self) -> list[Route | Mount]:
        locations = catalog_json(self._catalog)

        async def get_locations(_request: Request) -> Response:
            return Response(locations, media_type="application/json",
                            headers={"Cache-Control": "public, max-age=3600"})

        async def get_events(request: Request) -> Response:
            raw = request.query_params.get("limit", "200")
            if not raw.isdigit() or not 1 <= int(raw) <= self._config.history_limit:
                return JSONResponse({"error": "invalid_query", "field": "limit",
                                     "reason": f"an integer 1…{self._config.history_limit}"},
                                    status_code=422)
            try:
                stored = await self._store.recent_events(int(raw))
            except StoreUnavailable:
                return JSONResponse({"error": "unavailable", "field": "$",
                                     "reason": "the event stream cannot be read; retry"},
                                    status_code=503, headers={"Retry-After": "1"})
            seq = stored.events[-1]["seq"] if stored.events else self.last_seq
            return JSONResponse({"epoch": stored.epoch, "seq": seq, "events": stored.events})

        return [
            Route("/v1/locations", get_locations, methods=["GET"]),
            Route("/v1/events", get_events, methods=["GET"]),
        ]

    def dashboard(self) -> Mount:
        return Mount("/", app=StaticFiles(directory=DASHBOARD_DIR, html=True), name="dashboard")

    def asgi_app(self, extra_routes: list[Route] | None = None,
                 readiness: ReadinessCheck | None = None) -> Any:
        starlette = Starlette(
            routes=(extra_routes or []) + self.routes()
            + health_routes(readiness or self.readiness) + [self.dashboard()]
        )
        return socketio.ASGIApp(self.sio, other_asgi_app=starlette)
