"""Refuse permessage-deflate on the notifier's websockets, and only there.

Hypercorn accepts permessage-deflate from every client that offers it (browsers and
socket.io-client all do) and has no setting to refuse it. Compressing each small event once per
client cost the notifier a third of its CPU and tripled its memory per connection
(docs/benchmarks.md), for a few hundred bytes saved per event.

Hypercorn negotiates extensions when the app sends `websocket.accept`, from the handshake object
of the connection's stream (`send` is that stream's bound method). This middleware clears the
offer on that one object before the accept: other apps in the process keep Hypercorn's default,
and tests/unit/test_handshake.py fails if Hypercorn moves the object.
"""

from __future__ import annotations

import structlog

from alertflow.notifier.packet_guard import ASGIApp, Receive, Scope, Send
from alertflow.notifier.versions import shortcuts_allowed

log = structlog.get_logger("alertflow.notifier")


def decline_extensions(send: Send) -> bool:
    """Clear the extensions the client offered on Hypercorn's handshake; False if not found.

    Hypercorn 0.18: `send` is WSStream.app_send; the stream's `handshake` holds the offer.
    """
    handshake = getattr(getattr(send, "__self__", None), "handshake", None)
    if handshake is None or not hasattr(handshake, "extensions"):
        return False
    handshake.extensions = None
    return True


def without_compression(app: ASGIApp) -> ASGIApp:
    warned = False

    async def declining(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal warned
        if (scope["type"] == "websocket" and shortcuts_allowed()
                and not decline_extensions(send) and not warned):
            warned = True
            log.warning("cannot refuse websocket compression with this Hypercorn")
        await app(scope, receive, send)

    return declining
