"""Node's official socket.io-client (tests/js/clients.mjs) as a subprocess, and a TCP balancer
that sends each new connection to the first live backend, as an ingress does when the notifier
a session stuck to has died."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

JS_DIR = Path(__file__).resolve().parent / "js"


def node_ready() -> str | None:
    """Why Node's clients cannot run here, or None (scripts/test.sh runs `npm ci`)."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (JS_DIR / "node_modules" / "socket.io-client").is_dir():
        return "tests/js/node_modules is missing: run `npm ci` in tests/js"
    return None


class NodeClients:
    """`count` clients of one MODE (default, polling, legacy: see clients.mjs) in one process;
    every line they print is kept, by client."""

    def __init__(self, url: str, mode: str, count: int) -> None:
        self.url, self.mode, self.count = url, mode, count
        self.lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self.stderr = b""

    async def start(self) -> NodeClients:
        self._proc = await asyncio.create_subprocess_exec(
            "node", str(JS_DIR / "clients.mjs"), self.url, self.mode, str(self.count),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, cwd=JS_DIR)
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        async for raw in self._proc.stdout:
            line = json.loads(raw)
            self.lines[line["i"]].append(line)

    def of(self, i: int, on: str) -> list[dict[str, Any]]:
        return [line for line in self.lines[i] if line["on"] == on]

    def events(self, i: int) -> list[dict[str, Any]]:
        """Every `alerts` event client i received, in order."""
        return [event for line in self.of(i, "alerts") for event in line["events"]]

    def legacy(self, i: int) -> list[dict[str, Any]]:
        return [line["data"] for line in self.of(i, "alert")]

    async def wait_for(self, predicate: Callable[[NodeClients], bool], what: str,
                       timeout: float = 30) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate(self):
            if loop.time() > deadline or (self._proc and self._proc.returncode is not None):
                raise AssertionError(f"node {self.mode} clients: timed out waiting for {what}: "
                                     f"{dict(self.lines)}"[:3000])
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        if self._proc is None:
            return
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            await asyncio.wait_for(self._proc.wait(), 10)
        except TimeoutError:
            self._proc.kill()
            await self._proc.wait()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader


class Balancer:
    """A TCP proxy on 127.0.0.1: each new connection goes to the first backend that accepts."""

    def __init__(self, backends: Sequence[tuple[str, int]]) -> None:
        self.backends = list(backends)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> Balancer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for host, port in self.backends:
            try:
                up_reader, up_writer = await asyncio.open_connection(host, port)
                break
            except OSError:
                continue
        else:
            writer.close()
            return
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except OSError:
            pass
        finally:
            sink.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._pipes):
            task.cancel()
