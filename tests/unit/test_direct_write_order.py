"""Issue 13, item 1: a direct websocket write races engineio's queue (the connect snapshot, the
acknowledgements of subscribe requests) and never overtakes it — what a client sees is in the
order it was sent: the snapshot first, then every event once, in seq order, with no gap.

The same run with the writer-idle check removed reorders events: the race is real, and this
test would see a fast path that forgot it."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from alertflow.backends.memory import MemoryStateStore
from alertflow.domain.alert import Alert
from alertflow.domain.locations import Catalog
from alertflow.notifier import Notifier, NotifierConfig
from alertflow.notifier import fanout as fanout_module
from alertflow.roles.http import serve_app
from tests.conftest import free_port
from tests.support import RawSocketIO, poll_until

ALERTS = 300
REQUESTS = 300


async def _race(catalog: Catalog) -> list[tuple[str, Any]]:
    """A client connecting while alerts flow, asking for acknowledged snapshots all along;
    returns what it received, in order: ("snapshot", seq), ("event", seq), ("ack", id)."""
    store = MemoryStateStore(catalog)
    notifier = Notifier(store, store.feed(), catalog,
                        NotifierConfig(client_rate=100_000, client_burst=100_000))
    stop, port = asyncio.Event(), free_port()
    feed = asyncio.create_task(notifier.run_feed())
    server = asyncio.create_task(serve_app(notifier.asgi_app(), "127.0.0.1", port, stop, 1))
    await poll_until(lambda: notifier.ready, 10, lambda: "not synced")
    client = RawSocketIO(f"http://127.0.0.1:{port}")

    async def alerts() -> None:
        for index in range(ALERTS):
            now = int(time.time() * 1000)
            await store.apply(Alert(id=f"race-{index}", kind="alert", type="missiles",
                                    locations=[f"place-{index % 40}"], issued_at=now,
                                    duration_s=600, received_at=now, source="t"), now)
            await asyncio.sleep(0)

    try:
        for _ in range(200):
            try:
                answer = await client.connect()
                break
            except OSError:
                await asyncio.sleep(0.05)
        assert answer.startswith("40")
        producing = asyncio.create_task(alerts())
        for ack_id in range(1, REQUESTS + 1):
            await client.send(f"42{ack_id}" + json.dumps(["subscribe", {"all": True}]))
            if ack_id % 10 == 0:
                await asyncio.sleep(0)
        await producing
        seen: list[tuple[str, Any]] = []  # what the client got, in order
        newest = acks = 0
        while acks < REQUESTS or newest < ALERTS:
            packet = await client.recv(timeout=10)
            assert packet, "closed"
            if packet.startswith('42["snapshot",'):
                seen.append(("snapshot", json.loads(packet[2:])[1]["seq"]))
            elif packet.startswith('42["alerts",'):
                batch = [event["seq"] for event in json.loads(packet[2:])[1]]
                seen += [("event", seq) for seq in batch]
                newest = max(newest, *batch)
            elif packet.startswith("43"):
                seen.append(("ack", int(packet[2:packet.index("[")])))
                acks += 1
        return seen
    finally:
        await client.close()
        stop.set()
        await server
        feed.cancel()


def _in_order(seen: list[tuple[str, Any]]) -> bool:
    """The snapshot first, then every event after it exactly once, in seq order."""
    if not seen or seen[0][0] != "snapshot":
        return False
    seqs = [value for kind, value in seen if kind == "event"]
    return seqs == list(range(seen[0][1] + 1, seen[0][1] + 1 + len(seqs)))


async def test_direct_writes_never_overtake_queued_packets(catalog: Catalog) -> None:
    seen = await _race(catalog)
    assert _in_order(seen)
    assert [value for kind, value in seen if kind == "event"][-1] == ALERTS
    assert sorted(value for kind, value in seen if kind == "ack") == list(
        range(1, REQUESTS + 1))


async def test_without_the_idle_check_the_race_reorders_what_a_client_sees(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch,
) -> None:
    def careless(_socket: Any, transport: Any, frame: bytes) -> bool:
        if transport is None or transport.is_closing():
            return False
        transport.write(frame)
        return True

    monkeypatch.setattr(fanout_module, "write_directly", careless)
    assert not _in_order(await _race(catalog)), (
        "the race never happened: this test cannot tell a safe fast path from a careless one")
