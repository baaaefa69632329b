"""Issue 3, item 8: slow and gone clients.

A client that stops reading must neither slow the others nor grow the notifier's memory without
bound: its backlog is bounded, then it is dropped, and the kernel's send timeout frees its
connection. Clients that connect and vanish leave no task, descriptor or memory behind.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

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
from tests.support import metrics, stalled_client, vanishing_client

pytestmark = pytest.mark.chaos

BACKLOG = 64
SEND_TIMEOUT_S = 10
# 2,000 Hebrew characters: ~3.7 KB per event in UTF-8, so the stalled client's share outgrows
# the kernel's socket buffers (4 MB here) and then piles up in the notifier's own per-client
# buffers, which is what must stay bounded.
INSTRUCTIONS = ("היכנסו למרחב המוגן ושהו בו עשר דקות " * 60)[:2000]
EVENT_BYTES = len(INSTRUCTIONS.encode()) + 300  # and the event's other fields


def _events_to_overflow_the_kernel() -> int:
    """Enough events to outgrow the largest send buffer the kernel allows (4 MB here) and the
    client's receive buffer, with room to spare."""
    try:
        largest = int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
    except (OSError, IndexError, ValueError):
        largest = 4 << 20
    return max(600, (largest * 2) // EVENT_BYTES)


EVENTS = _events_to_overflow_the_kernel()
PING_S = 2


def _notifier_state(url: str) -> dict[str, float]:
    samples = metrics(url)
    return {
        "clients": samples.get("alertflow_connected_clients", 0.0),
        "tasks": samples.get("alertflow_event_loop_tasks", 0.0),
        "fds": samples.get("process_open_fds", 0.0),
        "rss_mb": round(samples.get("process_resident_memory_bytes", 0.0) / 2**20, 1),
        "dropped_backlog": samples.get('alertflow_clients_dropped_total{reason="backlog"}', 0.0),
    }


async def test_a_client_that_stops_reading_is_dropped_and_costs_bounded_memory(
    clusters: Clusters, rabbitmq: str, redis_url: str
) -> None:
    cluster = clusters(rabbitmq, redis_url)
    cluster.add("listener", 0)
    cluster.add("processor", 0)
    cluster.add("notifier", 0, ["--max-client-backlog", str(BACKLOG),
                                "--client-send-timeout-s", str(SEND_TIMEOUT_S)])
    url = cluster.urls["notifier0"]
    clients = await connect_clients([url], 5)
    before = _notifier_state(url)
    stalled = stalled_client(url)  # joins, then never reads again
    try:
        await wait_until(lambda: _notifier_state(url)["clients"] == 6, 10, "the stalled one")
        locations = real_locations(20)
        source = Source(cluster.of("listener"), rate=250)
        peak: list[dict[str, float]] = []

        async def watch() -> None:
            while True:
                peak.append(await asyncio.to_thread(_notifier_state, url))
                await asyncio.sleep(0.5)

        watcher = asyncio.create_task(watch())
        await source.run(alert(locations[i % 20], 3, instructions=INSTRUCTIONS)
                         for i in range(EVENTS))
        accepted = source.accepted
        settled = await settle(clients, len(accepted), timeout=60)
        delivery = check_exactly_once(clients, accepted, set(source.bodies),
                                      stream_last=cluster.stream_position()[0])
        # The kernel gives up on the unread connection after the send timeout: the stalled
        # client's socket is then reset, and the notifier's tasks and descriptors are freed.
        await wait_until(lambda: _notifier_state(url)["tasks"] <= before["tasks"], 30,
                         "the stalled client's tasks to end")
        watcher.cancel()
        after = _notifier_state(url)
        reset = _was_reset(stalled)
        largest = max(sample["rss_mb"] for sample in peak)
        report("slow-client", settled=settled, posted=source.posted,
               before=before, peak_rss_mb=largest, after=after, stalled_reset=reset,
               delivery=delivery.summary())
        assert after["dropped_backlog"] == 1, "the stalled client was never dropped"
        assert after["clients"] == 5
        assert reset, "the stalled client's connection is still open"
        assert after["fds"] <= before["fds"] + 1
        # Bounded: at most BACKLOG packets (~4 KB each) were ever queued for it; unbounded,
        # every event after the socket buffers filled would have been (~4 MB and growing).
        assert largest - before["rss_mb"] < 30, (before, largest)
    finally:
        stalled.close()
        await close_clients(clients)


def _was_reset(sock: Any) -> bool:
    """Read what the stalled client never read: a reset (or EOF) at the end means the server
    side is gone."""
    sock.settimeout(5)
    try:
        while sock.recv(1 << 16):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


async def test_a_thousand_vanished_clients_leave_nothing_behind(
    clusters: Clusters, redis_url: str, rabbitmq: str
) -> None:
    cluster = clusters(rabbitmq, redis_url)
    # Pings every 2 s: engineio keeps a closed connection's ping timer (and socket object)
    # for one interval, so measurements a few seconds after a round see only what leaked.
    cluster.add("notifier", 0, ["--ping-interval-s", str(PING_S)])
    url = cluster.urls["notifier0"]
    limit = asyncio.Semaphore(100)

    async def vanish(index: int) -> None:
        async with limit:
            await vanishing_client(url, reset=index % 2 == 0)

    rounds: list[dict[str, float]] = [_notifier_state(url)]
    started = time.monotonic()
    for _ in range(3):
        await asyncio.gather(*(vanish(i) for i in range(1000)))
        await wait_until(lambda: _notifier_state(url)["clients"] == 0, 30, "no clients left")
        # Then only engineio's service task (and its wait) remain beyond the baseline.
        await wait_until(lambda: _notifier_state(url)["tasks"] <= rounds[0]["tasks"] + 2,
                         PING_S * 5, "the connections' tasks to end")
        rounds.append(_notifier_state(url))
    report("vanished-clients", clients_per_round=1000, rounds=rounds,
           seconds=f"{time.monotonic() - started:.1f}")
    baseline, first, third = rounds[0], rounds[1], rounds[3]
    assert all(r["tasks"] <= baseline["tasks"] + 2 for r in rounds[1:])
    # Descriptors: the Redis pool may grow to its bound in the first round, never beyond.
    assert third["fds"] <= first["fds"] <= baseline["fds"] + 66
    # The first round grows the allocator's pools; later rounds reuse them.
    assert third["rss_mb"] - first["rss_mb"] < 8, rounds
