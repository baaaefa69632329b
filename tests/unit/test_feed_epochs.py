"""The notifier's feed across a failover: a live batch never crosses into another server's epoch.

Deterministic and in-process (`alertflow.notifier.feed.Feed` with a store the test switches from
the old master to the promoted one). In the Redis failover chaos test a demoted master stays
writable for seconds (until a Sentinel converts it), and a notifier still subscribed to it can
receive one of its batches just as its store already reads the new master.
"""

from __future__ import annotations

import asyncio
from typing import Any

from alertflow.backends.ports import Snapshot, StoredEvents
from alertflow.notifier.config import NotifierConfig
from alertflow.notifier.feed import Feed
from tests.support import CuedFeed


def event(seq: int, server: str) -> dict[str, Any]:
    return {"seq": seq, "kind": "open", "server": server}


class SwitchingStore:
    """The old master (epoch "old", seq 1…10) until `promote()`; then the promoted replica,
    whose history forks at seq 5 (epoch "new") and holds 6…8 of its own."""

    def __init__(self) -> None:
        self.epoch, self.start = "old", 0
        self.stream = [event(seq, "old") for seq in range(1, 11)]

    def promote(self) -> None:
        self.epoch, self.start = "new", 5
        self.stream = [event(seq, "old") for seq in range(1, 6)] + [
            event(seq, "new") for seq in range(6, 9)]

    async def snapshot(self) -> Snapshot:
        return Snapshot(self.epoch, self.stream[-1]["seq"], [])

    async def epoch_start(self) -> Snapshot:
        return Snapshot(self.epoch, self.start, [])

    async def events_after(self, seq: int, limit: int) -> StoredEvents:
        covered = seq <= self.stream[-1]["seq"]
        return StoredEvents(self.epoch, covered,
                            [e for e in self.stream if e["seq"] > seq][:limit] if covered else [])


async def test_a_batch_of_the_old_master_is_not_delivered_after_resyncing_to_the_new() -> None:
    store = SwitchingStore()
    feed = CuedFeed()
    delivered: list[dict[str, Any]] = []
    resyncs: list[Snapshot] = []

    async def on_events(events: list[dict[str, Any]]) -> None:
        delivered.extend(events)

    async def on_resync(snapshot: Snapshot) -> None:
        resyncs.append(snapshot)

    notifier_feed = Feed(store, feed, NotifierConfig(), on_events, on_resync)  # type: ignore[arg-type]
    running = asyncio.create_task(notifier_feed.run())
    try:
        await asyncio.wait_for(notifier_feed.synced.wait(), 5)
        assert (notifier_feed.epoch, notifier_feed.last_seq) == ("old", 10)
        store.promote()
        # The old master, still writable, publishes seq 12 (its 11 went by unseen): a gap, so
        # the feed catches up from its store, which already reads the promoted replica.
        feed.send([event(12, "old")])
        # The promoted replica's own next event.
        feed.send([event(9, "new")])
        for _ in range(100):
            if delivered and delivered[-1]["seq"] == 9:
                break
            await asyncio.sleep(0.01)
    finally:
        running.cancel()
    assert [(s.epoch, s.seq) for s in resyncs] == [("new", 5)]
    assert [(e["seq"], e["server"]) for e in delivered] == [
        (6, "new"), (7, "new"), (8, "new"), (9, "new")], delivered
    assert (notifier_feed.epoch, notifier_feed.last_seq) == ("new", 9)
