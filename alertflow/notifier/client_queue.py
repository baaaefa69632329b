"""Each client's packet queue in python-engineio, and the short hold of long-polling answers.

engineio makes each client's queue with its server's public `create_queue`; the notifier
points it at `WriterQueue`. Two things are added to asyncio's queue:

- `waiting`: whether the websocket writer is waiting on it, so the fan-out can write a batch
  straight to an idle websocket without overtaking what is queued (direct_send.py).
- The hold. A long-polling client gets its packets as the answer to an HTTP GET: engineio's
  `poll` waits for the first queued packet, then takes whatever else is queued, and the client
  asks again. At 10 batches a second each polling client costs 10 whole HTTP requests a second
  through Hypercorn and engineio (≈0.4 ms of notifier CPU each, on the core the websocket
  fan-out needs: docs/benchmarks.md). So when the first packet of a poll's answer is a batch of
  alerts, the answer waits up to `poll_hold_s` for later batches to join it: one request
  carries several batches, at the cost of at most that much latency for polling clients.

The hold applies only where it helps and never where it would cost:
- Only to a GET answering a long-poll (`answering_poll`, set by `marking_polls` around
  engineio's ASGI app). A websocket's writer reads the same queue from its own task, where the
  mark is never set, so websocket clients (direct writes or queued) are never held.
- Only while everything queued is a batch (`BatchPacket`). Anything else queued — the
  handshake's and namespace's answers, snapshots and acknowledgements, pings, the upgrade's
  noop that ends the last poll, a close, the end marker of a dropped client — answers the poll
  at once, with the batches before it, so connecting and upgrading are never slowed.
- Nothing is taken from the queue while holding: a poll cancelled during its hold (timeout,
  client gone) leaves every packet queued, as without the hold.
"""

from __future__ import annotations

import asyncio
import random
from contextvars import ContextVar
from typing import Any

from engineio import packet as engineio_packet

from alertflow.notifier.packet_guard import ASGIApp, Receive, Scope, Send

# A held answer goes out once this many packets wait, far below the notifier's per-client
# backlog bound (--max-client-backlog, 256 by default), which drops a client that reaches it.
HOLD_MAX_PACKETS = 64

# Each hold lasts a random fraction of poll_hold_s in this range. The fan-out queues a batch for
# every polling client at once, so equal holds would end together: hundreds of answers (and the
# next polls) in one turn of the event loop, with the next batch for websocket clients waiting
# behind them (docs/benchmarks.md). Spread out, they interleave with the fan-out.
HOLD_SPREAD = (0.5, 1.0)

# True in the task serving an HTTP GET through engineio (a long-poll, or the handshake).
answering_poll: ContextVar[bool] = ContextVar("answering_poll", default=False)


class BatchPacket(engineio_packet.Packet):  # type: ignore[misc]
    """A packet of events from the feed (fanout.py, legacy.py): a long-poll answer may wait a
    little for the next ones to join it."""


def marking_polls(app: ASGIApp) -> ASGIApp:
    """Wrap engineio's ASGI app: mark the tasks serving HTTP GETs as answering a long-poll."""

    async def marked(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET":
            await app(scope, receive, send)
            return
        token = answering_poll.set(True)
        try:
            await app(scope, receive, send)
        finally:
            answering_poll.reset(token)

    return marked


class WriterQueue(asyncio.Queue[Any]):
    """An engineio client queue that knows whether its reader is waiting for a packet, and
    holds a long-poll's answer briefly while only batches are queued (module docstring)."""

    def __init__(self, maxsize: int = 0, poll_hold_s: float = 0.0) -> None:
        super().__init__(maxsize)
        self.waiting = 0
        self.poll_hold_s = poll_hold_s
        self.urgent = 0  # queued packets that are not batches: they end a hold
        self._arrived: asyncio.Event | None = None  # made by the first held poll only
        self._hold_ends_at = 0.0  # loop time when the hold of the queued batches ends

    async def get(self) -> Any:
        if self.poll_hold_s > 0 and answering_poll.get():
            await self._gather_batches()
        self.waiting += 1
        try:
            return await super().get()
        finally:
            self.waiting -= 1

    # asyncio's put() and get() go through these two, so every packet is counted.
    def put_nowait(self, item: Any) -> None:
        super().put_nowait(item)
        if not isinstance(item, BatchPacket):
            self.urgent += 1
        elif self.poll_hold_s > 0 and self.qsize() == 1:
            # The hold counts from the first batch's arrival, not from the poll that finds it
            # (the client's next GET may come later): no batch waits longer than the hold.
            self._hold_ends_at = (asyncio.get_running_loop().time()
                                  + self.poll_hold_s * random.uniform(*HOLD_SPREAD))
        if self._arrived is not None:
            self._arrived.set()

    def get_nowait(self) -> Any:
        item = super().get_nowait()
        if not isinstance(item, BatchPacket):
            self.urgent -= 1
        return item

    async def _gather_batches(self) -> None:
        """Return once something is queued and either it is not only batches or the hold is
        over. Takes nothing from the queue (a cancelled poll loses nothing)."""
        arrived = self._arrived = self._arrived or asyncio.Event()
        while self.empty():
            arrived.clear()
            await arrived.wait()
        loop = asyncio.get_running_loop()
        deadline = self._hold_ends_at
        if self._answer_now() or deadline <= loop.time():
            return
        # The end of the hold wakes the poll as a new packet does: a timer, not a timeout, so
        # the usual end of a hold raises nothing (an exception per poll is CPU and garbage).
        expired = False

        def expire() -> None:
            nonlocal expired
            expired = True
            arrived.set()

        timer = loop.call_at(deadline, expire)
        try:
            while not self._answer_now() and not expired:
                arrived.clear()
                await arrived.wait()
        finally:
            timer.cancel()

    def _answer_now(self) -> bool:
        # Something that is not a batch is queued, or enough packets that holding on could
        # reach the notifier's per-client backlog bound (legacy clients get one packet per
        # event: one large batch is many packets).
        return self.urgent > 0 or self.qsize() >= HOLD_MAX_PACKETS
