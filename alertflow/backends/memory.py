"""In-memory adapters for `alertflow dev` and tests: same contracts, no RabbitMQ or Redis.

Everything lives in one process and one event loop, so a step is atomic by construction.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from alertflow.backends.ports import MessageHandler, Snapshot, StoredEvents, Sweep, Verdict
from alertflow.domain.aggregation import AggregationState, Outcome
from alertflow.domain.alert import Alert, encode_alert
from alertflow.domain.history import EventFilter
from alertflow.domain.locations import Catalog
from alertflow.settings import DEFAULT_SETTINGS


@dataclass(slots=True)
class _Message:
    body: bytes
    message_id: str | None
    deliveries: int = 0


class MemoryQueue:
    """A queue with manual acks, redelivery, a delivery limit and a dead-letter list."""

    def __init__(
        self,
        delivery_limit: int = DEFAULT_SETTINGS.delivery_limit,
        prefetch: int = DEFAULT_SETTINGS.prefetch,
    ) -> None:
        self._delivery_limit = delivery_limit
        self._prefetch = prefetch
        self._ready_messages: asyncio.Queue[_Message] = asyncio.Queue()
        self.dead: list[bytes] = []
        self._stopping = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()

    # -- publisher side
    @property
    def ready(self) -> bool:
        return True

    async def start(self) -> None:
        return None

    async def publish(self, alerts: Sequence[Alert]) -> None:
        for alert in alerts:
            self.publish_raw(encode_alert(alert), alert.id)

    def publish_raw(self, body: bytes, message_id: str | None = None) -> None:
        self._ready_messages.put_nowait(_Message(body, message_id))

    def depth(self) -> int:
        return self._ready_messages.qsize() + len(self._in_flight)

    async def close(self) -> None:
        return None

    # -- consumer side
    async def run(self, handler: MessageHandler) -> None:
        slots = asyncio.Semaphore(self._prefetch)
        while not self._stopping.is_set():
            await slots.acquire()
            getter = asyncio.ensure_future(self._ready_messages.get())
            stopper = asyncio.ensure_future(self._stopping.wait())
            await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if not getter.done():
                getter.cancel()
                slots.release()
                break
            task = asyncio.create_task(self._deliver(getter.result(), handler, slots))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def _deliver(
        self, message: _Message, handler: MessageHandler, slots: asyncio.Semaphore
    ) -> None:
        message.deliveries += 1
        try:
            verdict = await handler(message.body, message.message_id)
        except Exception:
            verdict = Verdict.RETRY
        finally:
            slots.release()
        if verdict is Verdict.DEAD or (
            verdict is Verdict.RETRY and message.deliveries > self._delivery_limit
        ):
            self.dead.append(message.body)
        elif verdict is Verdict.RETRY:
            self._ready_messages.put_nowait(message)

    async def stop(self) -> None:
        self._stopping.set()


_event_decoder = msgspec.json.Decoder(dict[str, Any])


class MemoryStateStore:
    """The aggregation rules over in-process state, with a bounded stream and subscribers."""

    def __init__(
        self,
        catalog: Catalog,
        stream_maxlen: int = DEFAULT_SETTINGS.stream_maxlen,
        dedup_ttl_s: int = DEFAULT_SETTINGS.dedup_ttl_s,
    ) -> None:
        self._catalog = catalog
        self._state = AggregationState()
        self._stream: deque[dict[str, Any]] = deque(maxlen=stream_maxlen)
        self._subscribers: set[asyncio.Queue[list[dict[str, Any]]]] = set()
        self._seen_at: deque[tuple[float, str]] = deque()
        self._superseded_at: deque[tuple[float, str]] = deque()
        self._superseded_last: dict[str, float] = {}
        self._dedup_ttl_s = dedup_ttl_s
        self.epoch = uuid.uuid4().hex

    def _publish(self, events: list[dict[str, Any]]) -> None:
        if not events:
            return
        self._stream.extend(events)
        for queue in self._subscribers:
            queue.put_nowait(events)

    def _forget_old_ids(self) -> None:
        # Dedup claims expire like Redis keys with a TTL, so memory stays bounded.
        # So do superseded groups (an alert of one arriving later than that is not expected).
        horizon = time.monotonic() - self._dedup_ttl_s
        while self._seen_at and self._seen_at[0][0] < horizon:
            self._state.seen.discard(self._seen_at.popleft()[1])
        while self._superseded_at and self._superseded_at[0][0] < horizon:
            at, group = self._superseded_at.popleft()
            if self._superseded_last.get(group) == at:  # superseded again since: kept longer
                del self._superseded_last[group]
                self._state.superseded_groups.discard(group)

    async def apply(self, alert: Alert, now_ms: int) -> tuple[Outcome, int]:
        self._forget_old_ids()
        outcome, events = self._state.apply(alert, now_ms, self._catalog)
        if outcome != "duplicate":
            now = time.monotonic()
            self._seen_at.append((now, alert.id))
            for group in alert.supersedes:
                self._superseded_at.append((now, group))
                self._superseded_last[group] = now
        self._publish([msgspec.to_builtins(event) for event in events])
        return outcome, len(events)

    async def sweep(self, now_ms: int) -> Sweep:
        events = self._state.sweep(now_ms)
        self._publish([msgspec.to_builtins(event) for event in events])
        return Sweep(len(events), len(self._state.incidents))

    async def snapshot(self) -> Snapshot:
        return Snapshot(
            epoch=self.epoch,
            seq=self._state.last_seq,
            incidents=[msgspec.to_builtins(view) for view in self._state.snapshot()],
        )

    async def epoch_start(self) -> Snapshot:
        """In one process history is never rolled back: the epoch never changes."""
        return await self.snapshot()

    async def events_after(self, seq: int, limit: int) -> StoredEvents:
        oldest = self._stream[0]["seq"] if self._stream else self._state.last_seq + 1
        if not oldest - 1 <= seq <= self._state.last_seq:
            return StoredEvents(self.epoch, False, [])
        events = [event for event in self._stream if event["seq"] > seq][:limit]
        return StoredEvents(self.epoch, True, events)

    async def recent_events(self, limit: int, where: EventFilter | None = None) -> StoredEvents:
        found: list[dict[str, Any]] = []
        for event in reversed(self._stream):
            if len(found) >= limit or (where and where.passed(event)):
                break
            if where is None or where.matches(event):
                found.append(event)
        return StoredEvents(self.epoch, True, found[::-1])

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def feed(self) -> MemoryEventFeed:
        return MemoryEventFeed(self)


class MemoryEventFeed:
    def __init__(self, store: MemoryStateStore) -> None:
        self._queue: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
        self._store = store
        store._subscribers.add(self._queue)

    @property
    def connected(self) -> bool:
        return True

    async def batches(self) -> AsyncIterator[list[dict[str, Any]]]:
        yield []  # subscribed: the same cue the Redis feed gives
        while True:
            batch = list(await self._queue.get())
            while not self._queue.empty() and len(batch) < 1000:  # coalesce what waits
                batch += self._queue.get_nowait()
            yield batch

    async def close(self) -> None:
        self._store._subscribers.discard(self._queue)
