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


class AlertFactory:
    """Alert bodies with ids unique to this run (`bench-<run>-<n>`) over real areas."""

    def __init__(self, alert_type: str, window_s: int, seed: int) -> None:
        self.run_id = secrets.token_hex(4)
        self.prefix = f"bench-{self.run_id}-"
        self._type = alert_type
        self._window_s = window_s
        self._rng = random.Random(seed)
        self.locations = sorted(load_catalog().areas)
        self._count = 0

    def is_ours(self, alert_id: str) -> bool:
        return alert_id.startswith(self.prefix)

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
        self._url = listener_url.rstrip("/") + "/v1/alerts"
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
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
        posted = self.posted
        stamp: dict[str, float] = {"sent": time.time()}  # until the headers go out
        posted.requests += 1
        try:
            async with self._session.post(self._url, data=body, headers=self._headers,
                                          trace_request_ctx=stamp) as response:
                await response.read()
                status = str(response.status)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            status = type(exc).__name__
        answered = time.time()
        sent = stamp["sent"]
        posted.first_sent = min(posted.first_sent or sent, sent)
        for alert in alerts:
            posted.sent_at[alert["id"]] = sent
        posted.last_answer = max(posted.last_answer, answered)
        posted.answer_ms.append((answered - sent) * 1000)
        posted.statuses[status] += 1
        if status == "202":
            posted.accepted.update(alert["id"] for alert in alerts)

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

    async def closed_loop(self, make: Callable[[], list[dict[str, Any]]], workers: int,
                          duration_s: float, as_array: bool) -> float:
        """`workers` posters, each sending its next request when the last one is answered.

        Returns the wall time the phase took.
        """
        started = time.monotonic()
        deadline = started + duration_s

        async def worker() -> None:
            while time.monotonic() < deadline:
                await self.post(make(), as_array=as_array)

        await asyncio.gather(*(worker() for _ in range(workers)))
        return time.monotonic() - started
