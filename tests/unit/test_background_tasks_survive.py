"""Background loops outlive an unexpected error: the processor's sweeper and the notifier's feed.

Each caught only StoreUnavailable, so any other error ended its task silently while the process
still looked ready: the sweeper's death left every window open for good while alerts kept
flowing in; the feed's would leave every client of the notifier without alerts. The stores here
fail with errors of the kind a script or a half-failed-over server can raise.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from redis.exceptions import ResponseError

from alertflow import metrics
from alertflow.backends.memory import MemoryQueue, MemoryStateStore
from alertflow.backends.ports import NotReplicated, Outcome, StoredEvents, Sweep
from alertflow.domain.alert import Alert
from alertflow.domain.locations import Catalog
from alertflow.notifier.config import Event, NotifierConfig
from alertflow.notifier.feed import Feed
from alertflow.roles.processor import Processor
from tests.support import CuedFeed, poll_until

ABU_GHOSH = "אבו גוש"


class FailingStore(MemoryStateStore):
    """Fails its first `sweeps` sweeps and its first `reads` stream reads."""

    def __init__(self, catalog: Catalog, sweeps: int = 0, reads: int = 0) -> None:
        super().__init__(catalog)
        self.sweeps, self.reads = sweeps, reads

    async def sweep(self, now_ms: int) -> Sweep:
        if self.sweeps:
            self.sweeps -= 1
            raise ResponseError("MISCONF or any other error the sweep did not expect")
        return await super().sweep(now_ms)

    async def events_after(self, seq: int, limit: int) -> StoredEvents:
        if self.reads:
            self.reads -= 1
            raise ResponseError("an error reading the stream that nobody expected")
        return await super().events_after(seq, limit)


class UnreplicatedStore(MemoryStateStore):
    """A master that answers pings but replicates nothing: its first `refusals` applies fail
    with NotReplicated, as WAIT does while the replicas are cut off."""

    def __init__(self, catalog: Catalog, refusals: int) -> None:
        super().__init__(catalog)
        self.refusals = refusals

    async def apply(self, alert: Alert, now_ms: int) -> tuple[Outcome, int]:
        if self.refusals and alert.id != "a1":
            self.refusals -= 1
            raise NotReplicated("writes reached 0 of 1 replicas in 1000 ms")
        return await super().apply(alert, now_ms)


def alert_now(duration_s: int, alert_id: str = "a1") -> Alert:
    now = int(time.time() * 1000)
    return Alert(id=alert_id, kind="alert", type="missiles", locations=[ABU_GHOSH],
                 issued_at=now, duration_s=duration_s, received_at=now, source="radar")


@contextlib.asynccontextmanager
async def running_processor(store: MemoryStateStore) -> AsyncIterator[
        tuple[MemoryQueue, asyncio.Task[None]]]:
    """A processor over `store` and a queue of its own, run until the block ends."""
    queue = MemoryQueue()
    processor = Processor(queue, store, sweep_interval_s=0.02)
    shutdown = asyncio.Event()
    running = asyncio.create_task(processor.run(shutdown))
    try:
        yield queue, running
    finally:
        shutdown.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(running, 10)


async def test_windows_close_after_the_sweep_failed(catalog: Catalog) -> None:
    store = FailingStore(catalog, sweeps=3)
    failures_before = metrics.sweep_failures._value.get()
    async with running_processor(store) as (queue, running):
        await queue.publish([alert_now(duration_s=1)])
        await poll_until(lambda: any(e["kind"] == "open" for e in store._stream), 5,
                         lambda: "the window never opened")
        await poll_until(lambda: any(e["kind"] == "close" for e in store._stream), 10,
                         lambda: f"the window never closed: {list(store._stream)}")
        assert store.sweeps == 0
        assert metrics.sweep_failures._value.get() - failures_before == 3
        assert not running.done()


async def test_windows_close_after_the_store_flapped(catalog: Catalog) -> None:
    """Each refused alert shuts the store gate, and the probe's ping opens it again at once:
    the gate flaps. The sweeper waiting on it must keep waiting through every flap, not give
    up when it wakes to a gate already shut again (it did, and no window closed again)."""
    store = UnreplicatedStore(catalog, refusals=40)
    async with running_processor(store) as (queue, running):
        await queue.publish([alert_now(duration_s=1)])
        await poll_until(lambda: any(e["kind"] == "open" for e in store._stream), 5,
                         lambda: "the window never opened")
        await queue.publish([alert_now(duration_s=1, alert_id="a2")])  # refused 40 times
        (first,) = [e["incident_id"] for e in store._stream if e["kind"] == "open"]
        await poll_until(lambda: store.refusals == 0, 20, lambda: "the refusals never ended")
        # a1's window ended during the flaps: only the sweeper closes it (a2 came too late to
        # extend it, and is shown as an open and its close of its own).
        await poll_until(lambda: any(e["kind"] == "close" and e["incident_id"] == first
                                     for e in store._stream), 10,
                         lambda: f"the window never closed: {list(store._stream)}")
        assert not running.done()


async def test_the_feed_delivers_after_reading_the_stream_failed(catalog: Catalog) -> None:
    store = FailingStore(catalog, reads=1)
    cues = CuedFeed()  # its first batch is the subscription: the feed reads the stream (fails)
    delivered: list[Event] = []

    async def on_events(events: list[Event]) -> None:
        delivered.extend(events)

    async def on_resync(_snapshot: object) -> None:
        raise AssertionError("nothing was lost: no resync")

    failures_before = metrics.feed_failures._value.get()
    feed = Feed(store, cues, NotifierConfig(), on_events, on_resync)
    running = asyncio.create_task(feed.run())
    try:
        await poll_until(lambda: store.reads == 0, 5, lambda: "the stream was never read")
        await store.apply(alert_now(duration_s=60), int(time.time() * 1000))
        cues.send(list(store._stream))
        await poll_until(lambda: bool(delivered), 5,
                         lambda: f"nothing delivered; the feed task: {running}")
        assert [e["alert_id"] for e in delivered] == ["a1"]
        assert metrics.feed_failures._value.get() - failures_before == 1
        assert not running.done()
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
