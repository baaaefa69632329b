"""The processor: applies queued alerts to the state store and closes ended windows.

A message is acked only after Redis answered. While Redis is unreachable every handler waits
for one shared probe to see it back, so consumption pauses (prefetch slots stay taken) without
acks, requeues or a busy loop, and resumes by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import msgspec
import structlog

from alertflow import metrics
from alertflow.backends.ports import (
    AlertConsumer,
    NotReplicated,
    StateStore,
    StoreUnavailable,
    Verdict,
)
from alertflow.domain.alert import decode_alert

log = structlog.get_logger("alertflow.processor")


class StoreGate:
    """Shared knowledge of whether the store answers; one probe task while it does not."""

    def __init__(self, store: StateStore, max_backoff_s: float = 2.0) -> None:
        self._store = store
        self._up = asyncio.Event()
        self._up.set()
        self._probe: asyncio.Task[None] | None = None
        self._max_backoff_s = max_backoff_s
        self._kicked = asyncio.Event()

    @property
    def up(self) -> bool:
        return self._up.is_set()

    def down(self, error: str) -> None:
        if self._up.is_set():
            log.warning("state store unreachable; pausing", error=error)
            metrics.redis_connected.set(0)
        self._up.clear()
        if self._probe is None or self._probe.done():
            self._probe = asyncio.create_task(self._wait_for_store())

    def kick(self) -> None:
        """Probe now: the store has just come back elsewhere (a new master was promoted)."""
        self._kicked.set()

    async def _wait_for_store(self) -> None:
        delay = 0.05
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kicked.wait(), delay)
            if self._kicked.is_set():
                self._kicked.clear()
                delay = 0.05
            try:
                await self._store.ping()
            except Exception as exc:
                # Anything, not only StoreUnavailable: a dead probe keeps the gate shut for good.
                if not isinstance(exc, StoreUnavailable):
                    log.exception("state store probe failed")
                delay = min(delay * 2, self._max_backoff_s)
                continue
            log.info("state store reachable again; resuming")
            metrics.redis_connected.set(1)
            self._up.set()
            return

    async def wait_up(self) -> None:
        await self._up.wait()

    def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()


class Processor:
    def __init__(
        self, consumer: AlertConsumer, store: StateStore, sweep_interval_s: float = 0.1
    ) -> None:
        self._consumer = consumer
        self._store = store
        self._gate = StoreGate(store)
        self._sweep_interval_s = sweep_interval_s
        self._stopping = asyncio.Event()

    def master_changed(self) -> None:
        """Sentinel promoted a new master: retry at once instead of at the next backoff."""
        self._gate.kick()

    def readiness(self) -> dict[str, bool]:
        metrics.broker_connected.set(1 if self._consumer.ready else 0)
        return {"broker": self._consumer.ready, "redis": self._gate.up}

    async def handle(self, body: bytes, message_id: str | None) -> Verdict:
        try:
            alert = decode_alert(body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            metrics.dead_lettered.labels("undecodable").inc()
            log.error("undecodable message dead-lettered", message_id=message_id,
                      error=str(exc), body_prefix=body[:120].decode("utf-8", "replace"))
            return Verdict.DEAD
        started = time.perf_counter()
        while True:
            if not await self._store_or_stopping():
                return Verdict.RETRY  # stopping while Redis is down: another processor takes it
            try:
                outcome, events = await self._store.apply(alert, int(time.time() * 1000))
                break
            except StoreUnavailable as exc:
                if isinstance(exc, NotReplicated):
                    metrics.not_replicated.inc()
                self._gate.down(str(exc))
        metrics.process_seconds.observe(time.perf_counter() - started)
        metrics.queue_latency_seconds.observe(max(0.0, time.time() - alert.received_at / 1000))
        metrics.alerts_processed.labels(outcome).inc()
        if outcome in ("late", "superseded"):
            # Opened no live window, and is recorded all the same (an open and its close per
            # area, both late; `superseded` too when an all-clear or a Cancel had ended it).
            if outcome == "late":
                metrics.late_alerts.inc()
            metrics.alerts_not_opened.labels(outcome).inc()
            metrics.events_published.labels("open").inc(events // 2)
            metrics.events_published.labels("close").inc(events // 2)
            log.info("alert opened no live window; recorded as history", alert_id=alert.id,
                     reason=outcome, source=alert.source, category=alert.category,
                     issued_at=alert.issued_at, locations=len(alert.locations))
        elif events:
            metrics.events_published.labels("close" if outcome == "cancel" else "open").inc(
                events)
        log.debug("alert applied", alert_id=alert.id, outcome=outcome, events=events)
        return Verdict.ACK

    async def _store_or_stopping(self) -> bool:
        """Wait until the store answers (True) or the processor is stopping (False).

        The gate may open and shut again before this task runs (a master that answers the
        probe but cannot replicate: every retried alert shuts it at once), so waking is not
        an answer: only the gate seen open, or the stop, is. Returning False on a shut gate
        ended the sweeper for good in a failover test, and every window stayed open."""
        while not self._gate.up:
            if self._stopping.is_set():
                return False
            up = asyncio.ensure_future(self._gate.wait_up())
            stopping = asyncio.ensure_future(self._stopping.wait())
            await asyncio.wait({up, stopping}, return_when=asyncio.FIRST_COMPLETED)
            up.cancel()
            stopping.cancel()
        return True

    async def sweep_forever(self) -> None:
        while await self._store_or_stopping() and not self._stopping.is_set():
            try:
                result = await self._store.sweep(int(time.time() * 1000))
            except StoreUnavailable as exc:
                self._gate.down(str(exc))
                continue
            except Exception:
                # Never let one failed sweep end sweeping: every window would stay open for good
                # while alerts still flowed in (the consumer path retries such errors the same way).
                log.exception("sweep failed; retrying")
                metrics.sweep_failures.inc()
            else:
                if result.closed:
                    metrics.events_published.labels("close").inc(result.closed)
                metrics.active_incidents.set(result.still_open)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._sweep_interval_s)

    async def run(self, shutdown: asyncio.Event) -> None:
        """Consume and sweep until `shutdown`; then finish in-flight alerts, ack, and return."""
        metrics.redis_connected.set(1)
        consuming = asyncio.create_task(self._consumer.run(self.handle))
        sweeping = asyncio.create_task(self.sweep_forever())
        stop_wait = asyncio.create_task(shutdown.wait())
        done, _ = await asyncio.wait({consuming, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
        if consuming in done:
            consuming.result()  # surfaces an unexpected crash of the consumer
        log.info("processor draining")
        self._stopping.set()
        await self._consumer.stop()
        await consuming
        await sweeping
        stop_wait.cancel()
        self._gate.close()
        log.info("processor stopped")
