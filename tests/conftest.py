"""Shared test fixtures: real services, unique names, and the roles as real subprocesses.

Tests that need RabbitMQ or Redis skip with a loud summary when the service is missing locally,
and fail under CI (`CI` set), where a skip would hide a broken pipeline.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlparse

import pytest
import redis.asyncio as aioredis
from hypothesis import settings

from alertflow.catalog import load_catalog
from alertflow.domain.locations import Catalog
from alertflow.local_ports import free_port
from tests.support import delete_keys

# Hypothesis's per-example deadline is a timing assertion: on a loaded 2-core machine it fails
# tests whose behaviour is right. Timings belong in the benchmark, so no test has a deadline.
# A test that fails by chance is a defect, so every run (CI's too) tries the same examples by
# default: `derandomize` seeds each test from its own code, a failure comes back on the next
# run, and a pass means the same thing each time. Fresh examples are a deliberate, wider run:
# ALERTFLOW_HYPOTHESIS=random draws new ones every run (a failure prints the blob that replays
# it, or pass `--hypothesis-seed=N`), ALERTFLOW_FUZZ_SCALE=N multiplies the Schemathesis
# examples (tests/fuzz/test_listener_openapi.py). Whatever such a run finds becomes a fixed
# regression test (an @example, or a case of its own), not a reason to go random in CI.
settings.register_profile("alertflow", deadline=None, derandomize=True)
settings.register_profile("alertflow-random", deadline=None, print_blob=True)
settings.load_profile(
    "alertflow-random" if os.environ.get("ALERTFLOW_HYPOTHESIS") == "random" else "alertflow")

AMQP_URL = os.environ.get("ALERTFLOW_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
REDIS_URL = os.environ.get("ALERTFLOW_REDIS_URL", "redis://127.0.0.1:6379/0")
_missing_services: list[str] = []


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1",
                                       parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, url: str, port: int) -> None:
    if _reachable(url, port):
        return
    message = f"{name} is not reachable at {url}"
    if os.environ.get("CI"):
        pytest.fail(f"{message}: CI must run the integration tests", pytrace=False)
    _missing_services.append(message)
    pytest.skip(message)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _missing_services:
        terminalreporter.section("SERVICES MISSING: integration tests were SKIPPED", sep="!")
        for message in sorted(set(_missing_services)):
            terminalreporter.line(message)


@pytest.fixture
def rabbitmq() -> str:
    require_service("RabbitMQ", AMQP_URL, 5672)
    return AMQP_URL


@pytest.fixture
def redis_url() -> str:
    require_service("Redis", REDIS_URL, 6379)
    return REDIS_URL


@pytest.fixture
def unique() -> str:
    """A fresh name for this test's queue and key prefix, so tests share servers safely."""
    return "t" + uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
async def redis_client(redis_url: str, unique: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await delete_keys(client, unique)
    await client.aclose()


@pytest.fixture
def ports() -> Iterator[object]:
    yield free_port
