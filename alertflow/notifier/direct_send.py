"""Broadcast frames written straight to each client's TCP transport.

Through python-engineio and Hypercorn, one websocket message to one client costs a writer task
wake-up, an ASGI send, a wsproto frame, a lock and a drain: about 40 µs of CPU, where the
write itself costs 7 (docs/benchmarks.md). A batch of alerts goes to thousands of clients as the
same bytes, so the notifier frames it once and writes the frame to each client's transport.

Order is what makes this safe. Everything else a client receives (the handshake, its snapshot,
acknowledgements, pings) goes through engineio's per-client queue and writer. A direct write is
made only while that writer is idle, waiting on an empty queue, so everything queued before
has already reached the transport, and each write is one whole frame, so frames never
interleave. Otherwise the packet joins engineio's queue behind what is there. Whether the
writer waits is known from the queue itself: engineio makes each client's queue with its
server's public `create_queue`, which the notifier points at `WriterQueue` (client_queue.py).

Only websockets over HTTP/1.1 (a frame on a TCP transport of their own) are written to, only
once engineio has them on the websocket (not while polling or upgrading), and only with the
dependency versions this was tested on (versions.py); every other client, and every client on
other versions, gets its packets through engineio's queue.

Reaching the transport means walking Hypercorn's objects from the ASGI `send` callable
(Hypercorn has no public way): `transport_of` does it, returns None if the objects are not
what it expects, and tests/unit/test_direct_send.py fails when a Hypercorn upgrade changes them.
"""

from __future__ import annotations

import json
from typing import Any, Protocol
from urllib.parse import parse_qs

import structlog

from alertflow.notifier.client_queue import WriterQueue
from alertflow.notifier.packet_guard import ASGIApp, Message, Receive, Scope, Send
from alertflow.notifier.versions import shortcuts_allowed

log = structlog.get_logger("alertflow.notifier")

# Above this many unsent bytes, a client is not keeping up: its packets go through engineio's
# queue again, where the notifier's per-client backlog bound applies.
MAX_UNSENT_BYTES = 64 * 1024


class Transport(Protocol):
    def write(self, data: bytes) -> None: ...
    def is_closing(self) -> bool: ...
    def get_write_buffer_size(self) -> int: ...


def websocket_text_frame(text: str) -> bytes:
    """One unfragmented, unmasked websocket text frame (RFC 6455 §5.2), as a server sends it."""
    payload = text.encode()
    size = len(payload)
    if size <= 125:
        header = bytes((0x81, size))
    elif size <= 0xFFFF:
        header = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return header + payload


def transport_of(send: Send) -> Transport | None:
    """The TCP transport under Hypercorn's ASGI `send` for a websocket over HTTP/1.1.

    Hypercorn 0.18: `send` is WSStream.app_send; the stream's `send` is H11Protocol's, whose
    `send` is TCPServer.protocol_send, and the TCPServer holds the asyncio StreamWriter.
    """
    try:
        h11_protocol = send.__self__.send.__self__  # type: ignore[attr-defined]
        transport = h11_protocol.send.__self__.writer.transport
    except AttributeError:
        return None
    needed = ("write", "is_closing", "get_write_buffer_size")
    return transport if all(hasattr(transport, name) for name in needed) else None


def writer_is_idle(engineio_socket: Any) -> bool:
    """True while engineio's websocket writer waits on an empty queue: all it was given is
    written. False for queues that are not WriterQueues (nothing is known of them)."""
    queue = engineio_socket.queue
    return isinstance(queue, WriterQueue) and queue.empty() and queue.waiting > 0


class Transports:
    """Engine.IO session id → the TCP transport of its websocket, while it is open."""

    def __init__(self) -> None:
        self._by_sid: dict[str, Transport] = {}
        self._warned = False

    def get(self, eio_sid: str) -> Transport | None:
        return self._by_sid.get(eio_sid)

    def __len__(self) -> int:
        return len(self._by_sid)

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """Wrap the Engine.IO ASGI app: learn each websocket's session id (from the query of
        an upgrade, or from the open packet engineio sends first on a new websocket), and
        forget it when the connection ends."""

        async def tracked(scope: Scope, receive: Receive, send: Send) -> None:
            if (scope["type"] != "websocket" or scope.get("http_version") != "1.1"
                    or not shortcuts_allowed()):
                await app(scope, receive, send)
                return
            transport = transport_of(send)
            if transport is None and not self._warned:
                self._warned = True
                log.warning("direct websocket writes unavailable with this Hypercorn; "
                            "broadcasts go through python-engineio")
            # An upgrade names its session in the query. Session ids are engineio's secrets
            # (a client that knows another's could take over its upgrade anyway), but a second
            # websocket naming a session never replaces the first one's transport.
            upgrading = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("sid")
            sid: str | None = None
            if upgrading and transport is not None and upgrading[0] not in self._by_sid:
                sid = upgrading[0]
                self._by_sid[sid] = transport

            async def learning_send(message: Message) -> None:
                nonlocal sid
                text = message.get("text")
                if (sid is None and transport is not None and message["type"] == "websocket.send"
                        and isinstance(text, str) and text.startswith("0{")):
                    sid = json.loads(text[1:]).get("sid")
                    if isinstance(sid, str):
                        self._by_sid[sid] = transport
                await send(message)

            try:
                await app(scope, receive, learning_send)
            finally:
                if sid is not None and self._by_sid.get(sid) is transport:
                    del self._by_sid[sid]

        return tracked


def write_directly(engineio_socket: Any, transport: Transport | None, frame: bytes) -> bool:
    """Write `frame` to the client's transport if that keeps it in order; False if not."""
    if (transport is None or not writer_is_idle(engineio_socket) or transport.is_closing()
            or transport.get_write_buffer_size() > MAX_UNSENT_BYTES):
        return False
    transport.write(frame)
    return True

