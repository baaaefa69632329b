"""Many real Socket.IO websocket clients in one process, cheap enough for thousands.

python-socketio's AsyncClient runs several tasks and queues per client, which limits one process
to a few hundred clients on a small machine. This client speaks the wire protocol itself over
aiohttp websockets (one task per client): Engine.IO v4 (`0` open, `2` ping → `3` pong) and
Socket.IO v5 (`40` connect with the `auth` object, `42["snapshot",{…}]`, `42["alerts",[…]]`).

Every client of a notifier receives the same frame text for the same batch, so a frame is
parsed once (cached by its text) and each client only records its arrival time against the
shared `Frame`. Per client it keeps the last `seq` it saw: an event at or below it is a
duplicate (the protocol promises strictly increasing `seq`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import msgspec

_decode_event = msgspec.json.Decoder(list[Any])
CACHE_SIZE = 4096


@dataclass(slots=True)
class Frame:
    """One `alerts` payload as parsed once, and when each client received it."""

    first_seq: int
    last_seq: int
    seqs: tuple[int, ...]
    opens: tuple[str, ...]  # alert ids of this run's open events
    received_at: tuple[int, ...]  # and their `received_at` (ms, the listener's clock)
    closes: tuple[int, ...]  # ends_at (ms) of the close events of this run's incidents
    server_duplicates: int  # events whose (alert, location) or incident was already emitted
    events: int
    recv: array[float] = field(default_factory=lambda: array("d"))


@dataclass(slots=True)
class Conn:
    """The state of one client connection."""

    index: int
    last_seq: int = -1
    snapshot_seq: int | None = None
    opens: int = 0
    closes: int = 0
    events: int = 0
    duplicates: int = 0
    frames: int = 0
    connected: bool = False
    ready: bool = False  # got its snapshot: live events follow
    lost: bool = False  # disconnected while the benchmark still needed it
    error: str = ""


class Swarm:
    """N clients of one or more notifiers; collects what they receive.

    `is_ours(alert_id)` tells this run's alerts from other traffic on a shared deployment.
    """

    def __init__(self, notifier_urls: list[str], is_ours: Callable[[str], bool], *,
                 deflate: bool = True, connect_concurrency: int = 50) -> None:
        self._urls = [url.rstrip("/") for url in notifier_urls]
        self._is_ours = is_ours
        self._deflate = deflate
        self._limit = asyncio.Semaphore(connect_concurrency)
        self._cache: dict[str, Frame] = {}
        self._open_seq: dict[tuple[str, str], int] = {}
        self._incidents: set[str] = set()
        self._closed_seq: dict[str, int] = {}
        self.frames: list[Frame] = []
        self.conns: list[Conn] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._session: aiohttp.ClientSession | None = None
        self._ready_count = 0
        self._failed = 0
        self._all_ready = asyncio.Event()
        self._stopping = False
        self.parse_count = 0

    # -- lifecycle
    async def connect(self, count: int, timeout: float) -> int:
        """Start `count` clients; wait until each has its snapshot. Returns how many did."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=30),
            )
        start = len(self.conns)
        for index in range(start, start + count):
            conn = Conn(index)
            self.conns.append(conn)
            url = self._urls[index % len(self._urls)]
            self._tasks.append(asyncio.create_task(self._run(conn, url)))
        self._all_ready.clear()
        self._check_ready()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._all_ready.wait(), timeout)
        return self._ready_count

    async def close(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    def _check_ready(self) -> None:
        if self._ready_count + self._failed >= len(self.conns):
            self._all_ready.set()

    @property
    def ready_count(self) -> int:
        return self._ready_count

    # -- one client
    async def _run(self, conn: Conn, base_url: str) -> None:
        assert self._session is not None
        url = base_url + "/socket.io/?EIO=4&transport=websocket"
        ws: aiohttp.ClientWebSocketResponse | None = None
        try:
            async with self._limit:
                ws = await self._session.ws_connect(
                    url, compress=15 if self._deflate else 0, autoping=True, heartbeat=None,
                    max_msg_size=0)
                opened = await ws.receive(timeout=30)
                if opened.type is not aiohttp.WSMsgType.TEXT or not opened.data.startswith("0"):
                    raise ConnectionError(f"no Engine.IO open packet: {opened.data!r}"[:200])
                await ws.send_str("40")
                while not conn.ready:  # connect storms stay bounded until the snapshot
                    message = await ws.receive(timeout=30)
                    if message.type is not aiohttp.WSMsgType.TEXT:
                        raise ConnectionError(f"closed while connecting: {message.type}")
                    await self._on_text(conn, ws, message.data)
            async for message in ws:
                if message.type is aiohttp.WSMsgType.TEXT:
                    await self._on_text(conn, ws, message.data)
                else:
                    break
            if not self._stopping:
                conn.lost = True
                conn.error = conn.error or f"closed by the server ({ws.close_code})"
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # recorded per client: the report counts failed clients
            conn.error = f"{type(exc).__name__}: {exc}"[:200]
            conn.lost = conn.ready
        finally:
            if ws is not None and not ws.closed and not self._stopping:
                with contextlib.suppress(Exception):
                    await ws.close()
            if not conn.ready and not self._stopping:
                self._failed += 1  # never became ready: stop waiting for it
                conn.error = conn.error or "not ready"
                self._check_ready()

    async def _on_text(self, conn: Conn, ws: aiohttp.ClientWebSocketResponse, data: str) -> None:
        kind = data[:2]
        if kind == "42":
            if data.startswith('42["alerts"'):
                self._on_alerts(conn, data)
            elif data.startswith('42["snapshot"'):
                self._on_snapshot(conn, data)
        elif data == "2":
            await ws.send_str("3")
        elif kind == "40":
            conn.connected = True
        elif kind == "44":
            conn.error = f"connection refused: {data[2:200]}"
            raise ConnectionError(conn.error)
        elif kind == "41":  # the namespace is closed; the websocket may stay open
            conn.error = "disconnected by the server (41)"
            raise ConnectionError(conn.error)

    def _on_snapshot(self, conn: Conn, data: str) -> None:
        _, snapshot = _decode_event.decode(data[2:])
        seq = int(snapshot["seq"])
        conn.snapshot_seq = seq
        conn.last_seq = max(conn.last_seq, seq)
        if not conn.ready:
            conn.ready = True
            self._ready_count += 1
            self._check_ready()

    def _on_alerts(self, conn: Conn, data: str) -> None:
        now = time.time()
        frame = self._cache.get(data)
        if frame is None:
            frame = self._parse(data)
        conn.frames += 1
        conn.events += frame.events
        if frame.first_seq > conn.last_seq:  # the usual case: everything new
            conn.last_seq = frame.last_seq
            conn.opens += len(frame.opens)
            conn.closes += len(frame.closes)
            conn.duplicates += frame.server_duplicates
            frame.recv.append(now)
            return
        # Some of it was seen already: count those, accept the rest (rarely taken).
        fresh = [seq for seq in frame.seqs if seq > conn.last_seq]
        conn.duplicates += len(frame.seqs) - len(fresh) + frame.server_duplicates
        if fresh:
            conn.last_seq = max(fresh)
        if len(fresh) == len(frame.seqs):
            conn.opens += len(frame.opens)
            conn.closes += len(frame.closes)
            frame.recv.append(now)

    def _parse(self, data: str) -> Frame:
        self.parse_count += 1
        _, events = _decode_event.decode(data[2:])
        seqs: list[int] = []
        opens: list[str] = []
        received_at: list[int] = []
        closes: list[int] = []
        server_duplicates = 0
        for event in events:
            seq = int(event["seq"])
            seqs.append(seq)
            if event.get("kind") == "open":
                alert_id = event.get("alert_id") or ""
                if not self._is_ours(alert_id):
                    continue
                key = (alert_id, str(event.get("location")))
                first = self._open_seq.setdefault(key, seq)
                if first != seq:
                    server_duplicates += 1
                    continue
                self._incidents.add(str(event.get("incident_id")))
                opens.append(alert_id)
                received_at.append(int(event.get("received_at") or 0))
            elif event.get("kind") == "close":
                incident = str(event.get("incident_id"))
                if incident not in self._incidents:
                    continue
                first = self._closed_seq.setdefault(incident, seq)
                if first != seq:
                    server_duplicates += 1
                    continue
                closes.append(int(event["ends_at"]))
        frame = Frame(seqs[0] if seqs else 0, seqs[-1] if seqs else 0, tuple(seqs),
                      tuple(opens), tuple(received_at), tuple(closes), server_duplicates,
                      len(seqs))
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        self._cache[data] = frame
        self.frames.append(frame)
        return frame

    # -- results
    def live(self) -> list[Conn]:
        """Clients that became ready: the ones expected to receive everything."""
        return [conn for conn in self.conns if conn.snapshot_seq is not None]

    def received_opens(self) -> int:
        return sum(conn.opens for conn in self.live())

    def received_closes(self) -> int:
        return sum(conn.closes for conn in self.live())

    def duplicates(self) -> int:
        return sum(conn.duplicates for conn in self.conns)

    def deliveries(self) -> int:
        return sum(conn.events for conn in self.conns)

    def errors(self) -> list[str]:
        return [conn.error for conn in self.conns if conn.error]

    def lost(self) -> int:
        return sum(1 for conn in self.conns if conn.lost)

