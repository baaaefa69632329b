"""An ASGI guard in front of the Socket.IO server: a client that sends a packet no Socket.IO
client sends is disconnected before python-socketio sees the packet — on a websocket (one
packet per frame) and in a long-polling POST (packets separated by a record separator).

python-socketio and python-engineio raise on such frames (an event without a name or with a
name that is not a string, a payload that is not JSON, a client-sent CONNECT_ERROR, binary
attachments, unknown packet types) and log a traceback for each: a hostile client could fill the
logs at will, and nothing in alertflow's protocol needs those frames. The guard hands engineio a
`websocket.disconnect` instead, or for a POST the body `1` (the client's own close packet), so
engineio closes the session through its normal path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from socketio import packet as sio_packet

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Engine.IO v4 packet types a client may send on a websocket: close, ping, pong, message,
# upgrade, noop. Engine.IO answers the others without a traceback but "0" (open) and unknown
# digits reach code that raises.
_ENGINEIO_FROM_CLIENT = frozenset("123456")
ENGINEIO_PATH = "/socket.io/"  # python-socketio's default; other paths are not Socket.IO
_RECORD_SEPARATOR = "\x1e"  # between the packets of a long-polling payload (Engine.IO v4)
_CLOSE = b"1"


def refusal(frame: str | bytes | None, max_bytes: int) -> str | None:
    """Why a websocket frame from a client is refused, or None when it is well formed."""
    if not isinstance(frame, str):
        return "binary frame"  # the protocol has no binary events
    if not frame or frame[0] not in _ENGINEIO_FROM_CLIENT:
        return "unknown engine.io packet"
    if len(frame) > max_bytes:
        return "frame too large"
    if frame[0] != "4":
        return None
    try:
        decoded = sio_packet.Packet(encoded_packet=frame[1:])
    except Exception:  # the library's decoder raises several types on garbage
        return "undecodable socket.io packet"
    kind = decoded.packet_type
    if kind in (sio_packet.CONNECT, sio_packet.DISCONNECT):
        return None
    if kind == sio_packet.EVENT:
        data = decoded.data
        if isinstance(data, list) and data and isinstance(data[0], str):
            return None
        return "event without a name"
    # ACK: the server never asks clients for one; CONNECT_ERROR is the server's to send;
    # BINARY_*: no binary in the protocol.
    return f"unexpected socket.io packet type {kind}"


def packet_guard(app: ASGIApp, max_bytes: int,
                 on_refused: Callable[[Scope, str, str], None]) -> ASGIApp:
    """Wrap the Socket.IO ASGI app; `on_refused(scope, reason, frame prefix)` reports each
    connection it closes."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope.get("method") == "POST"
                and scope["path"].startswith(ENGINEIO_PATH)):
            await _guarded_post(scope, receive, send)
            return
        if scope["type"] != "websocket":
            await app(scope, receive, send)
            return
        refused = False

        async def checked_receive() -> Message:
            nonlocal refused
            if refused:
                return {"type": "websocket.disconnect", "code": 1008}
            message = await receive()
            if message["type"] != "websocket.receive":
                return message
            frame = message.get("text")
            if frame is None:
                frame = message.get("bytes")
            reason = refusal(frame, max_bytes)
            if reason is None:
                return message
            refused = True
            on_refused(scope, reason, str(frame)[:60])
            # engineio reads this as the client going away and closes the websocket itself.
            return {"type": "websocket.disconnect", "code": 1008}

        await app(scope, checked_receive, send)

    async def _guarded_post(scope: Scope, receive: Receive, send: Send) -> None:
        body, complete = b"", False
        while not complete and len(body) <= max_bytes:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before its request was complete
            body += message.get("body", b"")
            complete = not message.get("more_body", False)
        reason = payload_refusal(body, max_bytes) if complete else "payload too large"
        if reason is not None:
            on_refused(scope, reason, body[:60].decode(errors="replace"))
            body = _CLOSE
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
        scope = {**scope, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await app(scope, replay, send)

    return guarded


def payload_refusal(body: bytes, max_bytes: int) -> str | None:
    """Why a long-polling POST body is refused, or None when each of its packets is fine."""
    if len(body) > max_bytes:
        return "payload too large"
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return "payload not UTF-8"
    for packet in text.split(_RECORD_SEPARATOR):
        reason = refusal(packet, max_bytes)
        if reason is not None:
            return reason
    return None
