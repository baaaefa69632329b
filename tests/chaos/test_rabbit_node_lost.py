"""Issue 12, item 5: the node leading the quorum queue of a three-node RabbitMQ cluster dies
(SIGKILL) mid-stream.

The roles are given all three nodes (`--amqp-url a,b,c`) and are connected to the leader when it
dies (the queue's first declaration makes its node the leader, and every role tries the first
address first). They move to a surviving node by themselves, the same processes. The source
retries a 503 with the same alert id, as real sources do: the listener may answer 503 for a
moment, never 202 for an alert the cluster did not confirm. Every alert reaches every client
exactly once and every window closes exactly once.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

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
from tests.chaos.replicated import RabbitCluster
from tests.support import metrics

pytestmark = pytest.mark.chaos

RATE = 100
TOTAL = 1_200
KILL_AFTER = 400  # alerts sent when the leader dies
CLIENTS = 20


async def test_queue_leader_killed(
    rabbit_cluster: RabbitCluster, clusters: Clusters, redis_url: str, tmp_path: Path
) -> None:
    cluster = clusters(rabbit_cluster.urls[0], redis_url)
    cluster.role_amqp_url = ",".join(rabbit_cluster.urls)
    listener = cluster.add("listener", 0)
    processors = [cluster.add("processor", 0), cluster.add("processor", 1)]
    cluster.add("notifier", 0)
    pids = {role.name: role.proc.pid for role in (listener, *processors) if role.proc}
    members = await asyncio.to_thread(rabbit_cluster.members, cluster.queue)
    leader = await asyncio.to_thread(rabbit_cluster.queue_leader, cluster.queue)
    survivor = next(node for node in rabbit_cluster.nodes if node is not leader)
    fleet = await Fleet(tmp_path).start()
    timeline: dict[str, float] = {}
    try:
        await fleet.connect(cluster.of("notifier"), CLIENTS)
        locations = real_locations(50)

        kills: list[asyncio.Task[None]] = []

        async def kill() -> None:
            timeline["killed"] = time.monotonic()
            await asyncio.to_thread(leader.kill)  # SIGKILL of the Erlang VM, waits until gone

        def fault(sent: int) -> None:
            if sent == KILL_AFTER:  # in the background: the source keeps its pace meanwhile
                kills.append(asyncio.create_task(kill()))

        source = Source(cluster.of("listener"), rate=RATE, retry_until_accepted=True)
        started = time.monotonic()
        # Windows of 2–4 s, so windows open and close all through the failover.
        await source.run((alert(locations[i % 50], 2 + i % 3) for i in range(TOTAL)),
                         during=fault)
        await asyncio.gather(*kills)
        accepted = source.accepted
        settled = await fleet.settle(len(accepted), timeout=60)
        delivery = check_exactly_once(await fleet.dump(), accepted, set(source.bodies),
                                      stream_last=cluster.stream_position()[0])
        depths = await wait_queue_empty(survivor.url, cluster.queue)
        answers = sorted((a for answers in source.answers.values() for a in answers),
                         key=lambda a: a.started)
        refused = [a for a in answers if a.status != 202]
        new_leader = await asyncio.to_thread(rabbit_cluster.queue_leader, cluster.queue)
        duplicates_absorbed = cluster.outcomes().get("duplicate", 0)
        report("rabbit-leader-killed", settled=settled, posted=source.posted,
               offered_rate=f"{source.offered_rate:.0f}/s", statuses=dict(source.statuses()),
               members=members, leader=leader.node, new_leader=new_leader.node,
               refused_span_s=(f"{refused[-1].started - refused[0].started:.2f}"
                               if refused else "0"),
               first_refused_after_kill_s=(f"{refused[0].started - timeline['killed']:.2f}"
                                           if refused else "-"),
               duplicates_absorbed=duplicates_absorbed, queue_and_dlq=depths,
               seconds=f"{time.monotonic() - started:.1f}", delivery=delivery.summary())

        assert "killed" in timeline
        assert members.count("@localhost") == 3, f"the queue is not on all three nodes: {members}"
        assert new_leader is not leader
        assert len(accepted) == TOTAL  # every alert was accepted in the end (503s retried)
        # Refused, never promised: nothing but 202 and 503 (no 500, no hang to a timeout).
        assert set(source.statuses()) <= {202, 503}, source.statuses()
        # The same processes, on a surviving node, by themselves.
        for role in (listener, *processors):
            assert role.alive() and role.proc is not None and role.proc.pid == pids[role.name]
            assert metrics(cluster.urls[role.name])["alertflow_broker_connected"] == 1
            moves = [line for line in role.log().splitlines() if " connected" in line
                     and ("publisher" in line or "consumer" in line)]
            assert len(moves) >= 2 and f":{leader.port}/" not in moves[-1], moves
        assert depths == (0, 0)
    finally:
        await fleet.close()
