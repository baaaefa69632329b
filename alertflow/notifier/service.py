"""The notifier: pushes events to Socket.IO clients, gap-free and in `seq` order.

This module wires the parts: the feed (feed.py) hands each batch to the clients that are live
through the fan-out (fanout.py) and buffers it for those still syncing (sync.py); the handlers
(handlers.py) register clients; the ASGI app (app.py) serves them and the HTTP routes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Coroutine, Sequence
from typing import Any

import socketio
from starlette.routing import BaseRoute

from alertflow import metrics
from alertflow.backends.ports import EventFeed, Snapshot, StateStore
from alertflow.domain.locations import Catalog
from alertflow.notifier import request_environ
from alertflow.notifier.app import notifier_asgi_app
from alertflow.notifier.client_queue import WriterQueue
from alertflow.notifier.clients import Clients
from alertflow.notifier.config import MAX_PACKET_BYTES, Event, NotifierConfig
from alertflow.notifier.direct_send import Transports
from alertflow.notifier.fanout import Fanout
from alertflow.notifier.feed import Feed
from alertflow.notifier.handlers import AlertsNamespace
from alertflow.notifier.legacy import packet_class
from alertflow.notifier.routes import RouteContext, notifier_routes
from alertflow.notifier.sync import ClientSync
from alertflow.notifier.versions import shortcuts_allowed
from alertflow.roles.http import ReadinessCheck


class Notifier:
    def __init__(
        self, store: StateStore, feed: EventFeed, catalog: Catalog,
        config: NotifierConfig | None = None,
    ) -> None:
        self._store = store
        self._catalog = catalog
        self._config = config or NotifierConfig()
        self._pids: dict[str, str] = {}  # legacy clients' resume positions (legacy.py)
        self.sio = socketio.AsyncServer(
            async_mode="asgi", serializer=packet_class(self._pids),
            max_http_buffer_size=MAX_PACKET_BYTES,
            # The page's own origin and the listed ones; never with credentials (no cookies).
            cors_allowed_origins=self._config.allowed_origins.socketio_rule(),
            cors_credentials=False,
            ping_interval=self._config.ping_interval_s,
            ping_timeout=self._config.ping_interval_s,
            # Both transports (engineio's default): default-option clients start with
            # long-polling and upgrade, and some networks only let polling through. The packet
            # guard reads polling POSTs as it reads websocket frames.
            transports=["polling", "websocket"],
        )
        # engineio makes each client's queue with this public factory: one that knows when its
        # writer waits lets the fan-out write directly without overtaking it (direct_send.py),
        # and a long-poll's answer waits briefly for more batches (client_queue.py).
        self.sio.eio.create_queue = functools.partial(
            WriterQueue, poll_hold_s=self._config.poll_hold_s)
        if shortcuts_allowed():
            request_environ.install(self.sio.eio)  # no garbage cycle per request
        self._clients: Clients = {}
        self._tasks: set[asyncio.Task[None]] = set()  # strong references to sync tasks
        self._transports = Transports()
        self.feed = Feed(store, feed, self._config, self._deliver, self._resync_everyone)
        self._fanout = Fanout(self.sio, self._transports, self._clients, self._config,
                              lambda: self.feed.epoch)
        self._sync = ClientSync(self.sio, store, self.feed, self._fanout, self._clients,
                                self._config)
        self.sio.register_namespace(AlertsNamespace(
            self._clients, catalog, store, self._sync, self._fanout, self._config, self._spawn,
            self._pids))

    @property
    def last_seq(self) -> int:
        return self.feed.last_seq

    @property
    def epoch(self) -> str:
        return self.feed.epoch

    # -- readiness
    @property
    def ready(self) -> bool:
        return self.feed.synced.is_set() and self.feed.connected

    def readiness(self) -> dict[str, bool]:
        metrics.redis_connected.set(1 if self.feed.connected else 0)
        return {"redis_feed": self.feed.connected, "synced": self.feed.synced.is_set()}

    async def run_feed(self) -> None:
        await self.feed.run()

    def _spawn(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, events: list[Event]) -> None:
        live = []
        for client in list(self._clients.values()):
            if client.syncing:
                client.buffer.extend(events)
            else:
                live.append(client)
        await self._fanout.send(live, events)

    async def _resync_everyone(self, snapshot: Snapshot) -> None:
        for client in list(self._clients.values()):
            if not client.syncing:
                client.last_seq = snapshot.seq
                if not client.legacy:  # the seed's frontend carries on with the live events
                    await self._sync.send_snapshot(client, snapshot, resync=True)

    async def disconnect_all(self) -> None:
        for sid in list(self._clients):
            with contextlib.suppress(Exception):
                await self.sio.disconnect(sid)

    # -- HTTP
    def routes(self) -> list[BaseRoute]:
        return notifier_routes(RouteContext(self._store, self._catalog, self._config, self.feed))

    def asgi_app(self, extra_routes: Sequence[BaseRoute] = (),
                 readiness: ReadinessCheck | None = None) -> Any:
        return notifier_asgi_app(self.sio, self._transports,
                                 [*extra_routes, *self.routes()],
                                 readiness or self.readiness, self._config.allowed_origins)
