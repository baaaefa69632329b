"""Poll a feed of the national feed's shape; each new (feed id, area) becomes one alert.

Alert ids derive from the feed's id and the area (`domain.hfc`), so the processor's dedup makes
each one exactly one alert whatever happens here: a restart, several followers, a feed that
repeats itself. This module only avoids re-sending what it already had confirmed, and keeps the
validators (ETag, Last-Modified) of a body only after its alerts were confirmed: a broker
failure makes the next poll fetch the same body again instead of a 304 that would lose it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import OrderedDict
from dataclasses import dataclass

import aiohttp
import structlog

from alertflow import metrics
from alertflow.backends.ports import AlertPublisher, BrokerUnavailable
from alertflow.domain import hfc
from alertflow.domain.alert import Alert, AlertRejected, IngestRules
from alertflow.domain.incoming import Incoming, to_alert
from alertflow.domain.locations import Catalog

log = structlog.get_logger("alertflow.follow")

MAX_BODY = 4 << 20
REMEMBERED_IDS = 100_000


@dataclass(frozen=True, slots=True)
class FollowConfig:
    url: str
    source: str = "hfc"
    interval_s: float = 1.0
    timeout_s: float = 5.0
    max_backoff_s: float = 30.0
    # Ready while the feed answered within this long (default: the larger of 10 s, 5 polls).
    stale_after_s: float | None = None


class PollFailed(Exception):
    """A poll that yielded nothing usable (network, HTTP status, not the feed's JSON, broker)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


class Follower:
    def __init__(self, config: FollowConfig, publisher: AlertPublisher, catalog: Catalog,
                 rules: IngestRules) -> None:
        self.config = config
        self.publisher = publisher
        self.catalog = catalog
        self.rules = rules
        self._etag: str | None = None
        self._last_modified: str | None = None
        self._published: OrderedDict[str, None] = OrderedDict()
        self._answered_at: float | None = None  # monotonic time of the feed's last answer
        self.failures = 0

    # --- readiness -------------------------------------------------------------------------
    @property
    def stale_after_s(self) -> float:
        return self.config.stale_after_s or max(10.0, 5 * self.config.interval_s)

    def lag_s(self) -> float | None:
        return None if self._answered_at is None else time.monotonic() - self._answered_at

    def readiness(self) -> dict[str, bool]:
        lag = self.lag_s()
        if lag is not None:
            metrics.follow_lag_seconds.set(lag)
        metrics.broker_connected.set(1 if self.publisher.ready else 0)
        return {"broker": self.publisher.ready,
                "feed": lag is not None and lag <= self.stale_after_s}

    # --- one poll --------------------------------------------------------------------------
    async def _fetch(self, session: aiohttp.ClientSession) -> tuple[int, bytes, dict[str, str]]:
        headers = {"Accept": "application/json"}
        if self._etag:
            headers["If-None-Match"] = self._etag
        if self._last_modified:
            headers["If-Modified-Since"] = self._last_modified
        try:
            async with session.get(self.config.url, headers=headers,
                                   timeout=aiohttp.ClientTimeout(total=self.config.timeout_s),
                                   allow_redirects=True) as response:
                if response.status == 304:
                    return 304, b"", {}
                if response.status != 200:
                    raise PollFailed("http_status", f"HTTP {response.status}")
                body = await response.content.read(MAX_BODY + 1)
                if len(body) > MAX_BODY:
                    raise PollFailed("too_large", f"body over {MAX_BODY} bytes")
                validators = {name: response.headers[name]
                              for name in ("ETag", "Last-Modified") if name in response.headers}
                return 200, body, validators
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise PollFailed("unreachable", f"{type(exc).__name__}: {exc}") from None

    def _current(self, incoming: list[Incoming], now_ms: int) -> list[Alert]:
        """The entries not sent yet and still meaningful, as alerts; bad entries are skipped."""
        alerts = []
        fresh = []
        for entry in incoming:
            if entry.id in self._published:
                continue
            # History lists the whole day: what ended long ago is history, not an alert.
            horizon = max(entry.duration_s, hfc.DEFAULT_DURATION_S) * 1000
            if entry.issued_at + horizon < now_ms:
                continue
            fresh.append(entry)
            try:
                alerts.append(to_alert(entry, source=self.config.source, now_ms=now_ms,
                                       catalog=self.catalog, rules=self.rules))
            except AlertRejected as rejected:
                metrics.follow_errors.labels("invalid_entry").inc()
                log.warning("feed entry refused", field=rejected.field, reason=rejected.reason,
                            id=entry.id)
        # Only what is new here: a title is counted once per document that brings it, not at
        # every poll that sees it again.
        metrics.count_unknown_titles(hfc.unknown_titles(fresh), source=self.config.source,
                                     via="follow")
        return alerts

    async def poll(self, session: aiohttp.ClientSession) -> int:
        """One poll: the number of alerts enqueued; raises PollFailed when it yielded nothing."""
        status, body, validators = await self._fetch(session)
        self._answered_at = time.monotonic()
        if status == 304:
            metrics.follow_polls.labels("not_modified").inc()
            return 0
        now_ms = int(time.time() * 1000)
        try:
            incoming = hfc.parse(body, now_ms)
        except AlertRejected as rejected:
            raise PollFailed("not_the_feed", f"{rejected.field}: {rejected.reason}") from None
        alerts = self._current(incoming, now_ms)
        if alerts:
            try:
                await self.publisher.publish(alerts)
            except BrokerUnavailable as exc:
                raise PollFailed("broker", str(exc)) from None
            metrics.follow_alerts.inc(len(alerts))
            for alert in alerts:
                self._published[alert.id] = None
            while len(self._published) > REMEMBERED_IDS:
                self._published.popitem(last=False)
            log.info("feed alerts enqueued", count=len(alerts),
                     ids=[alert.id for alert in alerts[:20]])
        self._etag = validators.get("ETag")
        self._last_modified = validators.get("Last-Modified")
        metrics.follow_polls.labels("changed" if body.strip() else "empty").inc()
        return len(alerts)

    # --- the loop --------------------------------------------------------------------------
    def next_delay(self) -> float:
        if not self.failures:
            return self.config.interval_s
        backoff = min(self.config.max_backoff_s,
                      self.config.interval_s * 2.0 ** min(self.failures, 16))
        return backoff * random.uniform(0.8, 1.0)  # followers that failed together spread out

    async def run(self, shutdown: asyncio.Event) -> None:
        async with aiohttp.ClientSession(headers={"User-Agent": "alertflow-follow"}) as session:
            while not shutdown.is_set():
                started = time.monotonic()
                try:
                    await self.poll(session)
                    self.failures = 0
                except PollFailed as failed:
                    self.failures += 1
                    metrics.follow_polls.labels("error").inc()
                    metrics.follow_errors.labels(failed.reason).inc()
                    log.warning("poll failed", url=self.config.url, error=str(failed),
                                failures=self.failures)
                self.readiness()
                delay = max(0.0, self.next_delay() - (time.monotonic() - started))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(shutdown.wait(), delay)
