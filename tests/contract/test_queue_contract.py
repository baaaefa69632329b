"""The queue port: durable hand-over from listener to processors, acks, retries, dead letters."""

from __future__ import annotations

import asyncio
import time

import pytest

from alertflow.backends.ports import BrokerUnavailable, Verdict
from alertflow.backends.rabbitmq import QueueSpec, RabbitPublisher
from alertflow.domain.alert import Alert, decode_alert
from tests.contract.conftest import QueueUnderTest
from tests.support import delete_queues


def make_alert(alert_id: str) -> Alert:
    now = int(time.time() * 1000)
    return Alert(id=alert_id, kind="alert", type="missiles", locations=["x"], issued_at=now,
                 duration_s=30, received_at=now, source="test")


async def until(condition, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def ready(queue: QueueUnderTest) -> None:
    async def is_ready() -> bool:
        return bool(queue.publisher.ready)

    await until(is_ready)


async def test_every_published_alert_is_delivered_once_and_acked(
    queue_under_test: QueueUnderTest,
) -> None:
    await ready(queue_under_test)
    alerts = [make_alert(f"a{i}") for i in range(200)]
    await asyncio.gather(*(queue_under_test.publisher.publish(alerts[i:i + 20])
                           for i in range(0, 200, 20)))
    received: list[str] = []
    consumer = queue_under_test.make_consumer()

    async def handler(body: bytes, message_id: str | None) -> Verdict:
        alert = decode_alert(body)
        assert message_id == alert.id
        received.append(alert.id)
        return Verdict.ACK

    task = asyncio.create_task(consumer.run(handler))

    async def all_received() -> bool:
        return len(received) >= 200

    await until(all_received)
    await asyncio.sleep(0.3)
    await consumer.stop()
    await task
    assert sorted(received) == sorted(alert.id for alert in alerts)
    assert await queue_under_test.depth() == 0


async def test_retry_redelivers_then_dead_letters_past_the_limit(
    queue_under_test: QueueUnderTest,
) -> None:
    await ready(queue_under_test)
    await queue_under_test.publisher.publish([make_alert("flaky"), make_alert("poison")])
    attempts: dict[str, int] = {}
    consumer = queue_under_test.make_consumer()

    async def handler(body: bytes, message_id: str | None) -> Verdict:
        alert_id = decode_alert(body).id
        attempts[alert_id] = attempts.get(alert_id, 0) + 1
        if alert_id == "flaky":
            return Verdict.ACK if attempts[alert_id] >= 2 else Verdict.RETRY
        return Verdict.RETRY  # never succeeds

    task = asyncio.create_task(consumer.run(handler))

    async def poison_dead() -> bool:
        return await queue_under_test.dead_letters() == 1

    await until(poison_dead, timeout=30)
    await consumer.stop()
    await task
    assert attempts["flaky"] == 2
    assert attempts["poison"] == 3  # the first delivery plus the delivery limit of 2
    assert await queue_under_test.depth() == 0


async def test_dead_verdict_dead_letters_at_once(queue_under_test: QueueUnderTest) -> None:
    await ready(queue_under_test)
    await queue_under_test.publisher.publish([make_alert("bad")])
    calls = 0
    consumer = queue_under_test.make_consumer()

    async def handler(body: bytes, message_id: str | None) -> Verdict:
        nonlocal calls
        calls += 1
        return Verdict.DEAD

    task = asyncio.create_task(consumer.run(handler))

    async def dead() -> bool:
        return await queue_under_test.dead_letters() == 1

    await until(dead, timeout=30)
    await consumer.stop()
    await task
    assert calls == 1


async def test_stop_lets_in_flight_work_finish_and_settle(
    queue_under_test: QueueUnderTest,
) -> None:
    await ready(queue_under_test)
    await queue_under_test.publisher.publish([make_alert(f"s{i}") for i in range(5)])
    started = asyncio.Event()
    finished: list[str] = []
    consumer = queue_under_test.make_consumer()

    async def slow_handler(body: bytes, message_id: str | None) -> Verdict:
        started.set()
        await asyncio.sleep(0.5)
        finished.append(decode_alert(body).id)
        return Verdict.ACK

    task = asyncio.create_task(consumer.run(slow_handler))
    await asyncio.wait_for(started.wait(), 15)
    await consumer.stop()
    await asyncio.wait_for(task, 15)
    assert finished, "the in-flight handler was not allowed to finish"
    # What finished was acked; the rest is still queued for the next consumer.
    await asyncio.sleep(0.5)
    assert await queue_under_test.depth() == 5 - len(finished)


async def test_publisher_without_broker_refuses_instead_of_pretending(
    rabbitmq: str, unique: str,
) -> None:
    publisher = RabbitPublisher("amqp://guest:guest@127.0.0.1:1/%2F", QueueSpec(unique), 1)
    await publisher.start()
    await asyncio.sleep(0.3)
    assert not publisher.ready
    with pytest.raises(BrokerUnavailable):
        await publisher.publish([make_alert("nowhere")])
    await publisher.close()


async def test_concurrent_publishes_share_socket_writes(rabbitmq: str, unique: str) -> None:
    """pika frames written one send() each cost a fifth of the listener's CPU: the publisher
    batches the frames of an event-loop iteration (if pika stops calling the hook, this fails)."""
    publisher = RabbitPublisher(rabbitmq, QueueSpec(name=unique), confirm_timeout_s=5)
    await publisher.start()
    try:
        await until(lambda: asyncio.sleep(0, publisher.ready))
        connection = publisher._connection
        assert connection is not None
        frames, writes = connection.frames_sent, connection.writes
        await asyncio.gather(*(publisher.publish([make_alert(f"b{i}")]) for i in range(100)))
        assert connection.frames_sent - frames >= 300  # method, header and body per alert
        assert connection.writes - writes < 20
    finally:
        await publisher.close()
        delete_queues(rabbitmq, unique)
