"""Issue 3, item 2: the broker (a private RabbitMQ node) crashes mid-stream and comes back.

While it is down the listener answers 503 quickly (never a 2xx, never a hang past its confirm
timeout) and reports not-ready; afterwards it is ready again without a restart, and every alert
answered 202 — before, during and after — is delivered exactly once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
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
    wait_until,
)
from tests.support import PrivateRabbit, metrics, ready, readyz

pytestmark = pytest.mark.chaos

RATE = 100
AFTER_S = 5  # traffic once the listener is ready again, however long the node takes to boot
MAX_ALERTS = RATE * 90
CONFIRM_TIMEOUT_S = 3  # Cluster's listeners run with --confirm-timeout-s 3
DOWN_S = 5  # from the crash to the start of the restart (the node then boots for a few s)
DURATION_S = 8


async def test_broker_crash_and_restart(
    private_rabbit: PrivateRabbit, clusters: Clusters, redis_url: str, tmp_path: Path
) -> None:
    cluster = clusters(private_rabbit.url, redis_url)
    listener = cluster.add("listener", 0)
    cluster.add("processor", 0)
    cluster.add("processor", 1)
    cluster.add("notifier", 0)
    fleet = await Fleet(tmp_path).start()
    timeline: dict[str, float] = {}
    readiness_while_down: list[dict[str, object]] = []
    try:
        await fleet.connect(cluster.of("notifier"), 20)
        locations = real_locations(50)
        listener_pid = listener.proc.pid if listener.proc else None

        async def outage() -> None:
            await asyncio.to_thread(private_rabbit.kill)  # returns once the VM is gone
            timeline["killed"] = time.monotonic()
            await asyncio.sleep(1.5)
            for name in ("listener0", "processor0"):
                body = await asyncio.to_thread(readyz, cluster.urls[name])
                readiness_while_down.append({"role": name, **body})
            await asyncio.sleep(DOWN_S - 1.5)
            timeline["restarting"] = time.monotonic()
            await asyncio.to_thread(private_rabbit.start)
            timeline["broker_up"] = time.monotonic()
            await wait_until(lambda: ready(cluster.urls["listener0"]), 60, "listener ready")
            timeline["listener_ready"] = time.monotonic()

        outage_task: list[asyncio.Task[None]] = []

        def fault(sent: int) -> None:
            if sent == RATE * 5:
                outage_task.append(asyncio.create_task(outage()))

        def bodies() -> Iterator[dict[str, Any]]:
            for index in range(MAX_ALERTS):
                ready_at = timeline.get("listener_ready")
                if ready_at is not None and time.monotonic() > ready_at + AFTER_S:
                    return
                yield alert(locations[index % 50], DURATION_S)

        source = Source(cluster.of("listener"), rate=RATE)
        started = time.monotonic()
        await source.run(bodies(), during=fault)
        await asyncio.wait_for(outage_task[0], 60)
        accepted = source.accepted
        settled = await fleet.settle(len(accepted), timeout=90)
        delivery = check_exactly_once(await fleet.dump(), accepted, set(source.bodies),
                                      stream_last=cluster.stream_position()[0])
        depths = await wait_queue_empty(private_rabbit.url, cluster.queue)

        answers = [a for answers in source.answers.values() for a in answers]
        down = [a for a in answers
                if timeline["killed"] <= a.started < timeline["restarting"]]
        slowest = max(a.seconds for a in answers)
        report("broker-outage", settled=settled, posted=source.posted,
               offered_rate=f"{source.offered_rate:.0f}/s", statuses=dict(source.statuses()),
               answers_while_down=len(down),
               statuses_while_down=sorted({a.status for a in down}),
               slowest_answer_s=f"{slowest:.2f}",
               ready_after_boot_s=f"{timeline['listener_ready'] - timeline['broker_up']:.1f}",
               broker_boot_s=f"{timeline['broker_up'] - timeline['restarting']:.1f}",
               readiness_while_down=readiness_while_down, queue_and_dlq=depths,
               seconds=f"{time.monotonic() - started:.1f}", delivery=delivery.summary())

        # While the broker was down: answered, quickly, and never with a promise.
        assert down, "no request was sent while the broker was down"
        assert {a.status for a in down} == {503}, sorted({a.status for a in down})
        assert slowest <= CONFIRM_TIMEOUT_S + 1.5, f"an answer took {slowest:.1f} s"
        assert all(a.status in (202, 503) for a in answers), source.statuses()
        assert all(not r["ready"] and "broker" in r["missing"] for r in readiness_while_down)
        # Back by itself: the same listener process, ready and accepting again.
        assert listener.proc is not None and listener.proc.pid == listener_pid
        assert listener.alive()
        after = [a for a in answers if a.started > timeline["listener_ready"] + 2]
        assert after and all(a.status == 202 for a in after), sorted({a.status for a in after})
        assert depths == (0, 0)
        assert metrics(cluster.urls["listener0"])["alertflow_broker_connected"] == 1
    finally:
        await fleet.close()

