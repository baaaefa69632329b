"""The feed: the event channel read in order, gaps filled from the stream, resync on loss.

One task reads the channel and is the only writer of `last_seq` and the ring of recent events;
it hands every batch, in seq order and exactly once, to `on_events`, and a fresh snapshot to
`on_resync` when the stream's history changed (a new epoch: Redis lost data, restarted or failed
over) or lost what this notifier had not delivered yet.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

import structlog

from alertflow import metrics
from alertflow.backends.ports import EventFeed, Snapshot, StateStore, StoreUnavailable
from alertflow.notifier.config import Event, NotifierConfig

log = structlog.get_logger("alertflow.notifier")

OnEvents = Callable[[list[Event]], Awaitable[None]]
OnResync = Callable[[Snapshot], Awaitable[None]]


class Feed:
    def __init__(self, store: StateStore, feed: EventFeed, config: NotifierConfig,
                 on_events: OnEvents, on_resync: OnResync) -> None:
        self._store = store
        self._feed = feed
        self._config = config
        self._on_events = on_events
        self._on_resync = on_resync
        self.ring: deque[Event] = deque(maxlen=config.ring_size)
        self.last_seq = 0
        self.epoch = ""
        self.synced = asyncio.Event()

    @property
    def connected(self) -> bool:
        return self._feed.connected

    async def run(self) -> None:
        # Set from a (re)subscription until a catch-up succeeds: the server we now listen to
        # may be another one (a promoted replica, a restart) whose stream has a new epoch, and
        # its next event may follow on from our last seq; only the catch-up can tell.
        behind = False
        async for batch in self._feed.batches():
            try:
                if not batch:  # (re)subscribed: whatever was published meanwhile is in the stream
                    behind = True
                elif batch[0]["seq"] > self.last_seq + 1:
                    metrics.feed_gap_fills.inc()
                    behind = True
                if behind:
                    await self._catch_up()
                    behind = False
                    # The catch-up read the stream to its end after this batch arrived, and a
                    # script appends to the stream before it publishes: whatever of the batch
                    # is the store's history was just replayed. What is left came from another
                    # server (a demoted master still taking writes, seen just as the store moved
                    # to the promoted one): delivered by seq alone, it would stand in the new
                    # epoch for events it never held, and theirs would be dropped as seen.
                    continue
                await self._deliver([event for event in batch if event["seq"] > self.last_seq])
            except StoreUnavailable as exc:
                # Still behind: the next batch (or resubscription) catches up from the stream.
                log.warning("could not read the stream", error=str(exc))
            except Exception:
                # Anything else must not end the feed: this notifier would still look ready
                # while its clients got no alert again. The next batch reads from the stream.
                log.exception("feed failed on a batch; catching up with the next one")
                metrics.feed_failures.inc()
                behind = True

    async def _catch_up(self) -> None:
        if not self.synced.is_set():
            snapshot = await self._store.snapshot()
            self.epoch, self.last_seq = snapshot.epoch, snapshot.seq
            self.synced.set()
            log.info("notifier synced", epoch=self.epoch, seq=self.last_seq)
        while True:
            stored = await self._store.events_after(self.last_seq, self._config.replay_limit)
            if stored.epoch != self.epoch or not stored.covered:
                await self._resync(stored.epoch)
                continue  # then replay what followed the resync point
            if not stored.events:
                return
            await self._deliver(stored.events)
            if len(stored.events) < self._config.replay_limit:
                return

    async def _resync(self, new_epoch: str) -> None:
        """The stream's history changed under us: a failover may have rolled it back (new
        epoch), or we fell further behind than it keeps.

        Clients get a `resync: true` snapshot and must replace their state with it. After a
        new epoch, that is the state where the surviving history ends (the epoch's start),
        and the events since follow as usual: the clients miss nothing of the new history.
        """
        snapshot = await self._store.epoch_start() if new_epoch != self.epoch else None
        if snapshot is None or snapshot.epoch != new_epoch or not (
                await self._store.events_after(snapshot.seq, 1)).covered:
            snapshot = await self._store.snapshot()
        elif self.last_seq < snapshot.seq:
            # The surviving history goes further than we had delivered (we lost the old
            # server before its last events reached us): those are the same events in both
            # epochs, so deliver them first; the resync point then follows on for the clients.
            missed = await self._store.events_after(self.last_seq, snapshot.seq - self.last_seq)
            if missed.covered and missed.epoch == snapshot.epoch:
                await self._deliver([e for e in missed.events if e["seq"] <= snapshot.seq])
        log.warning("stream history changed; resyncing clients", old_epoch=self.epoch,
                    new_epoch=snapshot.epoch, seq=snapshot.seq, last_seq=self.last_seq)
        metrics.client_resyncs.inc()
        self.epoch, self.last_seq = snapshot.epoch, snapshot.seq
        self.ring.clear()
        await self._on_resync(snapshot)

    async def _deliver(self, events: list[Event]) -> None:
        if not events:
            return
        self.ring.extend(events)
        self.last_seq = events[-1]["seq"]
        await self._on_events(events)
        # Measured once every client has been handed the batch (written to each websocket,
        # queued for the rest): what a pause of this process or a slow fan-out costs shows here.
        now = time.time()
        for event in events:
            if event["kind"] == "open" and event.get("received_at"):
                metrics.end_to_end_latency_seconds.observe(
                    max(0.0, now - event["received_at"] / 1000))
