"""Issue 3, item 6: poison messages and strangers.

Messages no listener would produce, published straight to the queue, land in the dead-letter
queue with one log line naming each, and processing goes on. Clients that send undocumented
events, malformed packets or floods of `subscribe` are answered with an error or disconnected,
and the other clients are unaffected.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pika
import pytest
import socketio

from tests.chaos.harness import (
    Clusters,
    Source,
    alert,
    check_exactly_once,
    close_clients,
    connect_clients,
    real_locations,
    report,
    settle,
    wait_until,
)
from tests.support import RawSocketIO, metrics, queue_depths

pytestmark = pytest.mark.chaos


def _valid_message(**changes: Any) -> dict[str, Any]:
    now = int(time.time() * 1000)
    return {"id": "x", "kind": "alert", "type": "missiles", "locations": ["שדרות"],
            "issued_at": now, "duration_s": 60, "received_at": now, "source": "chaos",
            **changes}


# message id → body: nothing a listener would ever enqueue.
POISON: dict[str, bytes] = {
    "poison-not-json": b"\xff\xfe{not json at all",
    "poison-wrong-shape": json.dumps({"hello": "world"}).encode(),
    "poison-array": json.dumps([1, 2, 3]).encode(),
    "poison-no-locations": json.dumps(_valid_message(id="p3", locations=[])).encode(),
    # Well-formed JSON of the right shape, with a value only a forger could send: an issued_at
    # beyond what Lua's doubles hold exactly. (A `|` in a type is no longer poison: types are
    # free text, stored as JSON in Redis; tests/property/test_source_text_properties.py.)
    "poison-huge-time": json.dumps(_valid_message(id="p5", issued_at=2**62)).encode(),
}


def publish_raw(amqp_url: str, queue: str, bodies: dict[str, bytes]) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        for message_id, body in bodies.items():
            channel.basic_publish("", queue, body, pika.BasicProperties(
                message_id=message_id, delivery_mode=2, content_type="application/json"),
                mandatory=True)
    finally:
        connection.close()


def dead_letters(amqp_url: str, queue: str) -> list[str | None]:
    """The message ids in the dead-letter queue (read without removing them)."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        ids: list[str | None] = []
        while True:
            method, properties, _body = channel.basic_get(queue + ".dead", auto_ack=False)
            if method is None:
                return ids
            ids.append(properties.message_id)
    finally:
        connection.close()  # unacked: they go back to the dead-letter queue


async def test_poison_messages_are_dead_lettered_and_strangers_refused(
    clusters: Clusters, rabbitmq: str, redis_url: str, tmp_path: Path
) -> None:
    cluster = clusters(rabbitmq, redis_url)
    cluster.add("listener", 0)
    cluster.add("processor", 0)
    cluster.add("notifier", 0)
    notifier = cluster.urls["notifier0"]
    clients = await connect_clients([notifier], 20)
    locations = real_locations(20)
    source = Source(cluster.of("listener"), rate=50)
    strangers: dict[str, Any] = {}
    try:
        async def hostile() -> None:
            await asyncio.sleep(0.5)
            publish_raw(rabbitmq, cluster.queue, POISON)
            strangers.update(await _strangers(notifier))

        stranger_task = asyncio.create_task(hostile())
        await source.run(alert(locations[i % 20], 3) for i in range(300))
        await stranger_task
        accepted = source.accepted
        settled = await settle(clients, len(accepted), timeout=60)
        delivery = check_exactly_once(clients, accepted, set(source.bodies),
                                      stream_last=cluster.stream_position()[0])
        await wait_until(lambda: queue_depths(rabbitmq, cluster.queue) == (0, len(POISON)),
                         30, "the poison in the dead-letter queue")
        dead = dead_letters(rabbitmq, cluster.queue)
        log = cluster.roles["processor0"].log()
        lines = {i: [line for line in log.splitlines() if i in line] for i in POISON}
        notifier_log = cluster.roles["notifier0"].log()
        notifier_metrics = metrics(notifier)
        report("poison-and-strangers", settled=settled, posted=source.posted,
               statuses=dict(source.statuses()), poison=len(POISON),
               dead_lettered=sorted(i or "?" for i in dead),
               log_lines_per_poison={i: len(v) for i, v in lines.items()},
               strangers=strangers,
               refused=notifier_metrics.get("alertflow_client_requests_refused_total"),
               dropped={k: v for k, v in notifier_metrics.items()
                        if k.startswith("alertflow_clients_dropped_total{")},
               delivery=delivery.summary())

        # Poison: each in the dead-letter queue, each named by exactly one log line.
        assert sorted(i or "" for i in dead) == sorted(POISON)
        assert all(len(found) == 1 for found in lines.values()), lines
        assert all("dead-lettered" in found[0] for found in lines.values())
        # Strangers: answered with an error, or disconnected.
        assert strangers["unknown_event"]["field"] == "event"
        assert strangers["extra_arguments"]["error"]
        assert strangers["flood_refused"] > 0 and strangers["flood_disconnected"]
        assert strangers["malformed_closed"] == strangers["malformed_sent"]
        assert strangers["oversize_closed"]
        # ... and nobody else noticed: every client got everything exactly once (above), and
        # no exception reached the notifier's log.
        assert "Traceback" not in notifier_log and "handler error" not in notifier_log
        assert len(accepted) == 300
    finally:
        await close_clients(clients)


async def _strangers(url: str) -> dict[str, Any]:
    """Misbehave in every way the protocol leaves open; report what the server answered."""
    seen: dict[str, Any] = {}
    rude = socketio.AsyncClient(reconnection=False)
    await rude.connect(url, transports=["websocket"], wait_timeout=10)
    seen["unknown_event"] = await rude.call("admin", {"drop": "tables"}, timeout=10)
    seen["extra_arguments"] = await rude.call("subscribe", ({"all": True}, 2, 3), timeout=10)
    await rude.emit("whatever")  # no ack asked: nothing to answer, nothing to break
    await rude.disconnect()

    # A flood of subscribe: refused once over the per-client budget, then disconnected.
    flooder = RawSocketIO(url)
    await flooder.connect()
    for ack in range(1, 400):
        await flooder.send(f"42{ack}" + json.dumps(["subscribe", {"all": True}]))
    refused = 0
    async for packet in _packets_until_closed(flooder):
        if packet.startswith("43") and "too many requests" in packet:
            refused += 1
    seen["flood_refused"] = refused
    seen["flood_disconnected"] = flooder.closed
    await flooder.close()

    # Frames no Socket.IO client sends: each closes that connection, and only it.
    malformed = ['42[]', '42[123]', '42[{"a":1}]', '42"x"', '4', '9', '', '431[]', '44',
                 '451-["subscribe",{"_placeholder":true,"num":0}]', '42[["subscribe"]]']
    closed = 0
    for frame in malformed:
        raw = RawSocketIO(url)
        await raw.connect()
        await raw.send(frame)
        async for _ in _packets_until_closed(raw):
            pass  # the snapshot, then the close
        closed += raw.closed
        await raw.close()
    seen["malformed_sent"], seen["malformed_closed"] = len(malformed), closed
    binary = RawSocketIO(url)
    await binary.connect()
    await binary.send(b"\x04\x00binary")
    async for _ in _packets_until_closed(binary):
        pass
    seen["binary_closed"] = binary.closed
    await binary.close()
    huge = RawSocketIO(url)
    await huge.connect()
    await huge.send("42" + json.dumps(["subscribe", {"locations": ["x" * 100] * 2000}]))
    async for _ in _packets_until_closed(huge):
        pass
    seen["oversize_closed"] = huge.closed
    await huge.close()
    return seen


async def _packets_until_closed(raw: RawSocketIO, quiet_s: float = 5) -> AsyncIterator[str]:
    """Every packet until the server closes the connection, or until it has been silent for
    `quiet_s` (then `raw.closed` stays False: the server kept the connection)."""
    while True:
        try:
            packet = await raw.recv(timeout=quiet_s)
        except TimeoutError:
            return
        if not packet:
            return
        yield packet
