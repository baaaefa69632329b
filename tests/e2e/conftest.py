"""The pipeline as users meet it: the real CLI's roles as subprocesses, on real services."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import free_port
from tests.support import TOKEN, Role, forget_run, now_iso, wait_ready


@dataclass
class Pipeline:
    listener_url: str
    notifier_urls: list[str]
    roles: dict[str, Role] = field(default_factory=dict)
    processor_urls: list[str] = field(default_factory=list)
    queue: str = ""  # also the key prefix
    amqp_url: str = ""
    redis_url: str = ""

    async def post(self, body: Any, path: str = "/v1/alerts") -> tuple[int, dict[str, Any]]:
        async with aiohttp.ClientSession() as session, session.post(
            self.listener_url + path, json=body,
            headers={"Authorization": f"Bearer {TOKEN}"},
        ) as response:
            return response.status, await response.json()

    async def post_many(self, bodies: list[Any], concurrency: int = 16) -> list[int]:
        statuses: list[int] = []
        limit = asyncio.Semaphore(concurrency)
        async with aiohttp.ClientSession() as session:
            async def one(body: Any) -> None:
                async with limit, session.post(
                    self.listener_url + "/v1/alerts", json=body,
                    headers={"Authorization": f"Bearer {TOKEN}"},
                ) as response:
                    statuses.append(response.status)
            await asyncio.gather(*(one(body) for body in bodies))
        return statuses

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n{role.log()[-4000:]}" for name, role in self.roles.items())


def alert_body(location: str | list[str], duration_s: int = 30, **extra: Any) -> dict[str, Any]:
    locations = [location] if isinstance(location, str) else location
    return {"id": extra.pop("id", None) or f"e2e-{uuid.uuid4()}", "type": "missiles",
            "locations": locations, "issued_at": now_iso(), "duration_s": duration_s, **extra}


def start_roles(tmp_path: Path, amqp_url: str, redis_url: str, processors: int = 1,
                notifiers: int = 1) -> Pipeline:
    unique = "e2e" + uuid.uuid4().hex[:10]
    common = ["--amqp-url", amqp_url, "--queue", unique, "--log-level", "info"]
    redis_args = ["--redis-url", redis_url, "--key-prefix", unique]
    listen_port = free_port()
    pipeline = Pipeline(f"http://127.0.0.1:{listen_port}", [], queue=unique, amqp_url=amqp_url,
                        redis_url=redis_url)
    pipeline.roles["listener"] = Role("listener", [
        "listen", *common, "--port", str(listen_port), "--token", f"e2e:{TOKEN}"], tmp_path)
    for index in range(processors):
        http_port = free_port()
        pipeline.processor_urls.append(f"http://127.0.0.1:{http_port}")
        pipeline.roles[f"processor{index}"] = Role(f"processor{index}", [
            "process", *common, *redis_args, "--http-port", str(http_port)], tmp_path)
    for index in range(notifiers):
        port = free_port()
        pipeline.notifier_urls.append(f"http://127.0.0.1:{port}")
        pipeline.roles[f"notifier{index}"] = Role(f"notifier{index}", [
            "notify", "--redis-url", redis_url, "--key-prefix", unique, "--port", str(port),
            "--log-level", "info"], tmp_path)
    wait_ready(pipeline.listener_url, pipeline.roles["listener"])
    for index, url in enumerate(pipeline.processor_urls):
        wait_ready(url, pipeline.roles[f"processor{index}"])
    for index, url in enumerate(pipeline.notifier_urls):
        wait_ready(url, pipeline.roles[f"notifier{index}"])
    return pipeline


def stop_all(pipeline: Pipeline) -> None:
    """Stop every role, then delete the run's queues and keys (none for `alertflow dev`)."""
    for role in pipeline.roles.values():
        if role.alive():
            try:
                role.terminate(timeout=20)
            except Exception:
                role.kill()
    if pipeline.queue:
        forget_run(pipeline.amqp_url, pipeline.redis_url, pipeline.queue)


@pytest.fixture(params=["roles", "dev"])
def pipeline(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Pipeline]:
    """Listener + processor + notifier as three processes, or all of them in `alertflow dev`."""
    if request.param == "roles":
        amqp_url = request.getfixturevalue("rabbitmq")
        redis_url = request.getfixturevalue("redis_url")
        running = start_roles(tmp_path, amqp_url, redis_url)
    else:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        running = Pipeline(url, [url])
        running.roles["dev"] = Role("dev", [
            "dev", "--port", str(port), "--token", f"e2e:{TOKEN}", "--log-format", "json"],
            tmp_path, drop_env=("ALERTFLOW_AMQP_URL", "ALERTFLOW_REDIS_URL"))
        wait_ready(url, running.roles["dev"])
    yield running
    stop_all(running)


@pytest.fixture
def scaled_pipeline(tmp_path: Path, rabbitmq: str, redis_url: str) -> Iterator[Pipeline]:
    running = start_roles(tmp_path, rabbitmq, redis_url, processors=2, notifiers=2)
    yield running
    stop_all(running)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call" and report.failed:
        for name in ("pipeline", "scaled_pipeline"):
            running = getattr(item, "funcargs", {}).get(name)
            if isinstance(running, Pipeline):
                report.sections.append(("role logs", running.logs()))
    return report
