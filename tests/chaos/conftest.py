"""Chaos tests: the real roles as subprocesses, killed, restarted and cut off from their brokers.

They need the real RabbitMQ and Redis (and `rabbitmq-server`/`redis-server` binaries for the
private instances the outage tests start and crash); they skip loudly without them locally and
fail under CI, like the other integration tests. Run only these with `pytest -m chaos`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.chaos.harness import Clusters
from tests.chaos.replicated import RabbitCluster, SentinelSet
from tests.conftest import free_port
from tests.support import TOKEN, PrivateRabbit, PrivateRedis, forget_run


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "chaos: kills, restarts and outages of the real roles and services")


def _require_binary(name: str) -> None:
    if shutil.which(name):
        return
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not installed: CI must run the chaos tests", pytrace=False)
    pytest.skip(f"{name} is not installed")


@pytest.fixture
def private_rabbit() -> Iterator[PrivateRabbit]:
    """A RabbitMQ node of this test's own, stopped at the end whatever happened."""
    _require_binary("rabbitmq-server")
    # Not under tmp_path: the node runs as the rabbitmq user, which must reach its directory.
    directory = Path(tempfile.mkdtemp(prefix="alertflow-rabbit-"))
    directory.chmod(0o755)
    node = PrivateRabbit(directory / "node", "chaos" + uuid.uuid4().hex[:8])
    try:
        node.start()
        yield node
    finally:
        node.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A Redis of this test's own, with an AOF fsynced on every write."""
    _require_binary("redis-server")
    server = PrivateRedis(tmp_path / "redis", free_port())
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def rabbit_cluster() -> Iterator[RabbitCluster]:
    """Three RabbitMQ nodes of this test's own in one cluster, all stopped at the end."""
    _require_binary("rabbitmq-server")
    directory = Path(tempfile.mkdtemp(prefix="alertflow-rabbits-"))
    directory.chmod(0o755)
    cluster = RabbitCluster(directory, "chaos" + uuid.uuid4().hex[:6])
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def sentinel_set(tmp_path: Path) -> Iterator[SentinelSet]:
    """A Redis master, its replica and three Sentinels of this test's own."""
    _require_binary("redis-server")
    services = SentinelSet(tmp_path / "sentinel-set")
    try:
        services.start()
        yield services
    finally:
        services.stop()
        shutil.rmtree(tmp_path / "sentinel-set", ignore_errors=True)


@pytest.fixture
def clusters(tmp_path: Path) -> Iterator[Clusters]:
    """Every role is stopped and the queues and keys deleted after the test."""
    made = Clusters(tmp_path)
    yield made
    for cluster in made.made:
        cluster.stop()
        with contextlib.suppress(Exception):  # best effort: a test may have killed the server
            forget_run(cluster.amqp_url, cluster.redis_url, cluster.queue)
    # Every role got the source token on its command line: none may have written it.
    for cluster in made.made:
        assert TOKEN not in cluster.all_logs(), "a role logged the source token"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call" and report.failed:
        made = getattr(item, "funcargs", {}).get("clusters")
        if isinstance(made, Clusters):
            for cluster in made.made:
                report.sections.append(("role logs", cluster.logs()))
    return report
