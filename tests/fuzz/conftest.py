"""Fuzz tests: hostile input at the listener's door, the queue decoder, the Socket.IO handlers.

The listener under fuzz runs as the real CLI on the real broker with a queue nobody consumes,
so the queue's depth tells exactly what was enqueued.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.support import TOKEN, Role, delete_keys, delete_queues, wait_ready

SECOND_SECRET = "fuzz-second-source-secret-42"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fuzz: hostile input (Schemathesis, Hypothesis)")


@dataclass
class Listener:
    url: str
    queue: str
    amqp_url: str
    role: Role
    accepted: int = 0  # alerts answered 202 so far: the queue must hold exactly these
    statuses: dict[int, int] = field(default_factory=dict)


@pytest.fixture(scope="module")
def fuzz_listener(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Listener]:
    from tests.conftest import AMQP_URL, require_service

    require_service("RabbitMQ", AMQP_URL, 5672)
    queue = "fuzz" + uuid.uuid4().hex[:10]
    port = free_port()
    log_dir: Path = tmp_path_factory.mktemp("fuzz-listener")
    role = Role("listener", ["listen", "--amqp-url", AMQP_URL, "--queue", queue, "--port",
                             str(port), "--token", f"fuzz:{TOKEN}",
                             "--token", f"other:{SECOND_SECRET}", "--log-level", "debug"],
                log_dir)
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, role)
    yield Listener(url, queue, AMQP_URL, role)
    role.terminate()
    delete_queues(AMQP_URL, queue)


@dataclass
class Notifier:
    url: str
    role: Role


@pytest.fixture(scope="module")
def fuzz_notifier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Notifier]:
    import asyncio

    import redis.asyncio as aioredis

    from tests.conftest import REDIS_URL, require_service

    require_service("Redis", REDIS_URL, 6379)
    prefix = "fuzz" + uuid.uuid4().hex[:10]
    port = free_port()
    role = Role("notifier", ["notify", "--redis-url", REDIS_URL, "--key-prefix", prefix,
                             "--port", str(port), "--log-level", "info"],
                tmp_path_factory.mktemp("fuzz-notifier"))
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, role)
    yield Notifier(url, role)
    role.terminate()

    async def clean() -> None:
        client = aioredis.Redis.from_url(REDIS_URL)
        await delete_keys(client, prefix)
        await client.aclose()

    asyncio.run(clean())
