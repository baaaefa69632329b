"""The adapters under contract: each test runs once in memory and once on the real service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis.asyncio as aioredis

from alertflow.backends.memory import MemoryQueue, MemoryStateStore
from alertflow.backends.ports import EventFeed, StateStore
from alertflow.backends.rabbitmq import QueueSpec, RabbitConsumer, RabbitPublisher
from alertflow.backends.redis_store import RedisStateStore
from alertflow.domain.locations import Catalog
from tests.support import delete_keys, delete_queues, queue_depths


@dataclass
class StoreUnderTest:
    store: StateStore
    feed: EventFeed


@pytest.fixture(params=["memory", "redis"])
async def store_under_test(
    request: pytest.FixtureRequest, catalog: Catalog, unique: str
) -> AsyncIterator[StoreUnderTest]:
    if request.param == "memory":
        memory = MemoryStateStore(catalog, stream_maxlen=50)
        yield StoreUnderTest(memory, memory.feed())
        return
    url = request.getfixturevalue("redis_url")
    client = aioredis.Redis.from_url(url)
    store = RedisStateStore(client, catalog, prefix=unique, stream_maxlen=50)
    feed_client = aioredis.Redis.from_url(url)
    yield StoreUnderTest(store, store.feed(feed_client))
    await feed_client.aclose()
    await delete_keys(client, unique)
    await client.aclose()


@dataclass
class QueueUnderTest:
    publisher: Any
    make_consumer: Any
    dead_letters: Any  # async () -> int
    depth: Any  # async () -> int


@pytest.fixture(params=["memory", "rabbitmq"])
async def queue_under_test(
    request: pytest.FixtureRequest, unique: str
) -> AsyncIterator[QueueUnderTest]:
    if request.param == "memory":
        queue = MemoryQueue(delivery_limit=2, prefetch=8)

        async def memory_dead() -> int:
            return len(queue.dead)

        async def memory_depth() -> int:
            return queue.depth()

        yield QueueUnderTest(queue, lambda: queue, memory_dead, memory_depth)
        return
    url = request.getfixturevalue("rabbitmq")
    spec = QueueSpec(name=unique, delivery_limit=2)
    publisher = RabbitPublisher(url, spec, confirm_timeout_s=5)
    await publisher.start()

    async def rabbit_dead() -> int:
        return queue_depths(url, unique)[1]

    async def rabbit_depth() -> int:
        return queue_depths(url, unique)[0]

    yield QueueUnderTest(publisher, lambda: RabbitConsumer(url, spec, prefetch=8), rabbit_dead,
                         rabbit_depth)
    await publisher.close()
    delete_queues(url, unique)
