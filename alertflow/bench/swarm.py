"""Many real Socket.IO websocket clients in one process, cheap enough for thousands.

The benchmark measures when each client receives each event, so the clients must cost far less
than the server they measure: a client that takes its time inflates the latency it reports.
Through aiohttp (a task per client, an `await ws.receive()` per message) a client spent more
CPU per message than the notifier spends sending it (docs/benchmarks.md, "The clients"). Each
client is therefore an
`asyncio.Protocol` driven by the event loop's callbacks — no task and no `await` per client or
per message — and `data_received` does the websocket work by hand:

- the HTTP/1.1 upgrade (RFC 6455 §4): a GET with a random `Sec-WebSocket-Key`, then the `101`
  and its `Sec-WebSocket-Accept` are checked; bytes after the header block are websocket frames;
- frames (§5): 7/16/64-bit lengths, continuation frames, ping → pong, close (its code is kept
  for the report); client frames are masked, as the RFC requires;
- permessage-deflate (RFC 7692), offered as browsers do when `deflate` is set: used only if the
  server accepts it, to inflate its compressed messages; this client sends uncompressed frames,
  which the extension allows.

On top of that it speaks Engine.IO v4 (`0` open, `2` ping → `3` pong) and Socket.IO v5 (`40`
connect, `42["snapshot",{…}]`, `42["alerts",[…]]`), synchronously, inside the same callback.

Connecting is the only part with tasks: `connect_concurrency` workers, each holding a slot of
the semaphore from the TCP connect until its client's snapshot arrives, so connect storms stay
bounded; a connected client needs no task.

Every client of a notifier receives the same frame text for the same batch, so a frame is
decoded and parsed once (cached by its bytes) and each client only records its arrival time
against the shared `Frame`. Per client it keeps the last `seq` it saw: an event at or below it is a
duplicate (the protocol promises strictly increasing `seq`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import ssl
import time
import zlib
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit

import msgspec

_decode_event = msgspec.json.Decoder(list[Any])
CACHE_SIZE = 4096
CONNECT_TIMEOUT_S = 30.0  # for the TCP connect, and again for the handshake up to the snapshot
CLOSE_WAIT_S = 5.0
MAX_HEADER_BYTES = 64 * 1024

_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_DEFLATE_PARAMS = {"server_no_context_takeover", "client_no_context_takeover",
                   "server_max_window_bits", "client_max_window_bits"}
_DEFLATE_TAIL = b"\x00\x00\xff\xff"  # stripped by the sender of each message (RFC 7692 §7.2.2)

# Opcodes (RFC 6455 §5.2)
_CONTINUATION, _TEXT, _BINARY, _CLOSE, _PING, _PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
# A client's states
_UPGRADING, _OPENING, _OPEN, _CLOSED = 0, 1, 2, 3


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


@dataclass(frozen=True, slots=True)
class _Endpoint:
    """Where a notifier is, and the fixed part of the upgrade request to it."""

    host: str
    port: int
    ssl: ssl.SSLContext | None
    request: bytes  # the GET and its headers, but the key and the final blank line

    @classmethod
    def parse(cls, url: str, deflate: bool) -> _Endpoint:
        parts = urlsplit(url)
        secure = parts.scheme in ("https", "wss")
        if parts.scheme not in ("http", "ws", "https", "wss") or not parts.hostname:
            raise ValueError(f"not an http(s) or ws(s) URL: {url!r}")
        port = parts.port or (443 if secure else 80)
        host = parts.netloc.rpartition("@")[2]
        extension = ("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
                     if deflate else "")
        request = (f"GET {parts.path.rstrip('/')}/socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                   f"Host: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Version: 13\r\n{extension}")
        return cls(parts.hostname, port, ssl.create_default_context() if secure else None,
                   request.encode())


def _masked(payload: bytes, mask: bytes) -> bytes:
    """`payload` XOR the repeated 4-byte `mask` (RFC 6455 §5.3), as one big-int operation."""
    size = len(payload)
    if not size:
        return b""
    key = (mask * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(size, "big")


def _client_frame(opcode: int, payload: bytes) -> bytes:
    """One whole masked frame, as a client must send it."""
    size = len(payload)
    if size < 126:
        head = bytes((0x80 | opcode, 0x80 | size))
    elif size < 1 << 16:
        head = bytes((0x80 | opcode, 0x80 | 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + size.to_bytes(8, "big")
    mask = os.urandom(4)
    return head + mask + _masked(payload, mask)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class _Client(asyncio.Protocol):
    """One websocket client: the upgrade, frames, Engine.IO; Socket.IO events go to the Swarm.

    A protocol error raises inside `data_received`, which fails this client (`_fail`).
    """

    __slots__ = ("_accept", "_buffer", "_close_code", "_fragment_head", "_fragments",
                 "_inflate_fresh", "_inflater", "_state", "_swarm", "_transport", "_waiter",
                 "conn")

    def __init__(self, swarm: Swarm, conn: Conn, waiter: asyncio.Future[None]) -> None:
        self.conn = conn
        self._swarm = swarm
        self._waiter: asyncio.Future[None] | None = waiter  # until the snapshot, or a failure
        self._transport: asyncio.Transport | None = None
        self._state = _UPGRADING
        self._accept = b""  # the Sec-WebSocket-Accept to expect
        self._buffer = bytearray()  # bytes not parsed yet: part of a header block or frame
        self._inflater: zlib._Decompress | None = None  # when permessage-deflate is on
        self._inflate_fresh = False  # server_no_context_takeover: no window across messages
        self._fragments: list[bytes] | None = None  # of a fragmented message
        self._fragment_head = 0  # its first frame's first byte (opcode, RSV1)
        self._close_code = 1006  # "closed abnormally" until a close frame says otherwise

    # -- asyncio callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._swarm._clients.add(self)
        key = base64.b64encode(os.urandom(16))
        self._accept = base64.b64encode(hashlib.sha1(key + _WS_GUID).digest())
        endpoint = self._swarm._endpoint(self.conn)
        self._transport.write(endpoint.request + b"Sec-WebSocket-Key: " + key + b"\r\n\r\n")

    def data_received(self, data: bytes) -> None:
        try:
            if self._state == _UPGRADING:
                data = self._upgrade(data)
            if data:
                self._frames(data)
        except Exception as exc:  # the peer broke the protocol: this client fails alone
            self._fail(_describe(exc))

    def connection_lost(self, exc: Exception | None) -> None:
        self._state = _CLOSED
        swarm = self._swarm
        swarm._clients.discard(self)
        if swarm._stopping:
            if not swarm._clients:
                swarm._all_closed.set()
            return
        reason = (f"closed by the server ({self._close_code})" if exc is None
                  else f"connection lost ({self._close_code}): {_describe(exc)}")
        if self._waiter is not None:
            self._settle(ConnectionError(f"while connecting: {reason}"))
        elif self.conn.ready:
            self.conn.lost = True
            self.conn.error = self.conn.error or reason[:200]

    # -- sending
    def send_text(self, text: str) -> None:
        self._send(_TEXT, text.encode())

    def _send(self, opcode: int, payload: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(_client_frame(opcode, payload))

    def close(self) -> None:
        """Say goodbye (1001: going away) and close."""
        if self._state != _CLOSED:
            self._state = _CLOSED
            self._send(_CLOSE, (1001).to_bytes(2, "big"))
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        self._state = _CLOSED
        if self._transport is not None:
            self._transport.abort()

    def _settle(self, error: Exception | None) -> None:
        """Tell the connecting worker: ready (None), or failed."""
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            if error is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(error)

    def _fail(self, error: str) -> None:
        conn = self.conn
        conn.error = conn.error or error[:200]
        conn.lost = conn.ready
        self._settle(ConnectionError(conn.error))
        self.abort()

    # -- the upgrade
    def _upgrade(self, data: bytes) -> bytes:
        """Parse the server's answer to the upgrade; return the bytes after it."""
        buffer = self._buffer
        buffer += data
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > MAX_HEADER_BYTES:
                raise ConnectionError("no end to the upgrade response's headers")
            return b""
        status, *lines = buffer[:end].decode("latin-1").split("\r\n")
        rest = bytes(buffer[end + 4:])
        buffer.clear()
        if status.split(" ", 2)[1:2] != ["101"]:
            raise ConnectionError(f"upgrade refused: {status}")
        headers: dict[str, str] = {}
        for line in lines:
            name, _, value = (part.strip() for part in line.partition(":"))
            name = name.lower()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        connection = {token.strip().lower() for token in headers.get("connection", "").split(",")}
        if headers.get("upgrade", "").lower() != "websocket" or "upgrade" not in connection:
            raise ConnectionError("the 101 does not upgrade to websocket")
        if headers.get("sec-websocket-accept", "").encode() != self._accept:
            raise ConnectionError("wrong Sec-WebSocket-Accept")
        self._extensions(headers.get("sec-websocket-extensions", ""))
        self._state = _OPENING
        return rest

    def _extensions(self, accepted: str) -> None:
        """Take what the server accepted: permessage-deflate, if offered, and nothing else."""
        for extension in filter(None, (item.strip() for item in accepted.split(","))):
            name, *params = (param.strip() for param in extension.split(";"))
            keys = {param.partition("=")[0].strip().lower() for param in params}
            if (name.lower() != "permessage-deflate" or not self._swarm._deflate
                    or self._inflater is not None or not keys <= _DEFLATE_PARAMS):
                raise ConnectionError(f"extension not offered: {extension}"[:200])
            # A window of 2^15 inflates anything; server_max_window_bits only makes it smaller.
            self._inflater = zlib.decompressobj(-15)
            self._inflate_fresh = "server_no_context_takeover" in keys

    # -- frames
    def _frames(self, data: bytes) -> None:
        """Handle every whole frame in the buffer plus `data`; keep the rest for later."""
        buffer = self._buffer
        view: bytes | bytearray = data
        if buffer:  # a frame came in pieces: the rare case
            buffer += data
            view = buffer
        pos, end = 0, len(view)
        while end - pos >= 2 and self._state != _CLOSED:
            first, second = view[pos], view[pos + 1]
            if second & 0x80:
                raise ConnectionError("masked frame from the server")
            size = second & 0x7F
            start = pos + 2
            if size >= 126:
                start += 2 if size == 126 else 8
                if end < start:
                    break
                size = int.from_bytes(view[pos + 2:start], "big")
            if end - start < size:
                break
            pos = start + size
            payload = bytes(view[start:pos])  # a copy only if `view` is the buffer
            if first == 0x81 and self._fragments is None:  # a whole text message: the usual
                self._text(payload)
            else:
                self._frame(first, payload)
        if view is buffer:
            del buffer[:pos]
        elif pos < end:
            buffer += memoryview(data)[pos:]

    def _frame(self, first: int, payload: bytes) -> None:
        opcode = first & 0x0F
        # RSV1 marks a compressed message, on its first frame only; RSV2 and RSV3 mean nothing.
        if first & 0x30 or (first & 0x40 and (self._inflater is None or opcode in (0, 8, 9, 10))):
            raise ConnectionError(f"reserved bits set: {first:#04x}")
        if opcode >= _CLOSE:
            if not first & 0x80 or len(payload) > 125:
                raise ConnectionError("fragmented or long control frame")
            self._control(opcode, payload)
            return
        if opcode == _CONTINUATION:
            if self._fragments is None:
                raise ConnectionError("continuation frame outside a message")
            self._fragments.append(payload)
            if not first & 0x80:
                return
            payload = b"".join(self._fragments)
            first = self._fragment_head
            self._fragments = None
        elif self._fragments is not None:
            raise ConnectionError("new message inside a fragmented one")
        elif not first & 0x80:
            self._fragments = [payload]
            self._fragment_head = first
            return
        self._message(first, payload)

    def _control(self, opcode: int, payload: bytes) -> None:
        if opcode == _PING:
            self._send(_PONG, payload)
        elif opcode == _CLOSE:
            self._close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self._send(_CLOSE, payload[:2])  # echo the code, then hang up (RFC 6455 §5.5.1)
            self._state = _CLOSED
            if self._transport is not None:
                self._transport.close()
        elif opcode != _PONG:
            raise ConnectionError(f"unknown control opcode {opcode:#x}")

    def _message(self, first: int, payload: bytes) -> None:
        if first & 0x40:
            payload = self._inflate(payload)
        opcode = first & 0x0F
        if opcode != _TEXT:  # Engine.IO over websocket sends text, binary only for attachments
            raise ConnectionError(f"unexpected {'binary' if opcode == _BINARY else 'opcode'} "
                                  f"message ({opcode:#x})")
        self._text(payload)

    def _text(self, payload: bytes) -> None:
        """One text message: Engine.IO's open packet, then everything else to the Swarm."""
        if self._state == _OPEN:
            self._swarm._on_message(self, payload)
        elif self._state == _OPENING:
            if not payload.decode().startswith("0"):
                raise ConnectionError(f"no Engine.IO open packet: {payload!r}"[:200])
            self._state = _OPEN
            self.send_text("40")  # Socket.IO connect to the main namespace
        if self._waiter is not None and self.conn.ready:
            self._settle(None)

    def _inflate(self, payload: bytes) -> bytes:
        if self._inflate_fresh:
            self._inflater = zlib.decompressobj(-15)
        assert self._inflater is not None
        return self._inflater.decompress(payload + _DEFLATE_TAIL)


class Swarm:
    """N clients of one or more notifiers; collects what they receive.

    `is_ours(alert_id)` tells this run's alerts from other traffic on a shared deployment.
    """

    def __init__(self, notifier_urls: list[str], is_ours: Callable[[str], bool], *,
                 deflate: bool = True, connect_concurrency: int = 50) -> None:
        self._endpoints = [_Endpoint.parse(url.rstrip("/"), deflate) for url in notifier_urls]
        self._is_ours = is_ours
        self._deflate = deflate
        self._concurrency = max(1, connect_concurrency)
        self._limit = asyncio.Semaphore(self._concurrency)
        self._cache: dict[bytes, Frame] = {}  # by the message's bytes
        self._open_seq: dict[tuple[str, str], int] = {}
        self._incidents: set[str] = set()
        self._closed_seq: dict[str, int] = {}
        self.frames: list[Frame] = []
        self.conns: list[Conn] = []
        self._tasks: list[asyncio.Task[None]] = []  # the connecting workers
        self._clients: set[_Client] = set()  # with an open transport
        self._ready_count = 0
        self._failed = 0
        self._all_ready = asyncio.Event()
        self._stopping = False
        self._all_closed = asyncio.Event()  # set once stopping and every transport is closed
        self.parse_count = 0

    # -- lifecycle
    async def connect(self, count: int, timeout: float) -> int:
        """Start `count` clients; wait until each has its snapshot. Returns how many did."""
        start = len(self.conns)
        new = [Conn(index) for index in range(start, start + count)]
        self.conns.extend(new)
        pending = iter(new)  # shared by the workers: each takes the next client
        for _ in range(min(count, self._concurrency)):
            self._tasks.append(asyncio.create_task(self._connect_each(pending)))
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
        for client in list(self._clients):
            client.close()
        if self._clients:  # let each connection_lost run before the loop ends
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._all_closed.wait(), CLOSE_WAIT_S)

    def _check_ready(self) -> None:
        if self._ready_count + self._failed >= len(self.conns):
            self._all_ready.set()

    @property
    def ready_count(self) -> int:
        return self._ready_count

    def _endpoint(self, conn: Conn) -> _Endpoint:
        return self._endpoints[conn.index % len(self._endpoints)]

    # -- connecting
    async def _connect_each(self, pending: Iterator[Conn]) -> None:
        for conn in pending:
            async with self._limit:
                await self._open(conn)

    async def _open(self, conn: Conn) -> None:
        """Connect one client and wait for its snapshot; on failure, record it."""
        loop = asyncio.get_running_loop()
        endpoint = self._endpoint(conn)
        ready: asyncio.Future[None] = loop.create_future()
        client: _Client | None = None
        try:
            _, client = await asyncio.wait_for(loop.create_connection(
                lambda: _Client(self, conn, ready), endpoint.host, endpoint.port,
                ssl=endpoint.ssl), CONNECT_TIMEOUT_S)
            await asyncio.wait_for(ready, CONNECT_TIMEOUT_S)
            return
        except TimeoutError:
            error = (f"TimeoutError: {'no snapshot' if client else 'not connected'} "
                     f"after {CONNECT_TIMEOUT_S:g} s")
        except Exception as exc:  # recorded per client: the report counts failed clients
            error = _describe(exc)
        finally:
            if client is not None and not conn.ready:  # failed, or cancelled by close()
                client.abort()
        conn.error = conn.error or error[:200]
        if not self._stopping:
            self._failed += 1  # never became ready: stop waiting for it
            self._check_ready()

    # -- Socket.IO
    def _on_message(self, client: _Client, data: bytes) -> None:
        """One Engine.IO message (a websocket text message). An `alerts` event stays bytes:
        the cache is keyed by them, so the copies all clients receive are decoded once (msgspec
        checks the UTF-8 then)."""
        if data.startswith(b'42["alerts"'):
            self._on_alerts(client.conn, data)
        else:
            self._on_text(client, data.decode())

    def _on_text(self, client: _Client, data: str) -> None:
        conn = client.conn
        kind = data[:2]
        if kind == "42":
            if data.startswith('42["snapshot"'):
                self._on_snapshot(conn, data)
        elif data == "2":
            client.send_text("3")
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

    def _on_alerts(self, conn: Conn, data: bytes) -> None:
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

    def _parse(self, data: bytes) -> Frame:
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

