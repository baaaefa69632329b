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
from alertflow.backends.ports import EventFeed, Snapshot, StateStore, StoreUnavailable
from alertflow.catalog import catalog_json
from alertflow.domain.locations import Catalog
from alertflow.domain.ratelimit import TokenBucket
from alertflow.domain.subscriptions import Subscription, SubscriptionError, parse_subscription
from alertflow.roles.broadcast import Selection
from alertflow.roles.direct_send import Transport, Transports, write_directly
from alertflow.roles.http import ReadinessCheck, health_routes
from alertflow.roles.packet_guard import packet_guard

log = structlog.get_logger("alertflow.notifier")

DASHBOARD_DIR = Path(__file__).resolve().parent.parent / "dashboard"
Event = dict[str, Any]
MAX_PACKET_BYTES = 64 * 1024  # what a client may send in one packet (subscriptions are small)
MAX_SEQ = 2**63 - 1  # Redis stream ids are 64-bit: a larger `since` cannot name an event


@dataclass(frozen=True, slots=True)
class NotifierConfig:
    ring_size: int = 10_000
    replay_limit: int = 10_000
    history_limit: int = 1_000
    # Packets (one per emit) waiting for one client's socket before it is dropped: a client
    # that stops reading must cost bounded memory and never hold the others back.
    max_backlog: int = 256
    # What one client may send (subscribe, unsubscribe, anything else): each request costs a
    # snapshot, so a flood is refused, and dropped after `max_refusals` refusals in a row.
    client_rate: float = 5.0
    client_burst: int = 20
    max_refusals: int = 20
    # Engine.IO pings each client this often and drops it when a pong is as late; engineio
    # also keeps each closed connection's ping timer (and its socket object) that long.
    ping_interval_s: float = 20.0


@dataclass(slots=True)
class Client:
    sid: str
    subscription: Subscription
    bucket: TokenBucket
    syncing: bool = True
    buffer: list[Event] = field(default_factory=list)
    last_seq: int = 0  # the newest seq this client has been given (or its snapshot reflects)
    refusals: int = 0  # client requests refused in a row by its bucket
    socket: Any = None  # its engineio socket, looked up on the first delivery
    transport: Transport | None = None  # its TCP transport, if direct writes are possible


@dataclass(slots=True)
class _Fanout:
    """One batch on its way to many clients: each distinct selection is encoded once."""

    events: list[Event]
    delivered: int = 0
    overflowing: list[Client] = field(default_factory=list)
    _selections: dict[tuple[Subscription, int], Selection | None] = field(default_factory=dict)

    def selection(self, subscription: Subscription, after_seq: int) -> Selection | None:
        """The events after `after_seq` that `subscription` wants, encoded; None if none."""
        key = (subscription, after_seq)
        if key not in self._selections:
            wanted = [e for e in self.events if e["seq"] > after_seq and subscription.wants(e)]
            self._selections[key] = Selection.of(wanted) if wanted else None
        return self._selections[key]


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
            async_mode="asgi", cors_allowed_origins="*", max_http_buffer_size=MAX_PACKET_BYTES,
            ping_interval=self._config.ping_interval_s,
            ping_timeout=self._config.ping_interval_s,
            # The protocol is websocket-only (docs/protocol.md, the dashboard): long-polling
            # would bypass the packet guard in front of this server.
            transports=["websocket"],
        )
        self._clients: dict[str, Client] = {}
        self._ring: deque[Event] = deque(maxlen=self._config.ring_size)
        self.last_seq = 0
        self.epoch = ""
        self._synced = asyncio.Event()
        self._snapshot_call: asyncio.Future[Snapshot] | None = None
        self._tasks: set[asyncio.Task[None]] = set()  # strong references to sync tasks
        self._transports = Transports()
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
        live = []
        for client in list(self._clients.values()):
            if client.syncing:
                client.buffer.extend(events)
            else:
                live.append(client)
        await self._send_to(live, events)

    async def _send(self, client: Client, events: list[Event]) -> None:
        await self._send_to([client], events)

    async def _send_to(self, clients: list[Client], events: list[Event]) -> None:
        """Queue for each client the events it wants and has not been given yet."""
        if not events:
            return
        fanout = _Fanout(events)
        for client in clients:
            self._queue_for(client, fanout)
        metrics.deliveries.inc(fanout.delivered)
        for client in fanout.overflowing:
            await self._drop(client, "backlog")

    def _queue_for(self, client: Client, fanout: _Fanout) -> None:
        selection = fanout.selection(client.subscription, client.last_seq)
        client.last_seq = max(client.last_seq, fanout.events[-1]["seq"])
        if selection is None:
            return
        socket = client.socket
        if socket is None:
            socket = client.socket = self._engineio_socket(client.sid)
            if socket is None:
                return  # gone: its disconnect handler is about to forget it
            client.transport = self._transports.get(socket.sid)
        if socket.closed or socket.closing:
            return
        if write_directly(socket, client.transport, selection.frame):
            fanout.delivered += selection.count
        elif socket.queue.qsize() >= self._config.max_backlog:
            fanout.overflowing.append(client)
        else:
            socket.queue.put_nowait(selection.packet)  # unbounded queue: never waits
            fanout.delivered += selection.count

    def _engineio_socket(self, sid: str) -> Any:
        eio_sid = self.sio.manager.eio_sid_from_sid(sid, "/")
        return self.sio.eio.sockets.get(eio_sid) if eio_sid is not None else None

    def _backlog(self, sid: str) -> int:
        """Packets queued for a client that its transport has not taken yet.

        python-engineio queues every packet in an unbounded per-client queue and a writer
        task drains it into the socket; a client that stops reading stalls only its writer,
        so the queue's size is the measure of how far behind it is.
        """
        socket = self._engineio_socket(sid)
        return socket.queue.qsize() if socket is not None else 0

    async def _drop(self, client: Client, reason: str) -> None:
        """Disconnect a client that cannot keep up or misbehaves, without waiting for it."""
        if self._clients.pop(client.sid, None) is None:
            return
        metrics.connected_clients.set(len(self._clients))
        metrics.clients_dropped.labels(reason).inc()
        log.warning("client dropped", sid=client.sid, reason=reason,
                    backlog=self._backlog(client.sid))
        socket = self._engineio_socket(client.sid)
        if socket is None:
            return
        # `sio.disconnect` would queue a packet behind the backlog and engineio's close() waits
        # for the queue to drain: neither ever finishes for a client that stopped reading.
        # Abort instead (disconnect handlers run now), then wake the transport's writer with
        # engineio's end marker: it closes the websocket once the socket drains, or the
        # kernel's send timeout (serve_app's send_timeout_s) aborts the connection.
        await socket.close(wait=False, abort=True)
        socket.queue.put_nowait(None)

    # -- clients
    def _snapshot_payload(self, epoch: str, seq: int, incidents: list[dict[str, Any]],
                          client: Client, resync: bool) -> dict[str, Any]:
        return {
            "epoch": epoch, "seq": seq, "resync": resync,
            "incidents": [i for i in incidents if client.subscription.wants(i)],
        }

    async def _shared_snapshot(self) -> Snapshot:
        """One Redis call serves every client that asks while it is in flight.

        A reconnect storm (a notifier restarting under thousands of clients) then costs a
        handful of snapshot calls instead of one per client and never exhausts the pool.
        """
        if self._snapshot_call is None or self._snapshot_call.done():
            self._snapshot_call = asyncio.ensure_future(self._store.snapshot())
        return await asyncio.shield(self._snapshot_call)

    async def _snapshot_for(self, client: Client) -> Snapshot:
        snapshot = await self._shared_snapshot()
        if self._ring and self._ring[0]["seq"] > snapshot.seq + 1:
            # The shared call predates what the ring still holds: too old to fill from it.
            snapshot = await self._store.snapshot()
        return snapshot

    async def _sync(self, client: Client, since: int | None, epoch: str | None) -> None:
        """Bring a new client up to date, then switch it to live delivery.

        Redis being briefly unreachable is retried, not answered with a disconnect: browsers'
        Socket.IO clients do not reconnect after a server-side disconnect.
        """
        await self._synced.wait()
        delay = 0.1
        while client.sid in self._clients:
            try:
                await self._bring_up_to_date(client, since, epoch)
                return
            except StoreUnavailable as exc:
                log.warning("cannot sync client yet; retrying", sid=client.sid,
                            error=str(exc), retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _bring_up_to_date(self, client: Client, since: int | None,
                                epoch: str | None) -> None:
        replay = None
        if since is not None and epoch == self.epoch:
            replay = await self._events_since(since)
        if replay is not None:
            client.last_seq = since or 0
            await self._send(client, replay)
        else:
            snapshot = await self._snapshot_for(client)
            client.last_seq = snapshot.seq
            await self.sio.emit("snapshot", self._snapshot_payload(
                snapshot.epoch, snapshot.seq, snapshot.incidents, client,
                resync=since is not None), to=client.sid)
            # What this notifier delivered after the snapshot's seq but before the client
            # registered is in the ring, not in the client's buffer.
            await self._send(client, [e for e in self._ring if e["seq"] > client.last_seq])
        # Flush what arrived meanwhile; the loop ends with no await between the last
        # check and the switch to live, so the feed cannot slip an event in between.
        while client.buffer:
            pending, client.buffer = client.buffer, []
            await self._send(client, pending)
        client.syncing = False

    async def _events_since(self, since: int) -> list[Event] | None:
        """Events after `since` up to `last_seq`, from memory or the stream; None if gone."""
        if since == self.last_seq:
            return []
        if since > self.last_seq:
            # The client is ahead of this notifier: it saw these events on another one whose
            # feed was further along. If the stream holds `since`, the client resumes there
            # (the feed's older events are skipped by its last_seq); otherwise it resyncs.
            stored = await self._store.events_after(since, 1)
            return [] if stored.epoch == self.epoch and stored.covered else None
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
                                      or not 0 <= since <= MAX_SEQ):
                raise socketio.exceptions.ConnectionRefusedError(
                    {"error": "since must be a non-negative integer", "field": "since"})
            epoch = auth.get("epoch")
            try:
                subscription = parse_subscription(
                    {k: auth[k] for k in ("locations", "zones") if k in auth}, self._catalog,
                    base=None)
            except SubscriptionError as exc:
                raise socketio.exceptions.ConnectionRefusedError(exc.as_dict()) from None
            client = Client(sid, subscription,
                            TokenBucket(self._config.client_rate, self._config.client_burst))
            self._clients[sid] = client
            metrics.connected_clients.set(len(self._clients))

            def start_sync() -> None:
                # After the connect handler returned: the client's namespace is then open.
                task = asyncio.ensure_future(
                    self._sync(client, since, epoch if isinstance(epoch, str) else None))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

            asyncio.get_running_loop().call_soon(start_sync)

        async def disconnect(sid: str, *_args: Any) -> None:
            self._clients.pop(sid, None)
            metrics.connected_clients.set(len(self._clients))

        async def refused(sid: str) -> dict[str, Any] | None:
            """None when the client may make this request; otherwise the error to answer."""
            client = self._clients.get(sid)
            if client is None:
                return {"error": "not connected", "field": ""}
            wait = client.bucket.take(time.monotonic())
            if not wait:
                client.refusals = 0
                return None
            metrics.client_requests_refused.inc()
            client.refusals += 1
            if client.refusals >= self._config.max_refusals:
                await self._drop(client, "flood")
            return {"error": f"too many requests; retry in {wait:.1f} s", "field": "$"}

        async def change(sid: str, args: tuple[Any, ...], adding: bool) -> dict[str, Any]:
            refusal = await refused(sid)
            if refusal is not None:
                return refusal
            client = self._clients[sid]
            if len(args) > 1:
                return {"error": "expected one argument: {all} or {locations, zones}",
                        "field": "$"}
            data = args[0] if args else None
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

        # Any number of arguments of any JSON type may arrive: take them all, judge them here.
        async def subscribe(sid: str, *args: Any) -> dict[str, Any]:
            return await change(sid, args, adding=True)

        async def unsubscribe(sid: str, *args: Any) -> dict[str, Any]:
            return await change(sid, args, adding=False)

        async def unknown(event: str, sid: str, *_args: Any) -> dict[str, Any]:
            refusal = await refused(sid)
            if refusal is not None:
                return refusal
            return {"error": f"unknown event {str(event)[:64]!r}; clients may send subscribe, "
                             "unsubscribe", "field": "event"}

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
        return self._transports.middleware(packet_guard(
            socketio.ASGIApp(self.sio, other_asgi_app=starlette), MAX_PACKET_BYTES,
            self._refused))

    def _refused(self, scope: Any, reason: str, frame: str) -> None:
        metrics.clients_dropped.labels("malformed").inc()
        log.warning("malformed packet; connection closed", client=scope.get("client"),
                    reason=reason, frame=frame)
