"""Issue 3, item 5: a rolling restart under load. Each role instance in turn gets SIGTERM,
drains its in-flight work and exits 0 within its grace period, and is started again; sources
retry on the other listener, clients resume on the other notifier; nothing is lost or shown
twice."""

from __future__ import annotations

import asyncio
import subprocess
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
)

pytestmark = pytest.mark.chaos

RATE = 100
GRACE_S = 5
DURATION_S = 5
CLIENTS = 60
ORDER = ["listener0", "listener1", "processor0", "processor1", "notifier0", "notifier1"]


async def test_rolling_restart_of_every_role_under_load(
    clusters: Clusters, rabbitmq: str, redis_url: str, tmp_path: Path
) -> None:
    cluster = clusters(rabbitmq, redis_url)
    grace = ["--graceful-timeout-s", str(GRACE_S)]
    for kind in ("listener", "processor", "notifier"):
        for index in (0, 1):
            cluster.add(kind, index, grace)
    fleet = await Fleet(tmp_path).start()
    exits: dict[str, dict[str, Any]] = {}
    try:
        await fleet.connect(cluster.of("notifier"), CLIENTS)
        locations = real_locations(50)
        done = asyncio.Event()

        async def roll() -> None:
            try:
                await asyncio.sleep(2)  # under load first
                for name in ORDER:
                    role = cluster.roles[name]
                    sent = time.monotonic()
                    try:
                        code: int | None = await asyncio.to_thread(role.terminate, GRACE_S + 5)
                    except subprocess.TimeoutExpired:
                        code = None  # still draining long after its grace period: a failure
                        role.kill()
                    exits[name] = {"code": code, "seconds": round(time.monotonic() - sent, 2)}
                    await asyncio.to_thread(cluster.restart, name)
                    await asyncio.sleep(1)  # a little load on the new instance first
            finally:
                done.set()  # the source stops whatever happened

        def bodies() -> Iterator[dict[str, Any]]:
            index = 0
            while not done.is_set():
                yield alert(locations[index % 50], DURATION_S)
                index += 1
            for _ in range(RATE):  # and a second of traffic after the last restart
                yield alert(locations[index % 50], DURATION_S)
                index += 1

        rolling = asyncio.create_task(roll())
        source = Source(cluster.of("listener"), rate=RATE, retry_until_accepted=True)
        started = time.monotonic()
        await source.run(bodies())
        await rolling
        accepted = source.accepted
        settled = await fleet.settle(len(accepted), timeout=90)
        status = await fleet.status(len(accepted))
        delivery = check_exactly_once(await fleet.dump(), accepted, set(source.bodies),
                                      stream_last=cluster.stream_position()[0])
        depths = await wait_queue_empty(rabbitmq, cluster.queue)
        retried = sum(1 for answers in source.answers.values() if len(answers) > 1)
        report("rolling-restart", settled=settled, posted=source.posted,
               statuses=dict(source.statuses()), retried=retried, exits=exits,
               client_moves=status["drops"], queue_and_dlq=depths,
               seconds=f"{time.monotonic() - started:.1f}", delivery=delivery.summary())
        for name in ORDER:
            assert exits[name]["code"] == 0, f"{name} exited {exits[name]['code']}"
            # Within its grace period (plus the interpreter's own exit).
            assert exits[name]["seconds"] <= GRACE_S + 2, exits[name]
        assert accepted == set(source.bodies), "every alert is eventually accepted"
        assert depths == (0, 0)
    finally:
        await fleet.close()
