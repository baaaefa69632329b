"""The system under test: a running deployment given by URL, or roles started here.

With `--start`, the listener, processor(s) and notifier(s) run as subprocesses of the real CLI
(`python -m alertflow ROLE …`) on the given RabbitMQ and Redis, with a queue name and key
prefix unique to the run; `stop()` ends them (SIGTERM, then SIGKILL) and deletes the queue and
every Redis key of the prefix.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import aiohttp

from alertflow.backends.cleanup import delete_run_state
from alertflow.bench.config import Target
from alertflow.bench.measure import pid_listening_on
from alertflow.local_ports import free_port


def _local_port(url: str, default: int) -> int | None:
    parsed = urlparse(url)
    if parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
        return None
    return parsed.port or default


@dataclass
class RoleProcess:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    ready_url: str | None

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


@dataclass
class Deployment:
    listener_url: str
    notifier_urls: list[str]
    token: str
    pids: dict[str, int] = field(default_factory=dict)
    roles: list[RoleProcess] = field(default_factory=list)
    queue: str = ""
    key_prefix: str = ""
    amqp_url: str = ""
    redis_url: str = ""
    log_dir: Path | None = None
    started: bool = False
    temporary_logs: bool = False  # a directory of our own: removed after a run that succeeded

    @property
    def notifier_pids(self) -> list[int]:
        return [pid for name, pid in self.pids.items() if name.startswith("notifier")]

    def describe(self) -> dict[str, object]:
        return {"started": self.started, "listener_url": self.listener_url,
                "notifier_urls": self.notifier_urls, "queue": self.queue or None,
                "key_prefix": self.key_prefix or None, "processes": dict(sorted(self.pids.items())),
                "log_dir": str(self.log_dir) if self.log_dir else None}

    def check_alive(self) -> None:
        for role in self.roles:
            if not role.alive():
                raise RuntimeError(f"{role.name} exited ({role.proc.returncode}):\n"
                                   f"{role.log_tail()}")

    def discard_logs(self) -> None:
        if self.temporary_logs and self.log_dir is not None:
            shutil.rmtree(self.log_dir, ignore_errors=True)
            self.log_dir = None

    async def stop(self) -> None:
        for role in self.roles:  # listener first: no new work; notifiers last
            if role.alive():
                role.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for role in self.roles:
            try:
                await asyncio.to_thread(role.proc.wait, max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                role.proc.kill()
                await asyncio.to_thread(role.proc.wait)
        if self.started:
            await delete_run_state(self.amqp_url, self.queue, self.redis_url, self.key_prefix)


def attach(target: Target) -> Deployment:
    """A deployment that is already running; CPU is measured for the pids given or found."""
    if not target.listener_url or not target.notifier_urls or not target.token:
        raise ValueError("give --listener-url, --notifier-url and --token, or --start")
    deployment = Deployment(target.listener_url.rstrip("/"),
                            [url.rstrip("/") for url in target.notifier_urls], target.token)
    deployment.pids.update(target.pids)
    found = {"listener": _local_port(deployment.listener_url, 80)}
    for index, url in enumerate(deployment.notifier_urls):
        found[f"notifier{index}"] = _local_port(url, 80)
    for name, port in found.items():
        if name not in deployment.pids and port is not None:
            pid = pid_listening_on(port)
            if pid is not None:
                deployment.pids[name] = pid
    return deployment


def _services(target: Target) -> dict[str, int]:
    """Local RabbitMQ and Redis server pids, to show their share of the CPU."""
    pids: dict[str, int] = {}
    for name, url, default in (("rabbitmq", target.amqp_url, 5672),
                               ("redis", target.redis_url, 6379)):
        port = _local_port(url.replace("amqp://", "http://", 1)
                           .replace("redis://", "http://", 1), default)
        pid = pid_listening_on(port) if port is not None else None
        if pid is not None:
            pids[name] = pid
    return pids


async def start(target: Target) -> Deployment:
    """Start the roles as subprocesses of the real CLI and wait until each is ready."""
    run_id = secrets.token_hex(5)
    secret = secrets.token_hex(16)
    log_dir = Path(target.log_dir) if target.log_dir else Path(
        tempfile.mkdtemp(prefix=f"alertflow-bench-{run_id}-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    queue = f"bench.{run_id}"
    prefix = f"bench{run_id}"
    listen_port = free_port()
    deployment = Deployment(f"http://127.0.0.1:{listen_port}", [], secret, queue=queue,
                            key_prefix=prefix, amqp_url=target.amqp_url,
                            redis_url=target.redis_url, log_dir=log_dir, started=True,
                            temporary_logs=not target.log_dir)
    common = ["--amqp-url", target.amqp_url, "--queue", queue, "--queue-type", target.queue_type]
    redis_args = ["--redis-url", target.redis_url, "--key-prefix", prefix]
    specs: list[tuple[str, list[str], str | None]] = [
        ("listener", ["listen", *common, "--port", str(listen_port), "--token",
                      f"bench:{secret}"], deployment.listener_url)]
    for index in range(target.processors):
        port = free_port()
        specs.append((f"processor{index}", ["process", *common, *redis_args,
                                            "--http-port", str(port)],
                      f"http://127.0.0.1:{port}"))
    for index in range(target.notifiers):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        deployment.notifier_urls.append(url)
        specs.append((f"notifier{index}", ["notify", *redis_args, "--port", str(port)], url))
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("ALERTFLOW_")}  # the options given win, nothing inherited
    try:
        for name, args, ready_url in specs:
            role = _spawn(name, [*args, "--log-level", target.role_log_level], log_dir, env,
                          ready_url)
            deployment.roles.append(role)
            deployment.pids[name] = role.proc.pid
        await _wait_ready(deployment, timeout=60)
    except BaseException:
        await deployment.stop()
        raise
    deployment.pids.update(_services(target))
    return deployment


def _spawn(name: str, args: list[str], log_dir: Path, env: dict[str, str],
           ready_url: str | None) -> RoleProcess:
    """`python -m alertflow ARGS…`: the real CLI, in its own session, logging to a file."""
    log_path = log_dir / f"{name}.log"
    with log_path.open("ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "alertflow", *args], stdout=log,
                                stderr=log, env=env, start_new_session=True)
    return RoleProcess(name, proc, log_path, ready_url)


async def _wait_ready(deployment: Deployment, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        for role in deployment.roles:
            while True:
                deployment.check_alive()
                with contextlib.suppress(aiohttp.ClientError, TimeoutError, OSError):
                    async with session.get(f"{role.ready_url}/readyz") as response:
                        if response.status == 200:
                            break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{role.name} not ready after {timeout:g} s:\n"
                                       f"{role.log_tail()}")
                await asyncio.sleep(0.1)
