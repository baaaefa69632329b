"""The feed: the event channel read in order, gaps filled from the stream, resync on loss.

One task reads the channel and is the only writer of `last_seq` and the ring of recent events;
it hands every batch, in seq order and exactly once, to `on_events`, and a fresh snapshot to
`on_resync` when the stream lost history this notifier had not delivered yet.
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
        if not self.synced.is_set():
            snapshot = await self._store.snapshot()
            self.epoch, self.last_seq = snapshot.epoch, snapshot.seq
            self.synced.set()
            log.info("notifier synced", epoch=self.epoch, seq=self.last_seq)
        while True:
            stored = await self._store.events_after(self.last_seq, self._config.replay_limit)
            if stored.epoch != self.epoch or not stored.covered:
                await self._resync(stored.epoch)
                return
            if not stored.events:
                return
            await self._deliver(stored.events)
            if len(stored.events) < self._config.replay_limit:
                return

    async def _resync(self, new_epoch: str) -> None:
        """The stream lost its history (Redis lost data, or we fell too far behind)."""
        snapshot = await self._store.snapshot()
        log.warning("stream history lost; resyncing clients", old_epoch=self.epoch,
                    new_epoch=new_epoch, seq=snapshot.seq)
        self.epoch, self.last_seq = snapshot.epoch, snapshot.seq
        self.ring.clear()
        await self._on_resync(snapshot)

    async def _deliver(self, events: list[Event]) -> None:
        if not events:
            return
        self.ring.extend(events)
        self.last_seq = events[-1]["seq"]
        now = time.time()
        for event in events:
            if event["kind"] == "open" and event.get("received_at"):
                metrics.end_to_end_latency_seconds.observe(
                    max(0.0, now - event["received_at"] / 1000))
        await self._on_events(events)
