"""A pipeline with Web Push: the roles as subprocesses, a notifier offering Web Push, push roles
started on demand, and the local push service (alertflow/local_push_service.py) on 127.0.0.1."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from alertflow.local_push_service import LocalPushService, ThreadedPushService
from tests.conftest import free_port
from tests.e2e.conftest import Pipeline, start_roles, stop_all
from tests.support import ALERTFLOW, Role, wait_ready

SUBSCRIPTIONS_PER_HOUR = 2_000


@dataclass
class PushRun:
    pipeline: Pipeline
    service: LocalPushService
    threaded: ThreadedPushService
    tmp_path: Path
    key_file: Path
    public_key: str
    push_roles: list[Role]

    def start_push_role(self, name: str) -> Role:
        port = free_port()
        role = Role(name, [
            "push", "--redis-url", self.pipeline.redis_url, "--key-prefix", self.pipeline.queue,
            "--http-port", str(port), "--vapid-key-file", str(self.key_file),
            "--vapid-subject", "mailto:e2e@example.com",
            "--push-test-origin", self.service.origin, "--push-reclaim-idle-s", "2",
            "--push-concurrency", "16", "--push-max-retry-s", "60"], self.tmp_path)
        wait_ready(f"http://127.0.0.1:{port}", role)
        role.url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
        self.push_roles.append(role)
        self.pipeline.roles[name] = role
        return role


@pytest.fixture
def push_run(tmp_path: Path, rabbitmq: str, redis_url: str) -> Iterator[PushRun]:
    keys = subprocess.run([ALERTFLOW, "push", "keygen", "--out", str(tmp_path)],
                          capture_output=True, text=True, check=True)
    public_key = keys.stdout.strip()
    threaded = ThreadedPushService()
    with threaded as service:
        pipeline = start_roles(tmp_path, rabbitmq, redis_url)
        # The notifier with Web Push on, admitting the local push service's loopback origin.
        notifier = pipeline.roles["notifier0"]
        notifier.terminate(20)
        port = free_port()
        pipeline.notifier_urls = [f"http://127.0.0.1:{port}"]
        pipeline.roles["notifier0"] = Role("notifier0-push", [
            "notify", "--redis-url", redis_url, "--key-prefix", pipeline.queue,
            "--port", str(port), "--vapid-public-key", public_key,
            "--push-test-origin", service.origin,
            "--push-subscriptions-per-hour", str(SUBSCRIPTIONS_PER_HOUR)], tmp_path)
        wait_ready(pipeline.notifier_urls[0], pipeline.roles["notifier0"])
        run = PushRun(pipeline, service, threaded, tmp_path, tmp_path / "vapid-private.pem",
                      public_key, [])
        try:
            yield run
        finally:
            stop_all(pipeline)
