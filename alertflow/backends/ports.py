"""The capabilities the roles need, each with a RabbitMQ/Redis adapter and an in-memory one.

Both adapters of a port pass the same contract suite (tests/contract).
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from alertflow.domain.aggregation import Outcome
from alertflow.domain.alert import Alert
from alertflow.domain.history import EventFilter


class BrokerUnavailable(Exception):
    """The broker could not confirm in time, or is not connected: answer 503, enqueue nothing."""


class StoreUnavailable(Exception):
    """The state store cannot be reached right now; the caller retries later."""


class NotReplicated(StoreUnavailable):
    """Applied on the master, but not on enough replicas in time: a failover now could undo
    it, so the message must not be acknowledged (its redelivery is a harmless duplicate)."""


class Verdict(enum.Enum):
    ACK = "ack"  # done: remove from the queue
    DEAD = "dead"  # can never be processed: dead-letter it
    RETRY = "retry"  # not now: give it back to the queue (counts towards the delivery limit)


MessageHandler = Callable[[bytes, str | None], Awaitable[Verdict]]


class AlertPublisher(Protocol):
    @property
    def ready(self) -> bool: ...

    async def start(self) -> None: ...

    async def publish(self, alerts: Sequence[Alert]) -> None:
        """Return once the broker has persisted every alert; raise BrokerUnavailable otherwise."""

    async def close(self) -> None: ...


class AlertConsumer(Protocol):
    @property
    def ready(self) -> bool: ...

    async def run(self, handler: MessageHandler) -> None:
        """Deliver messages to `handler` until `stop` is called; acks follow its verdicts."""

    async def stop(self) -> None:
        """Stop taking messages, let in-flight handlers finish and settle them, then return."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    epoch: str
    seq: int
    incidents: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Sweep:
    closed: int
    still_open: int


@dataclass(frozen=True, slots=True)
class StoredEvents:
    """Events from the stream, or `covered=False` when the stream no longer reaches back."""

    epoch: str
    covered: bool
    events: list[dict[str, Any]]


class StateStore(Protocol):
    """Dedup, incidents, the event stream and the event channel: one atomic step per alert."""

    async def apply(self, alert: Alert, now_ms: int) -> tuple[Outcome, int]:
        """Apply one alert atomically; return the outcome and how many events it published."""

    async def sweep(self, now_ms: int) -> Sweep:
        """Close the incidents whose window ended by `now_ms`."""

    async def snapshot(self) -> Snapshot: ...

    async def epoch_start(self) -> Snapshot:
        """Where the current epoch began: its seq and the incidents open then. After a
        failover that rolled history back, clients resync to this and replay what follows."""

    async def events_after(self, seq: int, limit: int) -> StoredEvents:
        """Events with seq > `seq`, oldest first, at most `limit`."""

    async def recent_events(self, limit: int, where: EventFilter | None = None) -> StoredEvents:
        """The newest `limit` events (those `where` matches), oldest first."""

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class EventFeed(Protocol):
    """The live event channel: each item is one published batch (a list of events)."""

    @property
    def connected(self) -> bool: ...

    def batches(self) -> AsyncIterator[list[dict[str, Any]]]: ...

    async def close(self) -> None: ...


class RateLimiter(Protocol):
    """Per-source token buckets: `take` answers 0.0 when granted, else the seconds to wait."""

    async def take(self, source: str) -> float: ...

    async def close(self) -> None: ...
