"""Per-source rate limits: local buckets, or one bucket per source shared through Redis.

The shared bucket is one Lua call per request (lua/rate_limit.lua, GCRA on Redis's clock), so N
listeners give a source one budget, not N. When Redis cannot answer, each listener limits on
its own local bucket (the same rate) until Redis answers again: neither open to a flood nor
closed to every source because of a Redis outage.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from importlib.resources import files

import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError

from alertflow import metrics
from alertflow.backends.redis_store import key_root
from alertflow.domain.ratelimit import TokenBucket

log = structlog.get_logger("alertflow.ratelimit")

RATE_LIMIT_LUA = (files("alertflow.backends") / "lua" / "rate_limit.lua").read_text(
    encoding="utf-8")


class LocalRateLimiter:
    """One bucket per source in this process."""

    def __init__(self, rate: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst = rate, burst
        self._clock = clock
        # Bounded by the configured sources: only authenticated names get a bucket.
        self._buckets: dict[str, TokenBucket] = {}

    async def take(self, source: str) -> float:
        return self.take_now(source)

    def take_now(self, source: str) -> float:
        bucket = self._buckets.get(source)
        if bucket is None:
            bucket = self._buckets[source] = TokenBucket(self.rate, self.burst)
        return bucket.take(self._clock())

    async def close(self) -> None:
        return None


class RedisRateLimiter:
    """One bucket per source in Redis, shared by every listener on the same key prefix."""

    def __init__(self, redis: aioredis.Redis, prefix: str, rate: float, burst: int, *,
                 timeout_s: float = 0.25, retry_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._redis = redis
        self._root = key_root(prefix) + "rl:"
        self._args = (1_000_000 / rate, burst, 1)
        self._script = redis.register_script(RATE_LIMIT_LUA)
        self._local = LocalRateLimiter(rate, burst, clock)
        self._timeout_s = timeout_s
        self._retry_s = retry_s  # while Redis is away, try it again this often (not per request)
        self._clock = clock
        self._down_until: float | None = None
        metrics.rate_limit_shared.labels("redis").set(1)

    @property
    def shared(self) -> bool:
        return self._down_until is None

    async def take(self, source: str) -> float:
        now = self._clock()
        if self._down_until is not None and now < self._down_until:
            return self._local.take_now(source)
        try:
            wait_us = await asyncio.wait_for(
                self._script(keys=[self._root + source], args=list(self._args)),
                self._timeout_s)
        except (RedisError, OSError, TimeoutError) as exc:
            if self._down_until is None:
                log.warning("rate limit: Redis does not answer; limiting per listener until it "
                            "does", error=type(exc).__name__, detail=str(exc)[:200])
                metrics.rate_limit_shared.labels("redis").set(0)
            self._down_until = now + self._retry_s
            return self._local.take_now(source)
        if self._down_until is not None:
            log.info("rate limit: Redis answers again; the budget is shared again")
            metrics.rate_limit_shared.labels("redis").set(1)
            self._down_until = None
        return int(wait_us) / 1_000_000

    async def close(self) -> None:
        await self._redis.aclose()
