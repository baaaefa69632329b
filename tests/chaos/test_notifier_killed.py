"""Issue 3, item 4: the notifier holding 200 clients is killed with SIGKILL mid-stream; the
clients reconnect to the other notifier with `since` and `epoch` and receive every event of the
outage exactly once, in `seq` order, without a resync."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from alertflow.backends.memory import MemoryStateStore
from alertflow.domain.alert import Alert
from alertflow.domain.locations import Catalog
from alertflow.notifier import Notifier
from tests.chaos.harness import (
    Clusters,
    Fleet,
    Source,
    alert,
    check_exactly_once,
    real_locations,
    report,
    wait_queue_empty,
    wait_until,
)
from tests.support import Collector, serving

pytestmark = pytest.mark.chaos

CLIENTS = 200
RATE = 150
ALERTS = 2250  # 15 s; the kill after 5 s
DURATION_S = 5


async def test_notifier_killed_clients_resume_on_the_other(
    clusters: Clusters, rabbitmq: str, redis_url: str, tmp_path: Path
) -> None:
    cluster = clusters(rabbitmq, redis_url)
    cluster.add("listener", 0)
    cluster.add("processor", 0)
    cluster.add("processor", 1)
    victim = cluster.add("notifier", 0)
    cluster.add("notifier", 1)
    fleet = await Fleet(tmp_path).start()
    try:
        # Every client on notifier0 first; when it is lost, each moves on to notifier1.
        await fleet.connect([cluster.urls["notifier0"], cluster.urls["notifier1"]], CLIENTS,
                            spread=False)
        locations = real_locations(50)
        killed: list[float] = []

        def fault(sent: int) -> None:
            if sent == RATE * 5:
                victim.kill()
                killed.append(time.monotonic())

        source = Source(cluster.of("listener"), rate=RATE)
        started = time.monotonic()
        await source.run((alert(locations[i % 50], DURATION_S) for i in range(ALERTS)),
                         during=fault)
        accepted = source.accepted
        settled = await fleet.settle(len(accepted), timeout=90)
        status = await fleet.status(len(accepted))
        records = await fleet.dump()
        delivery = check_exactly_once(records, accepted, set(source.bodies),
                                      stream_last=cluster.stream_position()[0])
        depths = await wait_queue_empty(rabbitmq, cluster.queue)
        report("notifier-killed", settled=settled, posted=source.posted,
               offered_rate=f"{source.offered_rate:.0f}/s", statuses=dict(source.statuses()),
               clients=CLIENTS, moved=sum(1 for r in records if r.connections == 2),
               connections=status["connections"], drops=status["drops"],
               queue_and_dlq=depths, seconds=f"{time.monotonic() - started:.1f}",
               delivery=delivery.summary())
        assert killed and not victim.alive()
        # Every client lost its notifier once and resumed once, on the other, with no snapshot:
        # a resume (since + epoch) answers with the missed events only.
        assert all(r.drops == 1 and r.connections == 2 for r in records)
        assert all(len(r.snapshots) == 1 for r in records)
        assert len(accepted) == ALERTS and depths == (0, 0)
    finally:
        await fleet.close()


class HeldFeed:
    """The live feed of an in-memory store, passed on only when released: a notifier whose
    feed lags behind the stream, as the surviving one may when clients move over to it."""

    def __init__(self, store: MemoryStateStore) -> None:
        self._inner = store.feed().batches()
        self._release: asyncio.Queue[None] = asyncio.Queue()

    @property
    def connected(self) -> bool:
        return True

    async def batches(self) -> AsyncIterator[list[dict[str, Any]]]:
        yield await anext(self._inner)  # the "subscribed" cue
        while True:
            await self._release.get()
            yield await anext(self._inner)

    def release(self) -> None:
        self._release.put_nowait(None)

    async def close(self) -> None:
        return None


async def test_a_client_resuming_ahead_of_its_new_notifier_is_not_resynced(
    catalog: Catalog,
) -> None:
    """A client that saw seq N on the dead notifier may reach one whose feed is not at N yet:
    the stream holds N, so it must get a resume (the events after N), not a resync."""
    store = MemoryStateStore(catalog)
    feed = HeldFeed(store)
    notifier = Notifier(store, feed, catalog)
    async with serving(notifier) as url:

        def issue(location: str) -> Alert:
            now = int(time.time() * 1000)
            return Alert(id=f"held-{location}-{now}", kind="alert", type="missiles",
                         locations=[location], issued_at=now, duration_s=60, received_at=now,
                         source="test")

        await store.apply(issue("a"), int(time.time() * 1000))
        feed.release()
        await wait_until(lambda: notifier.last_seq == 1, 10, "the notifier at seq 1")
        await store.apply(issue("b"), int(time.time() * 1000))  # seq 2, 3: in the stream,
        await store.apply(issue("c"), int(time.time() * 1000))  # not yet through the feed
        client = await Collector(url, auth={"since": 3, "epoch": store.epoch}).connect()
        await asyncio.sleep(0.3)
        feed.release()  # the lagging feed brings seq 2 and 3: old news for this client
        await store.apply(issue("d"), int(time.time() * 1000))
        feed.release()
        await client.wait_for(lambda c: bool(c.events), what="the next live event")
        await asyncio.sleep(0.3)
        assert client.snapshots == [], "resumed clients get no snapshot (no resync)"
        assert [e["seq"] for e in client.events] == [4]
        await client.disconnect()
