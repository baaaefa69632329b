"""Deleting what a run left on the shared servers: its queues and its Redis keys.

The layout is the adapters' (the dead-letter queue is `NAME.dead`, every key sits under the
hash tag `{PREFIX}`), so removing it lives beside them. The product never calls this; the
benchmark and the tests do, after runs with a queue name and key prefix of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pika
import redis.asyncio as aioredis

from alertflow.backends.rabbitmq import QueueSpec


def delete_queues(amqp_url: str, queue: str) -> None:
    """Delete a run's queue and its dead-letter queue."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        for name in (queue, QueueSpec(queue).dead_letter_name):
            channel.queue_delete(name)
    finally:
        connection.close()


async def delete_keys(client: Any, prefix: str) -> None:
    """Delete every Redis key under a run's prefix, a thousand at a time."""
    batch: list[bytes] = []
    async for key in client.scan_iter(match="{" + prefix + "}:*", count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            await client.delete(*batch)
            batch = []
    if batch:
        await client.delete(*batch)


async def delete_run_state(amqp_url: str, queue: str, redis_url: str, prefix: str) -> None:
    """Delete a run's queues and Redis keys, best effort.

    Runs share the servers, and keys left behind slow every later cleanup's SCAN: 450,000
    stray keys made each one take 0.85 s and a test suite run five minutes longer.
    """
    with contextlib.suppress(Exception):
        await asyncio.to_thread(delete_queues, amqp_url, queue)
    # Timeouts: a Redis that a chaos test stopped must not hold the cleanup up forever.
    client = aioredis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
    try:
        await delete_keys(client, prefix)
    except Exception:  # cleanup is best effort; the prefix is unique to the run
        pass
    finally:
        await client.aclose()
