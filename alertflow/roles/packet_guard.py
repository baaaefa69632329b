"""An ASGI guard in front of the Socket.IO server: a websocket that sends a frame no Socket.IO
client sends is closed before python-socketio sees the frame.

python-socketio and python-engineio raise on such frames (an event without a name or with a
name that is not a string, a payload that is not JSON, a client-sent CONNECT_ERROR, binary
attachments, unknown packet types) and log a traceback for each: a hostile client could fill the
logs at will, and nothing in alertflow's protocol needs those frames. The guard hands engineio a
`websocket.disconnect` instead, so engineio closes the connection through its normal path.
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

    return guarded
