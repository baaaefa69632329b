"""Closed connections freed at once, not by the garbage collector.

Hypercorn's connection object (TCPServer) holds its protocol, whose `send` is a method of that
same TCPServer: a reference cycle. So every closed connection, with its streams, h11 state,
task group and transport (~50 objects), waited for the cyclic garbage collector. Node's
socket.io-client opens a connection per long-poll: hundreds a second filled the notifier's young
generation every few seconds, and each collection stopped the event loop, and every websocket
delivery with it, for up to 180 ms, older ones up to 390 (docs/benchmarks.md, "Garbage per
long-poll"). Dropping the protocol once the connection has ended breaks the cycle, so reference
counting frees the rest.

Installed only with the locked Hypercorn (alertflow.pinned), like the notifier's other reaches
into it; tests/unit/test_no_garbage_cycles.py fails if a Hypercorn upgrade brings the cycle back.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import structlog
from hypercorn.asyncio.tcp_server import TCPServer

from alertflow.pinned import unlocked

log = structlog.get_logger("alertflow.http")

_Run = Callable[[TCPServer], Coroutine[Any, Any, None]]


def free_closed_connections() -> None:
    """Patch Hypercorn's TCPServer.run (once per process) to drop its protocol at the end."""
    run: _Run = TCPServer.run
    if getattr(run, "drops_protocol", False):
        return
    differences = unlocked("hypercorn")
    if differences:
        log.warning("untested Hypercorn: closed connections are left to the garbage collector",
                    reason="; ".join(differences))
        return

    async def run_then_drop_protocol(server: TCPServer) -> None:
        try:
            await run(server)
        finally:
            # run() returns after its task group, so nothing of the connection runs any more
            # but an idle timeout's shielded close, which took the protocol in its first step.
            vars(server).pop("protocol", None)

    run_then_drop_protocol.drops_protocol = True  # type: ignore[attr-defined]
    TCPServer.run = run_then_drop_protocol  # type: ignore[method-assign,assignment]
