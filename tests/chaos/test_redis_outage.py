"""Issue 3, item 3: Redis (a private one with an AOF) is killed mid-stream for 10 s.

Processors pause: no acks, no dead-lettering, no busy loop. Notifiers and their clients keep
their connections. After the restart every accepted alert is delivered exactly once and every
window closes.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from tests.chaos.harness import (
    Clusters,
    Fleet,
    Source,
    alert,
    check_exactly_once,
    real_locations,
    report,
    wait_queue_empty,
)
from tests.support import PrivateRedis, metrics, queue_depths, readyz

pytestmark = pytest.mark.chaos

RATE = 100
BEFORE_S, OUTAGE_S, AFTER_S = 3, 10, 4
# Alerts outlast the outage, so that they open live windows when Redis is back (one processed
# after its window ended would be shown late: tests/chaos/test_redis_failover.py covers those).
DURATION_S = 15
CLIENTS = 40


def _processor_sample(urls: list[str]) -> dict[str, float]:
    cpu = processed = dead = 0.0
    for url in urls:
        samples = metrics(url)
        cpu += samples.get("process_cpu_seconds_total", 0.0)
        processed += sum(v for k, v in samples.items()
                         if k.startswith("alertflow_alerts_processed_total{"))
        dead += sum(v for k, v in samples.items()
                    if k.startswith("alertflow_messages_dead_lettered_total{"))
    return {"cpu_s": cpu, "processed": processed, "dead_lettered": dead}


async def test_redis_killed_for_ten_seconds(
    private_redis: PrivateRedis, clusters: Clusters, rabbitmq: str, tmp_path: Path
) -> None:
    cluster = clusters(rabbitmq, private_redis.url)
    cluster.add("listener", 0)
    cluster.add("processor", 0)
    cluster.add("processor", 1)
    notifier0 = cluster.add("notifier", 0)
    notifier1 = cluster.add("notifier", 1)
    notifier_pids = [n.proc.pid for n in (notifier0, notifier1) if n.proc]
    processors = cluster.of("processor")
    fleet = await Fleet(tmp_path).start()
    observed: dict[str, Any] = {}
    try:
        await fleet.connect(cluster.of("notifier"), CLIENTS)
        locations = real_locations(50)

        async def outage() -> None:
            private_redis.kill()  # SIGKILL: what it acknowledged is in the fsynced AOF
            await asyncio.sleep(1.0)  # let the roles notice
            observed["start"] = await asyncio.to_thread(_processor_sample, processors)
            observed["queue_start"] = queue_depths(rabbitmq, cluster.queue)
            observed["notifier_ready"] = [
                (await asyncio.to_thread(metrics, url)).get("alertflow_redis_connected")
                for url in cluster.of("notifier")]
            observed["notifier_readyz"] = [await asyncio.to_thread(readyz, url)
                                           for url in cluster.of("notifier")]
            await asyncio.sleep(OUTAGE_S - 1.5)
            observed["end"] = await asyncio.to_thread(_processor_sample, processors)
            observed["queue_end"] = queue_depths(rabbitmq, cluster.queue)
            observed["fleet"] = await fleet.status(0)
            await asyncio.sleep(0.5)
            await asyncio.to_thread(private_redis.start)

        tasks: list[asyncio.Task[None]] = []

        def fault(sent: int) -> None:
            if sent == RATE * BEFORE_S:
                tasks.append(asyncio.create_task(outage()))

        total = RATE * (BEFORE_S + OUTAGE_S + AFTER_S)
        source = Source(cluster.of("listener"), rate=RATE)
        started = time.monotonic()
        await source.run((alert(locations[i % 50], DURATION_S) for i in range(total)),
                         during=fault)
        await asyncio.wait_for(tasks[0], 60)
        accepted = source.accepted
        settled = await fleet.settle(len(accepted), timeout=90)
        status = await fleet.status(len(accepted))
        # A restarted Redis cannot prove its AOF kept everything (prod fsyncs every second),
        # so the stream's epoch changes: each client gets exactly one resync snapshot, of the
        # state where the reloaded history ends, and every event after it (nothing lost).
        delivery = check_exactly_once(await fleet.dump(), accepted, set(source.bodies),
                                      stream_last=cluster.stream_position()[0], rollbacks=True)
        depths = await wait_queue_empty(rabbitmq, cluster.queue)
        start, end = observed["start"], observed["end"]
        report("redis-outage", settled=settled, posted=source.posted,
               statuses=dict(source.statuses()), outage_window_s=OUTAGE_S - 1.5,
               processor_cpu_s=f"{end['cpu_s'] - start['cpu_s']:.2f}",
               processed_during=end["processed"] - start["processed"],
               dead_lettered=end["dead_lettered"],
               queue_ready=f"{observed['queue_start'][0]}→{observed['queue_end'][0]}",
               notifier_redis_connected=observed["notifier_ready"],
               notifier_readyz=observed["notifier_readyz"],
               client_drops=status["drops"], connections=status["connections"],
               queue_and_dlq=depths, seconds=f"{time.monotonic() - started:.1f}",
               delivery=delivery.summary())

        assert len(accepted) == total, source.statuses()  # RabbitMQ was up all along
        # Paused: nothing applied or acked, nothing dead-lettered, the backlog waits in the queue.
        assert end["processed"] == start["processed"]
        assert end["dead_lettered"] == 0
        assert observed["queue_end"][0] > observed["queue_start"][0]
        # No busy loop: two processors together used a small fraction of one core.
        window = OUTAGE_S - 1.5
        assert end["cpu_s"] - start["cpu_s"] < 0.2 * window
        # The notifiers knew Redis was gone, and kept every client connected all along.
        assert observed["notifier_ready"] == [0.0, 0.0]
        assert all("redis_feed" in body["missing"] for body in observed["notifier_readyz"])
        assert observed["fleet"]["connected"] == CLIENTS
        assert status["drops"] == 0 and status["connections"] == CLIENTS
        assert [n.proc.pid for n in (notifier0, notifier1) if n.proc] == notifier_pids
        assert depths == (0, 0)
        assert delivery.resyncs == CLIENTS
    finally:
        await fleet.close()
