"""`alertflow bench feedout`: pollers of the feed-shaped `Alerts.json`, per notifier CPU second.

Consumers of the national feed poll it every second or so, in their millions behind a CDN; what
a notifier must do well is answer them cheaply: a cached body, `304` for conditional requests.
The run opens a barrage of windows (in the feed's own shape), then `--pollers` closed-loop
pollers GET the document for `--duration` seconds, half of them conditionally (as a CDN
revalidating, or a client that keeps the ETag), while the state changes `--changes-per-s` times
a second (each change forces one rebuild).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import aiohttp

from alertflow.bench.config import Target
from alertflow.bench.load import AlertFactory, Poster
from alertflow.bench.scenarios import MeasuredInterval, _per_cpu, system

PATH = "/WarningMessages/alert/Alerts.json"


@dataclass(frozen=True, slots=True)
class FeedOut:
    pollers: int = 64
    duration_s: float = 10.0
    areas: int = 100
    changes_per_s: float = 1.0
    seed: int = 4


async def _poll(session: aiohttp.ClientSession, url: str, deadline: float, conditional: bool,
                statuses: Counter[int], sizes: list[int]) -> None:
    etag: str | None = None
    while time.monotonic() < deadline:
        headers = {"If-None-Match": etag} if conditional and etag else {}
        async with session.get(url, headers=headers) as response:
            body = await response.read()
            statuses[response.status] += 1
            if response.status == 200:
                sizes.append(len(body))
                etag = response.headers.get("ETag")


async def feed_out(target: Target, spec: FeedOut) -> dict[str, Any]:
    async with system(target) as running:
        factory = AlertFactory("bench", 3600, spec.seed)
        poster = Poster(running.listener_url, running.token)
        url = running.notifier_urls[0] + PATH
        statuses: Counter[int] = Counter()
        sizes: list[int] = []
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=spec.pollers))
        try:
            await poster.send(factory.feed_request(spec.areas))

            async def document_ready() -> bool:
                async with session.get(url) as response:
                    return bool((await response.read()).strip())

            ready = False
            deadline = time.monotonic() + 30
            while not ready and time.monotonic() < deadline:
                ready = await document_ready()
                await asyncio.sleep(0.05)
            window = MeasuredInterval(running, target)
            window.start()
            started = time.monotonic()
            stop_at = started + spec.duration_s

            async def change_state() -> None:
                if spec.changes_per_s <= 0:
                    return
                while time.monotonic() < stop_at:
                    await poster.send(factory.feed_request(1))
                    await asyncio.sleep(1 / spec.changes_per_s)

            await asyncio.gather(change_state(), *(
                _poll(session, url, stop_at, index % 2 == 1, statuses, sizes)
                for index in range(spec.pollers)))
            wall = time.monotonic() - started
            cpu = window.stop()
        finally:
            await session.close()
            await poster.close()
    requests = sum(statuses.values())
    return {
        "scenario": "feedout", "deployment": running.describe(),
        "params": {"pollers": spec.pollers, "duration_s": spec.duration_s, "areas": spec.areas,
                   "changes_per_s": spec.changes_per_s, "conditional_fraction": 0.5},
        "document_ready": ready, "requests": requests,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "requests_per_s": round(requests / wall, 1),
        "requests_per_notifier_cpu_s": _per_cpu(requests, cpu, "notifier"),
        "body_bytes": max(sizes, default=0), "changes_posted": poster.posted.requests - 1,
        "cpu": cpu, "wall_s": round(wall, 2), **window.report(),
    }
