"""Helpers for integration and end-to-end tests: role subprocesses and Socket.IO collectors."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pika
import socketio

ALERTFLOW = str(Path(sys.executable).parent / "alertflow")
TOKEN = "e2e-source-token-0123456789"


def now_iso(offset_s: float = 0.0) -> str:
    return datetime.fromtimestamp(time.time() + offset_s, UTC).isoformat()


class Role:
    """One `alertflow` subprocess, its log in a file, stopped at the end of the test."""

    def __init__(self, name: str, args: Sequence[str], log_dir: Path,
                 env: dict[str, str] | None = None, drop_env: Sequence[str] = ()) -> None:
        self.name = name
        self.args = list(args)
        self.log_path = log_dir / f"{name}.log"
        self.env = {k: v for k, v in {**os.environ, **(env or {})}.items() if k not in drop_env}
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen([ALERTFLOW, *self.args], stdout=log, stderr=log,
                                     env=self.env, start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def terminate(self, timeout: float = 30) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def http(method: str, url: str, body: Any = None, token: str | None = TOKEN,
         timeout: float = 10) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def wait_ready(base_url: str, role: Role | None = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if role is not None and not role.alive():
            raise AssertionError(f"{role.name} exited early:\n{role.log()[-3000:]}")
        try:
            with urllib.request.urlopen(base_url + "/readyz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    log = role.log()[-3000:] if role else ""
    raise AssertionError(f"{base_url} not ready after {timeout} s\n{log}")


class Collector:
    """A real Socket.IO client that records every event and snapshot it receives."""

    def __init__(self, url: str, auth: dict[str, Any] | None = None) -> None:
        self.url = url
        self.auth = auth
        self.events: list[dict[str, Any]] = []
        self.snapshots: list[dict[str, Any]] = []
        self.batches = 0
        self.client = socketio.AsyncClient(reconnection=False)
        self.client.on("alerts", self._on_alerts)
        self.client.on("snapshot", self._on_snapshot)

    async def _on_alerts(self, events: list[dict[str, Any]]) -> None:
        self.batches += 1
        self.events.extend(events)

    async def _on_snapshot(self, snapshot: dict[str, Any]) -> None:
        self.snapshots.append(snapshot)

    async def connect(self) -> Collector:
        await self.client.connect(self.url, transports=["websocket"], auth=self.auth,
                                  wait_timeout=10)
        return self

    async def disconnect(self) -> None:
        await self.client.disconnect()

    @property
    def last_seq(self) -> int:
        seqs = [event["seq"] for event in self.events]
        seqs += [snapshot["seq"] for snapshot in self.snapshots]
        return max(seqs, default=0)

    def opens(self) -> list[dict[str, Any]]:
        return [event for event in self.events if event["kind"] == "open"]

    def closes(self) -> list[dict[str, Any]]:
        return [event for event in self.events if event["kind"] == "close"]

    async def wait_for(self, predicate: Callable[[Collector], bool], timeout: float = 15,
                       what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out waiting for {what}: {len(self.events)} events, "
                    f"{len(self.snapshots)} snapshots")
            await asyncio.sleep(0.02)


def queue_depths(amqp_url: str, queue: str) -> tuple[int, int]:
    """Messages waiting in the queue and in its dead-letter queue (0 when absent)."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        depths = []
        for name in (queue, queue + ".dead"):
            channel = connection.channel()
            try:
                depths.append(channel.queue_declare(name, passive=True).method.message_count)
            except pika.exceptions.ChannelClosedByBroker:
                depths.append(0)
        return depths[0], depths[1]
    finally:
        connection.close()


def delete_queues(amqp_url: str, queue: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        for name in (queue, queue + ".dead"):
            channel.queue_delete(name)
    finally:
        connection.close()


async def delete_keys(client: Any, prefix: str) -> None:
    """Remove every Redis key of one test's prefix."""
    keys = [key async for key in client.scan_iter(match="{" + prefix + "}:*", count=1000)]
    if keys:
        await client.delete(*keys)
