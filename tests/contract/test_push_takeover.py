"""A stopped push consumer's batch is taken over whole, on the real Redis.

A consumer reads a barrage in two reads (the first entries, then what arrived during
`coalesce_ms`) and sends it as one batch: each phone gets one message whose `Topic` is made of
the notices in it. If it dies mid-send, whoever takes over must handle the same entries as one
batch again, so each phone's message comes out with the same notices and the same `Topic`, and
the push service replaces the copy it may still hold instead of delivering a second one.
Taking entries over one by one as each passes an idle time would split the batch.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as aioredis

from alertflow.push.store import PushStore
from alertflow.push.worker import PushWorker, WorkerConfig

pytestmark = pytest.mark.integration

RECLAIM_S = 0.6


async def unused_send(*_args: Any) -> str:
    raise AssertionError("nothing is sent here")


def worker(client: aioredis.Redis, prefix: str, consumer: str) -> PushWorker:
    return PushWorker(client, PushStore(client, prefix), unused_send, prefix,
                      WorkerConfig(consumer=consumer, reclaim_idle_s=RECLAIM_S))


async def test_a_stopped_consumers_batch_is_taken_over_whole(
        redis_client: aioredis.Redis, unique: str) -> None:
    stream = "{" + unique + "}:stream"
    await redis_client.xgroup_create(stream, "push", id="$", mkstream=True)
    first = [await redis_client.xadd(stream, {"e": f"{n}"}) for n in range(3)]
    # The stopped consumer's first read, then its coalescing read a third of the idle time on.
    assert len((await redis_client.xreadgroup("push", "stopped", {stream: ">"}))[0][1]) == 3
    await asyncio.sleep(RECLAIM_S / 3)
    rest = [await redis_client.xadd(stream, {"e": f"{n}"}) for n in range(3, 5)]
    assert len((await redis_client.xreadgroup("push", "stopped", {stream: ">"}))[0][1]) == 2

    survivor = worker(redis_client, unique, "survivor")
    taken: list[Any] = []
    for _ in range(200):  # until it takes something, every 20 ms
        taken = await survivor.take_over_stopped_consumer()
        if taken:
            break
        await asyncio.sleep(0.02)
    assert sorted(entry_id for entry_id, _ in taken) == sorted(first + rest)

    # Taken once: another replica looking now finds nothing (the survivor has just touched
    # them). Once the survivor too is silent for the idle time, the other takes its batch
    # whole, and the first stopped consumer, with nothing left pending, is forgotten.
    other = worker(redis_client, unique, "other")
    assert await other.take_over_stopped_consumer() == []
    await asyncio.sleep(RECLAIM_S)
    again = await other.take_over_stopped_consumer()
    assert sorted(entry_id for entry_id, _ in again) == sorted(first + rest)
    names = {c["name"] for c in await redis_client.xinfo_consumers(stream, "push")}
    assert names == {b"survivor", b"other"}
