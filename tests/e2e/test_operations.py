"""What operators rely on: metrics that move, probes that tell the truth, Sentinel support."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from alertflow.backends.redis_store import RedisStateStore, connect
from alertflow.domain.alert import Alert
from alertflow.domain.locations import Catalog
from tests.conftest import free_port
from tests.e2e.conftest import Pipeline, alert_body, start_roles, stop_all
from tests.support import Collector, Role, delete_keys, wait_ready

SAMPLE = re.compile(r"^([a-z_]+)(\{[^}]*\})? ([0-9.e+\-]+|NaN|\+Inf)$", re.MULTILINE)


def scrape(url: str) -> dict[str, float]:
    with urllib.request.urlopen(url + "/metrics", timeout=5) as response:
        text = response.read().decode()
    return {name + (labels or ""): float(value) for name, labels, value in SAMPLE.findall(text)}


def total(samples: dict[str, float], name: str) -> float:
    return sum(value for key, value in samples.items()
               if key == name or key.startswith(name + "{"))


@pytest.fixture
def running(tmp_path: Path, rabbitmq: str, redis_url: str) -> Iterator[Pipeline]:
    pipeline = start_roles(tmp_path, rabbitmq, redis_url)
    yield pipeline
    stop_all(pipeline)


async def test_metrics_of_every_role_move_when_alerts_flow(running: Pipeline) -> None:
    listener, processor = running.listener_url, running.processor_urls[0]
    notifier = running.notifier_urls[0]
    client = await Collector(notifier).connect()
    poller = await Collector(notifier, transports=["polling"]).connect()
    for collector in (client, poller):
        await collector.wait_for(lambda c: bool(c.snapshots), what="snapshot")
    before = {url: scrape(url) for url in (listener, processor, notifier)}

    bodies = [alert_body("Abu Ghosh", duration_s=1),
              alert_body(["Ashkelon - South", "Atlantis"], 1)]
    for body in bodies:
        assert (await running.post(body))[0] == 202
    assert (await running.post(bodies[0]))[0] == 202  # a duplicate
    assert (await running.post({"type": "x"}))[0] == 422
    for collector in (client, poller):
        await collector.wait_for(lambda c: len(c.closes()) == 3, timeout=10, what="three closes")
    await asyncio.sleep(0.5)
    after = {url: scrape(url) for url in (listener, processor, notifier)}

    def moved(url: str, name: str) -> float:
        return total(after[url], name) - total(before[url], name)

    assert moved(listener, "alertflow_alerts_accepted_total") == 3
    assert moved(listener, "alertflow_alerts_enqueued_total") == 3
    assert after[listener]['alertflow_alerts_rejected_total{reason="invalid"}'] >= 1
    assert moved(listener, "alertflow_unknown_locations_total") == 1
    assert moved(listener, "alertflow_broker_confirm_seconds_count") == 3
    assert after[listener]["alertflow_broker_connected"] == 1
    assert moved(processor, "alertflow_alerts_processed_total") == 3
    assert after[processor]['alertflow_alerts_processed_total{outcome="duplicate"}'] >= 1
    assert after[processor]['alertflow_events_published_total{kind="open"}'] >= 3
    assert moved(processor, "alertflow_events_published_total") == 6
    assert moved(processor, "alertflow_process_seconds_count") == 3
    assert moved(processor, "alertflow_queue_latency_seconds_count") == 3
    assert after[processor]["alertflow_active_incidents"] == 0
    assert after[processor]["alertflow_redis_connected"] == 1
    assert after[notifier]["alertflow_connected_clients"] == 2
    assert after[notifier]["alertflow_long_polling_clients"] == 1  # the websocket client is not
    assert moved(notifier, "alertflow_deliveries_total") == 12
    assert moved(notifier, "alertflow_end_to_end_latency_seconds_count") == 3
    await poller.disconnect()
    await asyncio.sleep(0.5)
    assert scrape(notifier)["alertflow_long_polling_clients"] == 0
    await client.disconnect()


def test_readiness_names_what_is_missing(tmp_path: Path, redis_url: str) -> None:
    port = free_port()
    role = Role("listener", ["listen", "--amqp-url", "amqp://guest:guest@127.0.0.1:1/%2F",
                             "--port", str(port), "--insecure-no-auth"], tmp_path)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1)
            except urllib.error.HTTPError as exc:
                assert exc.code == 503
                assert b'"missing":["broker"]' in exc.read()
                break
            except OSError:
                assert time.monotonic() < deadline, role.log()
                time.sleep(0.1)
                continue
            raise AssertionError("ready without a broker")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as alive:
            assert alive.status == 200
    finally:
        role.terminate()


def test_listen_refuses_to_start_without_tokens(tmp_path: Path) -> None:
    role = Role("listener", ["listen", "--port", str(free_port())], tmp_path,
                drop_env=("ALERTFLOW_TOKENS", "ALERTFLOW_INSECURE_NO_AUTH"))
    assert role.proc is not None
    assert role.proc.wait(timeout=20) == 2
    assert "no source tokens" in role.log()


@pytest.fixture
def sentinel(tmp_path: Path) -> Iterator[str]:
    if not shutil.which("redis-sentinel") and not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    redis_port, sentinel_port = free_port(), free_port()
    master = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                               "--save", "", "--dir", str(tmp_path)],
                              stdout=subprocess.DEVNULL)
    config = tmp_path / "sentinel.conf"
    config.write_text(
        f"port {sentinel_port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor mymaster 127.0.0.1 {redis_port} 1\n"
        "sentinel down-after-milliseconds mymaster 1000\n")
    watcher = subprocess.Popen(["redis-server", str(config), "--sentinel"],
                               stdout=subprocess.DEVNULL)
    try:
        yield f"redis+sentinel://127.0.0.1:{sentinel_port}/mymaster/0"
    finally:
        for process in (watcher, master):
            process.kill()
            process.wait()


async def test_redis_sentinel_url_finds_the_master(
    sentinel: str, catalog: Catalog, tmp_path: Path,
) -> None:
    client = connect(sentinel)
    for _ in range(50):
        try:
            await client.ping()
            break
        except Exception:
            await asyncio.sleep(0.1)
    prefix = "sent" + uuid.uuid4().hex[:8]
    store = RedisStateStore(client, catalog, prefix=prefix)
    now = int(time.time() * 1000)
    alert = Alert(id="s1", kind="alert", type="missiles", locations=["אשקלון"],
                  issued_at=now, duration_s=30, received_at=now, source="t")
    assert await store.apply(alert, now) == ("new", 1)
    assert [i["location"] for i in (await store.snapshot()).incidents] == ["אשקלון"]
    # The notifier runs on the same URL and becomes ready through the sentinel.
    port = free_port()
    role = Role("notifier", ["notify", "--redis-url", sentinel, "--key-prefix", prefix,
                             "--port", str(port)], tmp_path)
    try:
        wait_ready(f"http://127.0.0.1:{port}", role)
    finally:
        role.terminate()
    await delete_keys(client, prefix)
    await client.aclose()
    assert isinstance(client, aioredis.Redis)
