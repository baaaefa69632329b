"""Issue 11, item 1: long-polling clients get the protocol websocket clients get — snapshot,
live events, resume with since/epoch, subscriptions, the rate limit, the packet guard and the
backlog bound — from a notifier in this process on the in-memory store (no services needed)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from prometheus_client import REGISTRY

from alertflow.backends.memory import MemoryStateStore
from alertflow.domain.alert import Alert
from alertflow.domain.locations import Catalog
from alertflow.notifier import Notifier, NotifierConfig
from tests.support import Collector, apply_alert_now, poll_until, serving

POLLING = ["polling"]


@dataclass
class Running:
    url: str
    store: MemoryStateStore
    notifier: Notifier

    async def alert(self, location: str, duration_s: int = 60) -> Alert:
        return await apply_alert_now(self.store, location, duration_s)


@pytest.fixture
async def running(catalog: Catalog) -> AsyncIterator[Running]:
    async with _notifier(catalog, NotifierConfig(max_backlog=16, client_burst=3, max_refusals=5,
                                                 ping_interval_s=2)) as started:
        yield started


@contextlib.asynccontextmanager
async def _notifier(catalog: Catalog, config: NotifierConfig) -> AsyncIterator[Running]:
    store = MemoryStateStore(catalog)
    notifier = Notifier(store, store.feed(), catalog, config)
    async with serving(notifier) as url:
        yield Running(url, store, notifier)


def _dropped(reason: str) -> float:
    return REGISTRY.get_sample_value("alertflow_clients_dropped_total", {"reason": reason}) or 0


async def test_a_polling_client_gets_its_snapshot_then_every_event_in_order(
    running: Running,
) -> None:
    await running.alert("נהריה")
    client = await Collector(running.url, transports=POLLING).connect()
    assert client.client.transport() == "polling"
    await client.wait_for(lambda c: bool(c.snapshots), what="the snapshot")
    assert [i["location"] for i in client.snapshots[0]["incidents"]] == ["נהריה"]
    for location in ("אבו גוש", "אבו סנאן", "אילת"):
        await running.alert(location)
    await client.wait_for(lambda c: len(c.events) == 3, what="three live events")
    assert [e["seq"] for e in client.events] == [2, 3, 4]
    await client.disconnect()


async def test_a_polling_client_resumes_with_since_and_epoch(running: Running) -> None:
    first = await Collector(running.url, transports=POLLING).connect()
    await first.wait_for(lambda c: bool(c.snapshots), what="the snapshot")
    await running.alert("נהריה")
    await first.wait_for(lambda c: len(c.events) == 1, what="the first event")
    epoch, seen = first.snapshots[0]["epoch"], first.last_seq
    await first.disconnect()
    await running.alert("אילת")  # missed while away
    await running.alert("אבו גוש")
    again = await Collector(running.url, {"since": seen, "epoch": epoch},
                            transports=POLLING).connect()
    await again.wait_for(lambda c: len(c.events) == 2, what="the missed events")
    await asyncio.sleep(0.3)
    assert again.snapshots == [] and [e["seq"] for e in again.events] == [seen + 1, seen + 2]
    await again.disconnect()


async def test_a_polling_client_subscribes_and_gets_only_what_it_chose(running: Running) -> None:
    client = await Collector(running.url, {"locations": ["אילת"]}, transports=POLLING).connect()
    await client.wait_for(lambda c: bool(c.snapshots), what="the snapshot")
    ack = await client.client.call("subscribe", {"locations": ["נהריה"]}, timeout=10)
    assert {"epoch", "seq", "incidents"} <= set(ack)
    await running.alert("אבו גוש")  # not chosen
    await running.alert("נהריה")
    await client.wait_for(lambda c: len(c.events) == 1, what="the chosen event")
    await asyncio.sleep(0.3)
    assert [e["location"] for e in client.events] == ["נהריה"]
    await client.disconnect()


async def test_a_polling_client_that_floods_is_refused_then_dropped(running: Running) -> None:
    client = await Collector(running.url, transports=POLLING).connect()
    await client.wait_for(lambda c: bool(c.snapshots), what="the snapshot")
    before = _dropped("flood")
    answers = []
    for _ in range(3 + 4):  # the burst, then refusals up to one short of max_refusals
        answers.append(await client.client.call("no-such-event", timeout=10))
    assert all("unknown event" in a["error"] for a in answers[:3])
    assert all("too many requests" in a["error"] for a in answers[3:])
    await client.client.emit("no-such-event")  # the fifth refusal in a row
    await poll_until(lambda: not client.client.connected, 10, lambda: "not dropped")
    assert _dropped("flood") == before + 1


async def _polling_session(session: aiohttp.ClientSession, url: str) -> str:
    """Open an Engine.IO session and the default namespace by hand; its sid."""
    base = f"{url}/socket.io/?EIO=4&transport=polling"
    async with session.get(base) as response:
        opened = await response.text()
    assert opened.startswith("0{"), opened
    sid = opened.split('"sid":"')[1].split('"')[0]
    async with session.post(f"{base}&sid={sid}", data="40") as response:
        assert response.status == 200
    async with session.get(f"{base}&sid={sid}") as response:
        assert (await response.text()).startswith("40{")
    return sid


@pytest.mark.parametrize("payload", ["42[1]", "42[]", "43", "0", "9", "4garbage",
                                     "2\x1e42[1]", "b" + "AAAA"])
async def test_a_malformed_polling_post_closes_the_session(running: Running,
                                                            payload: str) -> None:
    before = _dropped("malformed")
    async with aiohttp.ClientSession() as session:
        sid = await _polling_session(session, running.url)
        base = f"{running.url}/socket.io/?EIO=4&transport=polling&sid={sid}"
        async with session.post(base, data=payload.encode()) as response:
            assert response.status in (200, 400)
        await poll_until(lambda: sid not in running.notifier.sio.eio.sockets
                         or running.notifier.sio.eio.sockets[sid].closed, 10,
                         lambda: "the session was not closed")
    assert _dropped("malformed") == before + 1


async def test_a_polling_client_that_stops_polling_is_dropped_at_its_backlog(
    running: Running,
) -> None:
    before = _dropped("backlog")
    async with aiohttp.ClientSession() as session:
        sid = await _polling_session(session, running.url)
        # Never polls again: each batch waits in its queue until the bound (16) is passed.
        for index in range(40):
            await running.alert(f"unknown-{index}")
            await asyncio.sleep(0.01)
        await poll_until(lambda: _dropped("backlog") == before + 1, 10,
                         lambda: "the silent polling client was not dropped")
        assert sid not in running.notifier.sio.eio.sockets or (
            running.notifier.sio.eio.sockets[sid].closed)


# The hold (client_queue.py): a long-poll's answer waits up to --poll-hold-ms for more batches.

async def test_alerts_posted_in_quick_succession_reach_a_polling_client_once_each_in_order(
    running: Running,
) -> None:
    """With the default hold, several batches share one answer: each event still arrives
    exactly once, in seq order."""
    client = await Collector(running.url, transports=POLLING).connect()
    await client.wait_for(lambda c: bool(c.snapshots), what="the snapshot")
    start = client.snapshots[0]["seq"]
    for index in range(8):
        await running.alert(f"unknown-quick-{index}")
    await client.wait_for(lambda c: len(c.events) >= 8, what="eight events")
    await asyncio.sleep(0.5)  # anything duplicated would have arrived by now
    assert [e["seq"] for e in client.events] == list(range(start + 1, start + 9))
    assert [e["location"] for e in client.events] == [f"unknown-quick-{i}" for i in range(8)]
    await client.disconnect()


@pytest.fixture
async def held_an_hour(catalog: Catalog) -> AsyncIterator[Running]:
    """A notifier whose hold is an hour: anything a test sees within its timeout was not held."""
    async with _notifier(catalog, NotifierConfig(poll_hold_s=3600)) as started:
        yield started


async def test_the_hold_never_applies_to_websocket_clients_connecting_or_upgrading(
    held_an_hour: Running,
) -> None:
    websocket = await Collector(held_an_hour.url).connect()  # websocket only
    default = await Collector(held_an_hour.url, transports=None).connect()  # polling, upgrade
    for client in (websocket, default):  # the handshake and the snapshot are never held
        await client.wait_for(lambda c: bool(c.snapshots), what="the snapshot")
    await poll_until(lambda: default.client.transport() == "websocket", 15,
                     lambda: "the default client never upgraded")
    for index in range(3):
        await held_an_hour.alert(f"unknown-ws-{index}")
    for client in (websocket, default):
        await client.wait_for(lambda c: len(c.events) == 3, what="three events")
        assert [e["location"] for e in client.events] == [f"unknown-ws-{i}" for i in range(3)]
    await websocket.disconnect()
    await default.disconnect()


async def test_a_held_answer_goes_at_once_with_what_the_client_asked_for(
    held_an_hour: Running,
) -> None:
    """Batches held for a polling client go, in order, as soon as anything else is queued
    for it (here the acknowledgement of its subscribe): its own requests are never held."""
    client = await Collector(held_an_hour.url, transports=POLLING).connect()
    await client.wait_for(lambda c: bool(c.snapshots), what="the snapshot")
    for index in range(3):
        await held_an_hour.alert(f"unknown-held-{index}")
    await asyncio.sleep(0.2)  # the batches are queued and held (an hour)
    ack = await client.client.call("subscribe", {"locations": ["אילת"]}, timeout=10)
    assert {"epoch", "seq", "incidents"} <= set(ack)
    await client.wait_for(lambda c: len(c.events) == 3, what="the held events")
    assert [e["location"] for e in client.events] == [f"unknown-held-{i}" for i in range(3)]
    await client.disconnect()
