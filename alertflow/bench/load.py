"""Traffic: alerts over real locations from the bundled catalog, posted open- or closed-loop."""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import msgspec

from alertflow.catalog import load_catalog

_encode = msgspec.json.Encoder().encode


async def _stamp_headers_sent(_session: aiohttp.ClientSession, context: Any,
                              _params: aiohttp.TraceRequestHeadersSentParams) -> None:
    context.trace_request_ctx["sent"] = time.time()


@dataclass(frozen=True, slots=True)
class Prepared:
    """One request ready to post, and the alert ids the listener will give its alerts."""

    path: str
    body: bytes
    content_type: str
    ids: tuple[str, ...]


class AlertFactory:
    """Alert bodies with ids unique to this run (`bench-<run>-<n>`) over real areas.

    Feed documents and CAP messages get their ids from the listener (derived from the feed's
    id and area, or the message's sender and identifier); the factory derives the same ids with
    the listener's own functions, so the swarm can tell this run's events apart.
    """

    def __init__(self, alert_type: str, window_s: int, seed: int) -> None:
        self.run_id = secrets.token_hex(4)
        self.prefix = f"bench-{self.run_id}-"
        self._type = alert_type
        self._window_s = window_s
        self._rng = random.Random(seed)
        catalog = load_catalog()
        self.locations = sorted(catalog.areas)
        self._points = {area.id: (area.lat, area.lng) for area in catalog.areas.values()}
        self._count = 0
        self._derived: set[str] = set()
        self._alone: list[str] = []

    def nationwide(self) -> dict[str, Any]:
        """An alert for the whole country, as the national feed names it."""
        return self.alert(NATIONWIDE)

    def is_ours(self, alert_id: str) -> bool:
        return alert_id.startswith(self.prefix) or alert_id in self._derived

    def json_request(self, size: int) -> Prepared:
        alerts = [self.alert() for _ in range(size)]
        return Prepared("/v1/alerts", _encode(alerts if size > 1 else alerts[0]),
                        "application/json", tuple(alert["id"] for alert in alerts))

    def feed_request(self, size: int) -> Prepared:
        """A realtime `Alerts.json` document of `size` areas (UTF-8 with a BOM, as served)."""
        from alertflow.domain.hfc import alert_id

        self._count += 1
        feed_id = f"bench{self.run_id}x{self._count}"
        areas = self.distinct_locations(size)
        document = {"id": feed_id, "cat": "1", "title": "ירי רקטות וטילים", "data": areas,
                    "desc": "היכנסו למרחב המוגן ושהו בו 10 דקות"}
        ids = tuple(alert_id(feed_id, area) for area in areas)
        self._derived.update(ids)
        return Prepared("/v1/feeds/hfc", b"\xef\xbb\xbf" + _encode(document),
                        "application/json", ids)

    def _box(self, area: str, d: float = 0.0005) -> str:
        lat, lng = self._points[area]
        return " ".join(f"{la:.5f},{lo:.5f}" for la, lo in (
            (lat - d, lng - d), (lat + d, lng - d), (lat + d, lng + d), (lat - d, lng + d),
            (lat - d, lng - d)))

    def cap_request(self) -> Prepared:
        """A CAP 1.2 Alert with one info and a small polygon around one area's point."""
        from alertflow.domain.cap import alert_id

        if not self._alone:
            # Areas whose small box holds no other area: one CAP message, one alert.
            from alertflow.domain.geo import AreaIndex

            index = AreaIndex.of(load_catalog())
            self._alone = [area for area in self.locations
                           if index.in_polygon(self._box(area)) == [area]]
        self._count += 1
        identifier = f"{self.prefix}{self._count}"
        ring = self._box(self._rng.choice(self._alone))
        now = datetime.now(UTC).replace(microsecond=0)
        sent = now.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        expires = datetime.fromtimestamp(now.timestamp() + self._window_s, UTC).strftime(
            "%Y-%m-%dT%H:%M:%S+00:00")
        body = _CAP.format(identifier=identifier, sent=sent, expires=expires, ring=ring)
        ids = (alert_id("bench@alertflow", identifier, 1),)
        self._derived.update(ids)
        return Prepared("/v1/cap", body.encode(), "application/cap+xml", ids)

    def distinct_locations(self, count: int) -> list[str]:
        """`count` different areas (cycling through the catalog when it has fewer)."""
        chosen = self._rng.sample(self.locations, min(count, len(self.locations)))
        while len(chosen) < count:
            chosen += self._rng.sample(self.locations, min(count - len(chosen),
                                                           len(self.locations)))
        return chosen

    def alert(self, location: str | None = None, window_s: int | None = None) -> dict[str, Any]:
        self._count += 1
        return {
            "id": f"{self.prefix}{self._count}",
            "type": self._type,
            "locations": [location or self._rng.choice(self.locations)],
            "issued_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "duration_s": window_s or self._window_s,
        }


NATIONWIDE = "ברחבי הארץ"

_CAP = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>bench@alertflow</sender>
  <sent>{sent}</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>he-IL</language>
    <category>Safety</category>
    <event>ירי רקטות וטילים</event>
    <urgency>Immediate</urgency>
    <severity>Extreme</severity>
    <certainty>Observed</certainty>
    <onset>{sent}</onset>
    <expires>{expires}</expires>
    <headline>ירי רקטות וטילים</headline>
    <instruction>היכנסו למרחב המוגן</instruction>
    <area>
      <areaDesc>bench</areaDesc>
      <polygon>{ring}</polygon>
    </area>
  </info>
</alert>
"""


@dataclass
class Posted:
    """What the listener answered: accepted ids, statuses, send times (epoch seconds)."""

    sent_at: dict[str, float] = field(default_factory=dict)
    accepted: set[str] = field(default_factory=set)
    statuses: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    first_sent: float = 0.0
    last_answer: float = 0.0
    answer_ms: list[float] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status != "202")

    def summary(self) -> dict[str, Any]:
        return {"requests": self.requests, "alerts_sent": len(self.sent_at),
                "alerts_accepted": len(self.accepted), "errors": self.errors,
                "statuses": dict(sorted(self.statuses.items()))}


class Poster:
    """Posts alert requests to a listener over a pool of keep-alive connections."""

    def __init__(self, listener_url: str, token: str, connections: int = 64) -> None:
        self._base = listener_url.rstrip("/")
        self._auth = f"Bearer {token}"
        # "Sent" is when the request's headers reached the socket, not when aiohttp was asked
        # to send it: its request machinery costs the bench CPU of its own (docs/benchmarks.md).
        on_the_wire = aiohttp.TraceConfig()
        on_the_wire.on_request_headers_sent.append(_stamp_headers_sent)
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections),
            timeout=aiohttp.ClientTimeout(total=30),
            trace_configs=[on_the_wire],
        )
        self.posted = Posted()

    async def close(self) -> None:
        await self._session.close()

    async def post(self, alerts: list[dict[str, Any]], as_array: bool = False) -> None:
        body = _encode(alerts if as_array or len(alerts) > 1 else alerts[0])
        await self.send(Prepared("/v1/alerts", body, "application/json",
                                 tuple(alert["id"] for alert in alerts)))

    async def send(self, request: Prepared) -> None:
        posted = self.posted
        stamp: dict[str, float] = {"sent": time.time()}  # until the headers go out
        posted.requests += 1
        headers = {"Authorization": self._auth, "Content-Type": request.content_type}
        try:
            async with self._session.post(self._base + request.path, data=request.body,
                                          headers=headers,
                                          trace_request_ctx=stamp) as response:
                await response.read()
                status = str(response.status)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            status = type(exc).__name__
        answered = time.time()
        sent = stamp["sent"]
        posted.first_sent = min(posted.first_sent or sent, sent)
        for alert_id in request.ids:
            posted.sent_at[alert_id] = sent
        posted.last_answer = max(posted.last_answer, answered)
        posted.answer_ms.append((answered - sent) * 1000)
        posted.statuses[status] += 1
        if status == "202":
            posted.accepted.update(request.ids)

    async def at_rate(self, make: Callable[[int], dict[str, Any]], count: int, rate: float,
                      max_in_flight: int = 512) -> None:
        """Open loop: request i is sent at start + i/rate, whatever the answers take."""
        loop = asyncio.get_running_loop()
        limit = asyncio.Semaphore(max_in_flight)
        tasks: set[asyncio.Task[None]] = set()

        async def one(alert: dict[str, Any]) -> None:
            try:
                await self.post([alert])
            finally:
                limit.release()

        start = loop.time()
        for index in range(count):
            delay = start + index / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await limit.acquire()
            task = asyncio.create_task(one(make(index)))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)

    async def closed_loop(self, make: Callable[[], Prepared], workers: int,
                          duration_s: float) -> float:
        """`workers` posters, each sending its next request when the last one is answered.

        Returns the wall time the phase took.
        """
        started = time.monotonic()
        deadline = started + duration_s

        async def worker() -> None:
            while time.monotonic() < deadline:
                await self.send(make())

        await asyncio.gather(*(worker() for _ in range(workers)))
        return time.monotonic() - started
