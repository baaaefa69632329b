"""Client sync: bring a connecting client up to date (snapshot or resume), then switch it live.

A connecting client is registered before anything is read for it and buffers live events until
its snapshot or replay has been sent; then the buffer is flushed by seq, so nothing falls
between the snapshot and the live stream and nothing comes twice.
"""

from __future__ import annotations

import asyncio
from typing import Any

import socketio
import structlog

from alertflow.backends.ports import Snapshot, StateStore, StoreUnavailable
from alertflow.notifier.clients import Client, Clients
from alertflow.notifier.config import Event, NotifierConfig
from alertflow.notifier.fanout import Fanout
from alertflow.notifier.feed import Feed

log = structlog.get_logger("alertflow.notifier")


def snapshot_payload(snapshot: Snapshot, client: Client, resync: bool) -> dict[str, Any]:
    """The `snapshot` event (or acknowledgement) for one client: what it subscribed to."""
    return {
        "epoch": snapshot.epoch, "seq": snapshot.seq, "resync": resync,
        "incidents": [i for i in snapshot.incidents if client.subscription.wants(i)],
    }


class ClientSync:
    def __init__(self, sio: socketio.AsyncServer, store: StateStore, feed: Feed,
                 fanout: Fanout, clients: Clients, config: NotifierConfig) -> None:
        self._sio = sio
        self._store = store
        self.feed = feed
        self._fanout = fanout
        self._clients = clients
        self._config = config
        self._snapshot_call: asyncio.Future[Snapshot] | None = None

    async def send_snapshot(self, client: Client, snapshot: Snapshot, resync: bool) -> None:
        await self._sio.emit("snapshot", snapshot_payload(snapshot, client, resync),
                             to=client.sid)

    async def shared_snapshot(self) -> Snapshot:
        """One Redis call serves every client that asks while it is in flight.

        A reconnect storm (a notifier restarting under thousands of clients) then costs a
        handful of snapshot calls instead of one per client and never exhausts the pool.
        """
        if self._snapshot_call is None or self._snapshot_call.done():
            self._snapshot_call = asyncio.ensure_future(self._store.snapshot())
        return await asyncio.shield(self._snapshot_call)

    async def _snapshot_for(self) -> Snapshot:
        snapshot = await self.shared_snapshot()
        ring = self.feed.ring
        if ring and ring[0]["seq"] > snapshot.seq + 1:
            # The shared call predates what the ring still holds: too old to fill from it.
            snapshot = await self._store.snapshot()
        return snapshot

    async def sync(self, client: Client, since: int | None, epoch: str | None) -> None:
        """Bring a new client up to date, then switch it to live delivery.

        Redis being briefly unreachable is retried, not answered with a disconnect: browsers'
        Socket.IO clients do not reconnect after a server-side disconnect.
        """
        await self.feed.synced.wait()
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
        started_in = self.feed.epoch
        replay = None
        if since is not None and epoch == self.feed.epoch:
            replay = await self._events_since(since)
        if replay is not None:
            client.last_seq = since or 0
            await self._fanout.send([client], replay)
        else:
            snapshot = await self._snapshot_for()
            client.last_seq = snapshot.seq
            if not client.legacy:  # the seed's frontend knows no snapshot: it goes live
                await self.send_snapshot(client, snapshot, resync=since is not None)
            # What this notifier delivered after the snapshot's seq but before the client
            # registered is in the ring, not in the client's buffer.
            await self._fanout.send(
                [client], [e for e in self.feed.ring if e["seq"] > client.last_seq])
        # Flush what arrived meanwhile; the loop ends with no await between the last
        # check and the switch to live, so the feed cannot slip an event in between.
        while client.buffer:
            pending, client.buffer = client.buffer, []
            await self._fanout.send([client], pending)
        if self.feed.epoch != started_in:
            # The feed resynced every client to a new epoch meanwhile, all but this one (it was
            # syncing): what it was given and holds may be history that was rolled back.
            client.buffer = []
            await self._bring_up_to_date(client, client.last_seq, None)
            return
        client.syncing = False

    async def _events_since(self, since: int) -> list[Event] | None:
        """Events after `since` up to `last_seq`, from memory or the stream; None if gone."""
        feed = self.feed  # read afresh after each await: the feed moves on meanwhile
        if since == feed.last_seq:
            return []
        if since > feed.last_seq:
            # The client is ahead of this notifier: it saw these events on another one whose
            # feed was further along. If the stream holds `since`, the client resumes there
            # (the feed's older events are skipped by its last_seq); otherwise it resyncs.
            stored = await self._store.events_after(since, 1)
            return [] if stored.epoch == feed.epoch and stored.covered else None
        if feed.ring and feed.ring[0]["seq"] <= since + 1:
            return [event for event in feed.ring if event["seq"] > since]
        stored = await self._store.events_after(since, self._config.replay_limit)
        if stored.epoch != feed.epoch or not stored.covered:
            return None
        if stored.events and stored.events[-1]["seq"] < feed.last_seq and (
                len(stored.events) >= self._config.replay_limit):
            return None  # too far behind to replay: a snapshot is cheaper and exact
        return [event for event in stored.events if event["seq"] <= feed.last_seq]
