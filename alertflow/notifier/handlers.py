"""The Socket.IO handlers: connect (auth: resume and subscription), subscribe, unsubscribe, and
an answer for anything else a client sends."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import socketio

from alertflow import metrics
from alertflow.backends.ports import StateStore, StoreUnavailable
from alertflow.domain.locations import Catalog
from alertflow.domain.ratelimit import TokenBucket
from alertflow.domain.subscriptions import SubscriptionError, parse_subscription
from alertflow.notifier.clients import Client, Clients
from alertflow.notifier.config import MAX_SEQ, NotifierConfig
from alertflow.notifier.fanout import Fanout
from alertflow.notifier.legacy import parse_position, position, wants_legacy
from alertflow.notifier.sync import ClientSync, snapshot_payload

# Lifecycle events python-socketio raises itself; a client may also send an event of that
# name, which must not reach the handlers (it would register or forget the client again).
_LIFECYCLE = frozenset({"connect", "disconnect"})
_REQUESTS = frozenset({"subscribe", "unsubscribe"})


class AlertsNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    """The default namespace, where every client of the protocol (docs/protocol.md) lives."""

    def __init__(self, clients: Clients, catalog: Catalog, store: StateStore,
                 sync: ClientSync, fanout: Fanout, config: NotifierConfig,
                 spawn: Callable[[Any], None], pids: dict[str, str]) -> None:
        super().__init__("/")
        self._pids = pids  # sid → the pid its CONNECT answer carries (legacy clients)
        self._clients = clients
        self._catalog = catalog
        self._store = store
        self._sync = sync
        self._fanout = fanout
        self._config = config
        self._spawn = spawn

    async def trigger_event(self, event: str, *args: Any) -> Any:
        sid = args[0] if args else ""
        from_client = self.server.manager.is_connected(sid, self.namespace)
        if event in _REQUESTS or (event in _LIFECYCLE and not from_client):
            return await super().trigger_event(event, *args)
        return await self._unknown(event, sid)

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        auth = auth if isinstance(auth, dict) else {}
        if wants_legacy(environ):
            self._connect_legacy(sid, auth)
            return
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
            self._spawn(self._sync.sync(client, since, epoch if isinstance(epoch, str) else None))

        asyncio.get_running_loop().call_soon(start_sync)

    def _connect_legacy(self, sid: str, auth: dict[str, Any]) -> None:
        """The seed's frontend: everything, as `alert` events, resumed from the pid and offset
        socket.io-client sends back on reconnection (legacy.py)."""
        resume = parse_position(auth.get("offset")) or parse_position(auth.get("pid"))
        client = Client(sid, parse_subscription(None, self._catalog, base=None),
                        TokenBucket(self._config.client_rate, self._config.client_burst),
                        legacy=True)
        self._clients[sid] = client
        metrics.connected_clients.set(len(self._clients))
        feed = self._sync.feed
        if resume is None:
            # Live from here: no snapshot (the seed's frontend knows none), and no await
            # between reading the feed's position and the switch to live.
            client.last_seq, client.syncing = feed.last_seq, False
            self._pids[sid] = position(feed.epoch, feed.last_seq)
            return
        epoch, since = resume
        self._pids[sid] = position(epoch, since)
        asyncio.get_running_loop().call_soon(
            lambda: self._spawn(self._sync.sync(client, since, epoch)))

    async def on_disconnect(self, sid: str, *_args: Any) -> None:
        self._pids.pop(sid, None)  # refused or gone before its CONNECT answer
        self._clients.pop(sid, None)
        metrics.connected_clients.set(len(self._clients))

    # Any number of arguments of any JSON type may arrive: take them all, judge them here.
    async def on_subscribe(self, sid: str, *args: Any) -> dict[str, Any]:
        return await self._change(sid, args, adding=True)

    async def on_unsubscribe(self, sid: str, *args: Any) -> dict[str, Any]:
        return await self._change(sid, args, adding=False)

    async def _refused(self, sid: str) -> dict[str, Any] | None:
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
            await self._fanout.drop(client, "flood")
        return {"error": f"too many requests; retry in {wait:.1f} s", "field": "$"}

    async def _change(self, sid: str, args: tuple[Any, ...], adding: bool) -> dict[str, Any]:
        refusal = await self._refused(sid)
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
        return snapshot_payload(snapshot, client, resync=False)

    async def _unknown(self, event: str, sid: str) -> dict[str, Any]:
        refusal = await self._refused(sid)
        if refusal is not None:
            return refusal
        return {"error": f"unknown event {str(event)[:64]!r}; clients may send subscribe, "
                         "unsubscribe", "field": "event"}
