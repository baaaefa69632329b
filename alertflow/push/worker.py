"""The push role's loop: read the event stream as a consumer group, push to matching phones.

- Each stream entry goes to one consumer of the group (replicas share the work) and is
  acknowledged only after every push it caused was sent or failed for good. The entries of a
  consumer that died (silent for `reclaim_idle_s`) are taken over by another, all at once:
  at least once across crashes.
- Before sending, each (subscription, incident, notice) is claimed in Redis (lua/claim.lua),
  and marked done once sent: a subscriber never hears the same notice twice, whichever replica
  handled which entry. Only a push in flight when its sender crashed can go out again; it then
  carries the same RFC 8030 `Topic`, so the push service replaces the first copy if undelivered,
  and the same notification `tag`, so the phone shows it once.
- What one read brings is grouped per subscriber: a barrage that opens many of their areas at
  once is one notification.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
import redis.asyncio as aioredis
import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from alertflow.domain.push import PushSubscription
from alertflow.domain.push_messages import Message, Notice, build_message, claim_suffix, phase
from alertflow.push import metrics
from alertflow.push.sender import GONE, SENT
from alertflow.push.store import PushStore

log = structlog.get_logger("alertflow.push")
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)
_decode = msgspec.json.Decoder(dict[str, Any]).decode
Entry = tuple[bytes, dict[bytes, bytes]]
Send = Callable[[PushSubscription, Message], Awaitable[str]]


@dataclass(slots=True)
class WorkerConfig:
    group: str = "push"
    consumer: str = "push"
    batch: int = 500  # stream entries per read
    coalesce_ms: int = 150  # after a first entry, wait this long for the rest of a barrage
    reclaim_idle_s: float = 30.0  # an entry unacknowledged and silent this long is taken over
    workers: int = 256  # pushes prepared and sent at once


@dataclass(slots=True)
class _Job:
    sub: PushSubscription
    message: Message


class PushWorker:
    def __init__(self, client: aioredis.Redis, store: PushStore, send: Send, prefix: str,
                 config: WorkerConfig) -> None:
        self._redis = client
        self._store = store
        self._send = send
        self._stream = "{" + prefix + "}:stream"
        self._config = config
        self._connected = False
        self._last_reclaim = 0.0

    def readiness(self) -> dict[str, bool]:
        return {"redis": self._connected}

    async def _ensure_group(self) -> None:
        try:
            # `$`: a new deployment pushes what happens from now on, not the stream's history.
            await self._redis.xgroup_create(self._stream, self._config.group, id="$",
                                            mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def run(self, shutdown: asyncio.Event) -> None:
        delay = 0.1
        held: tuple[list[Entry], bool] | None = None
        while not shutdown.is_set():
            try:
                if not self._connected:
                    await self._ensure_group()
                    self._connected = True
                    delay = 0.1
                if held is None:
                    held = await self._next(shutdown)
                entries, takeover = held
                if entries:
                    await self._handle_with_heartbeat(entries, takeover)
                    await self._redis.xack(self._stream, self._config.group,
                                           *[entry_id for entry_id, _ in entries])
                held = None
            except UNAVAILABLE as exc:
                # Keep what was read: this consumer still owns those entries, and the claims
                # it made are its own, so handling them again resends only what was not done.
                if self._connected:
                    log.warning("push role lost Redis", error=str(exc))
                self._connected = False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(shutdown.wait(), delay)
                delay = min(delay * 2, 2.0)

    async def _next(self, shutdown: asyncio.Event) -> tuple[list[Entry], bool]:
        now = time.monotonic()
        if now - self._last_reclaim > self._config.reclaim_idle_s / 2:
            self._last_reclaim = now
            await self._refresh_gauges()
            taken = await self.take_over_stopped_consumer()
            if taken:
                return taken, True
        entries = await self._read(block_ms=1000)
        if entries and len(entries) < self._config.batch and self._config.coalesce_ms:
            # A barrage arrives as many stream entries over a few dozen milliseconds: wait
            # briefly for the rest, so each phone gets one notification for it.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(shutdown.wait(), self._config.coalesce_ms / 1000)
            entries += await self._read(block_ms=None,
                                        count=self._config.batch - len(entries))
        return entries, False

    async def take_over_stopped_consumer(self) -> list[Entry]:
        """Every pending entry of one consumer that stopped, in one batch.

        A consumer handles one batch at a time, so what it left pending is the batch it was
        sending. Handled again as one batch, each phone's notices group into the same message
        with the same `Topic` as the first time, which the push service lets replace a copy
        it still holds. Taken entry by entry as they pass an idle time (XAUTOCLAIM), the
        batch would split (its entries were read up to `coalesce_ms` apart) and regroup into
        other messages: a second notification for the same alerts.
        """
        idle_ms = int(self._config.reclaim_idle_s * 1000)
        consumers: Any = await self._redis.xinfo_consumers(self._stream, self._config.group)
        for consumer in consumers:
            name = consumer["name"]
            name = name.decode() if isinstance(name, bytes) else str(name)
            if name == self._config.consumer or int(consumer["idle"]) < idle_ms:
                continue
            if not int(consumer["pending"]):
                # A stopped consumer with nothing left: forget it, or every pod that ever ran
                # stays in the group (a live one idle this long would simply come back).
                await self._redis.xgroup_delconsumer(self._stream, self._config.group, name)
                continue
            pending: Any = await self._redis.xpending_range(
                self._stream, self._config.group, min="-", max="+",
                count=4 * self._config.batch, consumername=name)
            ids = [entry["message_id"] for entry in pending]
            # Half the idle time: the stopped consumer's entries are all older than that, and
            # any that another replica has just taken over are not (no one takes them twice).
            reply: Any = await self._redis.xclaim(
                self._stream, self._config.group, self._config.consumer, idle_ms // 2, ids)
            taken = [(i, f) for i, f in reply if f]
            if taken:
                log.info("took over entries of a stopped consumer", consumer=name,
                         entries=len(taken))
                return taken
        return []

    async def _read(self, block_ms: int | None, count: int | None = None) -> list[Entry]:
        reply: Any = await self._redis.xreadgroup(
            self._config.group, self._config.consumer, {self._stream: ">"},
            count=count or self._config.batch, block=block_ms)
        if not reply:
            return []
        return [(i, f) for i, f in reply[0][1] if f]

    async def _refresh_gauges(self) -> None:
        with contextlib.suppress(ResponseError):
            groups: Any = await self._redis.xinfo_groups(self._stream)
            for group in groups:
                if group["name"].decode() == self._config.group:
                    metrics.pending.set(int(group["pending"]))
                    metrics.stream_lag.set(int(group.get("lag") or 0))

    async def _handle_with_heartbeat(self, entries: list[Entry], takeover: bool) -> None:
        ids: list[Any] = [entry_id for entry_id, _ in entries]

        async def heartbeat() -> None:
            # Resets the entries' idle time, so a long send (retries, a slow push service)
            # is not mistaken for a crash and taken over by another replica.
            while True:
                await asyncio.sleep(self._config.reclaim_idle_s / 3)
                with contextlib.suppress(*UNAVAILABLE):
                    await self._redis.xclaim(self._stream, self._config.group,
                                             self._config.consumer, 0, ids, justid=True)

        beat = asyncio.create_task(heartbeat())
        try:
            await self.handle(entries, takeover)
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat

    async def handle(self, entries: list[Entry], takeover: bool) -> None:
        latest: dict[str, Notice] = {}
        for _, fields in entries:
            event = _decode(fields[b"e"])
            notice = phase(event)
            metrics.events_handled.labels(notice=notice or "none").inc()
            claim = claim_suffix(event)
            if claim is None or notice is None:
                continue
            previous = latest.get(claim)
            # One incident opened and extended within the batch: tell its latest state.
            if previous is None or int(event.get("seq") or 0) > int(
                    previous.event.get("seq") or 0):
                latest[claim] = Notice(claim, notice, event)
        if not latest:
            return
        notices = list(latest.values())
        subs = await self._store.matching(
            {str(n.event.get("location")) for n in notices},
            {str(n.event["zone"]) for n in notices if n.event.get("zone")})
        wanted = [(sub, [n for n in notices if sub.wants(n.event)]) for sub in subs]
        wanted = [(sub, mine) for sub, mine in wanted if mine]
        granted = await self._store.claim([(sub.id, [n.claim for n in mine])
                                           for sub, mine in wanted],
                                          self._config.consumer, takeover)
        now_ms = int(time.time() * 1000)
        jobs: list[_Job] = []
        nothing: list[tuple[str, tuple[str, ...]]] = []
        for (sub, mine), claims in zip(wanted, granted, strict=True):
            if not claims:
                continue
            message = build_message([n for n in mine if n.claim in claims], sub.lang, now_ms)
            if message is None:  # every window already over: nothing to wake them for
                nothing.append((sub.id, tuple(claims)))
            else:
                jobs.append(_Job(sub, message))
        if nothing:
            await self._store.finish(nothing)
        received = [int(n.event["received_at"]) for n in notices if n.event.get("received_at")]
        await self._run_jobs(jobs, min(received) / 1000 if received else None)

    async def _run_jobs(self, jobs: list[_Job], received_at: float | None) -> None:
        queue = iter(jobs)
        settled: list[tuple[str, tuple[str, ...]]] = []
        flushing: asyncio.Task[None] | None = None

        async def flush() -> None:
            # Marks go out as soon as pushes settle, batched by what settles during one Redis
            # round trip: if this process dies, only pushes in flight can be sent again.
            while settled:
                batch = settled[:]
                settled.clear()
                await self._store.finish(batch)

        async def work() -> None:
            nonlocal flushing
            for job in queue:
                outcome = await self._send(job.sub, job.message)
                if outcome == SENT:
                    metrics.sent.inc()
                    if received_at is not None:
                        metrics.lag_seconds.observe(max(0.0, time.time() - received_at))
                elif outcome == GONE and await self._store.delete(job.sub.id):
                    metrics.subscriptions_deleted.labels(reason="gone").inc()
                # Sent, gone, refused or out of time: this notice is settled for them.
                settled.append((job.sub.id, job.message.claims))
                if flushing is None or flushing.done():
                    if flushing is not None:
                        flushing.result()  # a failed flush fails the batch (Redis is gone)
                    flushing = asyncio.create_task(flush())

        await asyncio.gather(*(work() for _ in range(min(self._config.workers, len(jobs)))))
        if flushing is not None:
            await flushing
        await flush()
