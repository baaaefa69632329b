"""Helpers for integration and end-to-end tests: role subprocesses and Socket.IO collectors."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pika
import socketio

# Re-exported for the tests: the bench deletes a run's queue and keys the same way.
from alertflow.backends.cleanup import delete_keys as delete_keys
from alertflow.backends.cleanup import delete_queues as delete_queues
from alertflow.backends.cleanup import delete_run_state
from alertflow.backends.ports import StateStore
from alertflow.domain.alert import Alert
from alertflow.local_ports import free_port
from alertflow.notifier import Notifier
from alertflow.roles.http import serve_app

ALERTFLOW = str(Path(sys.executable).parent / "alertflow")
WEBSOCKET = ["websocket"]  # the production path; pass None for the default (polling first)
TOKEN = "e2e-source-token-0123456789"


def forget_run(amqp_url: str, redis_url: str, name: str) -> None:
    """Delete the queues and Redis keys of a run whose queue and key prefix are both `name`."""
    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, delete_run_state(amqp_url, name, redis_url, name)).result()


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


async def poll_until(condition: Callable[[], bool], timeout: float,
                     failure: Callable[[], str]) -> None:
    """Wait until `condition()` holds; after `timeout` seconds fail with `failure()`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(failure())
        await asyncio.sleep(0.02)


async def apply_alert_now(store: StateStore, location: str, duration_s: int = 60) -> Alert:
    """A new alert over `location`, issued and received now, applied to `store` as a
    processor would (the notifier's feed then carries its open event)."""
    now = int(time.time() * 1000)
    issued = Alert(id=f"test-{location}-{time.monotonic_ns()}", kind="alert", type="missiles",
                   locations=[location], issued_at=now, duration_s=duration_s,
                   received_at=now, source="test")
    await store.apply(issued, now)
    return issued


@contextlib.asynccontextmanager
async def serving(notifier: Notifier) -> AsyncIterator[str]:
    """Run `notifier` (its feed and its app on a free local port) in this event loop; yields
    its URL once it has synced and accepts connections, and stops it afterwards."""
    stop, port = asyncio.Event(), free_port()
    feed = asyncio.create_task(notifier.run_feed())
    server = asyncio.create_task(serve_app(notifier.asgi_app(), "127.0.0.1", port, stop, 1))
    url = f"http://127.0.0.1:{port}"
    try:
        await poll_until(lambda: notifier.ready, 10, lambda: "the notifier never synced")
        async with aiohttp.ClientSession() as session:  # and until it accepts connections
            for _ in range(200):
                try:
                    async with session.get(f"{url}/healthz"):
                        break
                except aiohttp.ClientConnectorError:
                    await asyncio.sleep(0.05)
        yield url
    finally:
        stop.set()
        await server
        feed.cancel()


class Collector:
    """A real Socket.IO client that records every event and snapshot it receives."""

    def __init__(self, url: str, auth: dict[str, Any] | None = None,
                 transports: list[str] | None = WEBSOCKET) -> None:
        self.url = url
        self.auth = auth
        self.transports = transports  # None: python-socketio's default (polling, then upgrade)
        self.events: list[dict[str, Any]] = []
        self.snapshots: list[dict[str, Any]] = []
        self.snapshot_at: list[int] = []  # how many events had arrived before each snapshot
        self.batches = 0
        self.client = socketio.AsyncClient(reconnection=False)
        self.client.on("alerts", self._on_alerts)
        self.client.on("snapshot", self._on_snapshot)

    async def _on_alerts(self, events: list[dict[str, Any]]) -> None:
        self.batches += 1
        self.events.extend(events)

    async def _on_snapshot(self, snapshot: dict[str, Any]) -> None:
        self.snapshot_at.append(len(self.events))
        self.snapshots.append(snapshot)

    async def connect(self) -> Collector:
        await self.client.connect(self.url, transports=self.transports, auth=self.auth,
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
        await poll_until(lambda: predicate(self), timeout, lambda: (
            f"timed out waiting for {what}: {len(self.events)} events, "
            f"{len(self.snapshots)} snapshots"))


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




# -- helpers for chaos and fuzz tests (tests/chaos, tests/fuzz) -------------------------------


def metrics(base_url: str, timeout: float = 5) -> dict[str, float]:
    """A role's Prometheus metrics as {'name{label="v"}': value} (samples without labels by
    name alone)."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(base_url + "/metrics", timeout=timeout) as response:
        text = response.read().decode()
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


def ready(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(base_url + "/readyz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def readyz(base_url: str) -> dict[str, Any]:
    """A role's /readyz body, whatever its status: {ready, checks, missing}."""
    try:
        with urllib.request.urlopen(base_url + "/readyz", timeout=2) as response:
            body: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        body = json.loads(exc.read())
    return body


class PrivateRabbit:
    """A RabbitMQ node of the test's own (its own name, ports and directories), so the test
    can crash it: `kill()` is a `kill -9` of the node, `start()` brings it back with its data."""

    def __init__(self, directory: Path, name: str) -> None:
        self.node = f"{name}@localhost"
        self.directory = directory
        self.port = free_port()
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"
        self.pid_file = directory / "pid"
        (directory / "mnesia").mkdir(parents=True, exist_ok=True)
        (directory / "log").mkdir(exist_ok=True)
        (directory / "enabled_plugins").write_text("[].\n")
        # A config of its own: a machine-wide rabbitmq.conf naming listeners would win over
        # RABBITMQ_NODE_PORT and send the node to the shared node's port.
        (directory / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{self.port}\n")
        self.env = {**os.environ, "RABBITMQ_NODENAME": self.node,
                    "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
                    "RABBITMQ_NODE_PORT": str(self.port), "RABBITMQ_DIST_PORT": str(free_port()),
                    "RABBITMQ_MNESIA_BASE": str(directory / "mnesia"),
                    "RABBITMQ_LOG_BASE": str(directory / "log"),
                    "RABBITMQ_PID_FILE": str(self.pid_file),
                    "RABBITMQ_ENABLED_PLUGINS_FILE": str(directory / "enabled_plugins"),
                    "RABBITMQ_CONFIG_FILE": str(directory / "rabbitmq.conf")}
        subprocess.run(["chown", "-R", "rabbitmq:rabbitmq", str(directory)], check=True)

    def start(self, timeout: float = 60) -> None:
        self.pid_file.unlink(missing_ok=True)
        subprocess.run(["rabbitmq-server", "-detached"], env=self.env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not self.pid_file.exists():  # `-detached` returns before the node registers
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.node} wrote no pid file in {timeout} s")
            time.sleep(0.1)
        subprocess.run(["rabbitmqctl", "-n", self.node, "wait", str(self.pid_file),
                        "--timeout", str(int(timeout))], env=self.env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout + 5)

    def pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def kill(self) -> None:
        """A hard crash: SIGKILL to the Erlang VM, no shutdown of anything."""
        pid = self.pid()
        assert pid is not None, "the private node is not running"
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the node and wait until its VM has exited (SIGKILL if it does not)."""
        pid = self.pid()
        with contextlib.suppress(subprocess.TimeoutExpired):
            subprocess.run(["rabbitmqctl", "-n", self.node, "stop"], env=self.env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        if pid is None:
            return
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


class PrivateRedis:
    """A Redis of the test's own with an AOF fsynced on every write: SIGKILL and restart keep
    everything it acknowledged."""

    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    def start(self, timeout: float = 20) -> None:
        log = (self.directory / "redis.log").open("ab")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.directory), "--appendonly", "yes", "--appendfsync", "always",
             "--save", ""], stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + timeout
        import redis as _redis

        client = _redis.Redis(port=self.port, socket_connect_timeout=1)
        try:
            while True:
                try:
                    if client.ping():
                        return
                except (_redis.ConnectionError, _redis.exceptions.BusyLoadingError):
                    pass
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise AssertionError(f"private redis on {self.port} did not start")
                time.sleep(0.05)
        finally:
            client.close()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    stop = kill


class ResumingClient:
    """A client as real apps behave: when its connection drops it reconnects (to the next of
    its URLs) with `since` and `epoch`, and it keeps every event of all its connections."""

    def __init__(self, urls: Sequence[str], auth: dict[str, Any] | None = None,
                 transports: list[str] | None = WEBSOCKET) -> None:
        self.urls = list(urls)
        self.auth = auth or {}
        self.transports = transports
        self.index = 0
        self.events: list[dict[str, Any]] = []
        self.snapshots: list[dict[str, Any]] = []
        self.snapshot_at: list[int] = []
        self.connections = 0
        self.drops = 0
        self.collector: Collector | None = None
        self._closing = False
        self._reconnecting: asyncio.Task[None] | None = None

    @property
    def last_seq(self) -> int:
        seqs = [event["seq"] for event in self.events]
        seqs += [snapshot["seq"] for snapshot in self.snapshots]
        return max(seqs, default=0)

    @property
    def connected(self) -> bool:
        return self.collector is not None and self.collector.client.connected

    def opens(self) -> list[dict[str, Any]]:
        return [event for event in self.events if event["kind"] == "open"]

    def closes(self) -> list[dict[str, Any]]:
        return [event for event in self.events if event["kind"] == "close"]

    async def connect(self) -> ResumingClient:
        auth = dict(self.auth)
        if self.snapshots:
            auth |= {"since": self.last_seq, "epoch": self.snapshots[-1]["epoch"]}
        collector = Collector(self.urls[self.index % len(self.urls)], auth, self.transports)
        # One record across connections.
        collector.events, collector.snapshots = self.events, self.snapshots
        collector.snapshot_at = self.snapshot_at
        collector.client.on("disconnect", self._on_disconnect)
        self.collector = collector
        await collector.connect()
        self.connections += 1
        return self

    async def _on_disconnect(self, *_reason: Any) -> None:
        if self._closing:
            return
        self.drops += 1
        if self._reconnecting is None or self._reconnecting.done():
            self._reconnecting = asyncio.create_task(self._reconnect())

    async def _reconnect(self) -> None:
        delay = 0.1
        while not self._closing:
            self.index += 1  # the next notifier, as a load balancer would pick
            try:
                await self.connect()
                return
            except Exception:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def wait_for(self, predicate: Callable[[ResumingClient], bool], timeout: float = 15,
                       what: str = "condition") -> None:
        await poll_until(lambda: predicate(self), timeout, lambda: (
            f"timed out waiting for {what}: {len(self.events)} events, "
            f"{len(self.snapshots)} snapshots, {self.connections} connections"))

    async def close(self) -> None:
        self._closing = True
        if self._reconnecting is not None:
            self._reconnecting.cancel()
        if self.collector is not None and self.collector.client.connected:
            with contextlib.suppress(Exception):
                await self.collector.disconnect()


class RawSocketIO:
    """A Socket.IO client written by hand on a websocket: it sends any packet, well formed or
    not, as a hostile client would (python-socketio only sends valid ones)."""

    def __init__(self, url: str) -> None:
        self.url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.session: Any = None
        self.ws: Any = None
        self.received: list[str] = []
        self.closed = False

    async def connect(self, auth: Any = None, namespace_packet: str | None = None) -> str:
        """Open the transport and the default namespace; the namespace answer ('40{…}' or
        '44{…}' when refused)."""
        import aiohttp

        self.session = aiohttp.ClientSession()
        self.ws = await self.session.ws_connect(
            self.url, timeout=aiohttp.ClientWSTimeout(ws_close=10), max_msg_size=0)
        opened = await self.recv()
        assert opened.startswith("0"), opened
        await self.send(namespace_packet if namespace_packet is not None
                        else "40" + (json.dumps(auth) if auth is not None else ""))
        return await self.recv()

    async def send(self, packet: str | bytes) -> None:
        if isinstance(packet, bytes):
            await self.ws.send_bytes(packet)
        else:
            await self.ws.send_str(packet)

    async def recv(self, timeout: float = 10) -> str:
        """The next packet that is not a ping (pings are answered); '' once closed."""
        import aiohttp

        while True:
            message = await self.ws.receive(timeout=timeout)
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.ERROR):
                self.closed = True
                return ""
            text = message.data if isinstance(message.data, str) else repr(message.data)
            if text == "2":
                await self.send("3")
                continue
            self.received.append(text)
            return text

    async def call(self, event: Any, *args: Any, ack_id: int = 1, timeout: float = 10) -> Any:
        """Emit with an ack id and return the ack's arguments (skipping other packets)."""
        await self.send(f"42{ack_id}" + json.dumps([event, *args]))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            packet = await self.recv(timeout=max(0.1, deadline - time.monotonic()))
            if not packet:
                raise ConnectionError("closed by the server")
            if packet.startswith(f"43{ack_id}"):
                return json.loads(packet[len(f"43{ack_id}"):])
        raise TimeoutError(f"no ack {ack_id}")

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self.session is not None:
            await self.session.close()


def websocket_frame(text: str) -> bytes:
    """A masked text frame, as clients must send them (RFC 6455)."""
    payload = text.encode()
    mask = os.urandom(4)
    size = len(payload)
    if size < 126:
        header = bytes([0x81, 0x80 | size])
    elif size < 1 << 16:
        header = bytes([0x81, 0x80 | 126]) + size.to_bytes(2, "big")
    else:
        header = bytes([0x81, 0x80 | 127]) + size.to_bytes(8, "big")
    return header + mask + bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))


def _upgrade_request(host: str, port: int) -> bytes:
    import base64

    key = base64.b64encode(os.urandom(16)).decode()
    return (f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n").encode()


def stalled_client(base_url: str, receive_buffer: int = 4096) -> Any:
    """A Socket.IO client on a plain socket that connects, joins the default namespace and then
    never reads again: a phone app suspended in the background. Returns the socket."""
    import socket as _socket
    from urllib.parse import urlparse

    parsed = urlparse(base_url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
    sock = _socket.socket()
    sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(10)
    sock.connect((host, port))
    sock.sendall(_upgrade_request(host, port))
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(4096)
        assert chunk, "the server closed the upgrade"
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 101"), answer[:80]
    sock.sendall(websocket_frame("40"))
    return sock


async def vanishing_client(base_url: str, reset: bool) -> None:
    """Connect, join the default namespace, wait for the snapshot, then vanish without a word:
    a reset (RST, a process killed) or a bare close (FIN), never a Socket.IO disconnect."""
    import socket as _socket
    import struct
    from urllib.parse import urlparse

    parsed = urlparse(base_url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(_upgrade_request(host, port))
        await reader.readuntil(b"\r\n\r\n")
        writer.write(websocket_frame("40"))
        while True:  # frames until the snapshot arrives
            head = await reader.readexactly(2)
            size = head[1] & 0x7F
            if size == 126:
                size = struct.unpack(">H", await reader.readexactly(2))[0]
            elif size == 127:
                size = struct.unpack(">Q", await reader.readexactly(8))[0]
            payload = await reader.readexactly(size)
            if payload.startswith(b'42["snapshot"'):
                break
    finally:
        sock = writer.get_extra_info("socket")
        if reset and sock is not None:
            sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_LINGER, struct.pack("ii", 1, 0))
        if reset:
            writer.transport.abort()
        else:
            writer.close()


class CuedFeed:
    """An event feed the test drives: `cue()` is a (re)subscription, as after a failover."""

    def __init__(self) -> None:
        self._batches: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
        self.cue()

    @property
    def connected(self) -> bool:
        return True

    def cue(self) -> None:
        self.send([])

    def send(self, batch: list[dict[str, Any]]) -> None:
        """A batch as the live channel would bring it."""
        self._batches.put_nowait(batch)

    async def batches(self) -> AsyncIterator[list[dict[str, Any]]]:
        while True:
            yield await self._batches.get()

    async def close(self) -> None:
        return None
