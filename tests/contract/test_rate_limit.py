"""Per-source rate limits under contract: the local buckets and the Redis-shared ones answer
alike; the shared one gives every listener one budget, and falls back to a local bucket when
Redis does not answer (neither open nor closed), then shares again when it does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from alertflow.backends.ports import RateLimiter
from alertflow.backends.ratelimit import LocalRateLimiter, RedisRateLimiter
from alertflow.backends.redis_store import connect, key_root
from tests.support import PrivateRedis, delete_keys, free_port

# Slow enough that nothing refills while a test runs: results never depend on timing.
RATE, BURST = 0.01, 5


@pytest.fixture(params=["local", "redis"])
async def limiter(request: pytest.FixtureRequest, unique: str) -> AsyncIterator[RateLimiter]:
    if request.param == "local":
        yield LocalRateLimiter(RATE, BURST)
        return
    url = request.getfixturevalue("redis_url")
    shared = RedisRateLimiter(connect(url), unique, RATE, BURST)
    yield shared
    await shared.close()
    client = aioredis.Redis.from_url(url)
    await delete_keys(client, unique)
    await client.aclose()


async def test_a_source_gets_its_burst_then_a_wait(limiter: RateLimiter) -> None:
    granted = [await limiter.take("busy") for _ in range(BURST)]
    refused = await limiter.take("busy")
    assert granted == [0.0] * BURST
    # The next token is one interval (100 s) away, give or take the time the test took.
    assert 90 < refused <= 1 / RATE
    assert await limiter.take("calm") == 0.0  # one bucket per source


@pytest.mark.integration
async def test_listeners_on_one_redis_share_one_budget(redis_url: str, unique: str) -> None:
    listeners = [RedisRateLimiter(connect(redis_url), unique, RATE, BURST) for _ in range(3)]
    try:
        answers = [await listeners[n % 3].take("busy") for n in range(3 * BURST)]
        assert sum(1 for wait in answers if wait == 0) == BURST  # not 3 × BURST
        assert all(wait > 0 for wait in answers[BURST:])
        # The key lives only until the bucket is full again: idle sources leave nothing behind.
        client = aioredis.Redis.from_url(redis_url)
        ttl_ms = await client.pttl(key_root(unique) + "rl:busy")
        await client.aclose()
        assert 0 < ttl_ms <= BURST / RATE * 1000
    finally:
        for listener in listeners:
            await listener.close()
        client = aioredis.Redis.from_url(redis_url)
        await delete_keys(client, unique)
        await client.aclose()


@pytest.mark.integration
async def test_without_redis_each_listener_limits_locally_then_shares_again(
    tmp_path: Path, unique: str,
) -> None:
    port = free_port()
    redis = PrivateRedis(tmp_path / "redis", port)
    # retry_s=0: ask Redis again on every request, so the test needs no waiting.
    limiter = RedisRateLimiter(connect(redis.url), unique, RATE, BURST, retry_s=0)
    try:
        # Nothing listens on the port: the local bucket answers, with the same rate.
        answers = [await limiter.take("busy") for _ in range(BURST + 2)]
        assert not limiter.shared
        assert answers[:BURST] == [0.0] * BURST and all(w > 0 for w in answers[BURST:])
        redis.start()
        # Redis is back: the budget is Redis's again (a fresh bucket there).
        assert await limiter.take("busy") == 0.0
        assert limiter.shared
        client = aioredis.Redis(port=port)
        assert await client.exists(key_root(unique) + "rl:busy") == 1
        await client.aclose()
    finally:
        await limiter.close()
        redis.stop()


@pytest.mark.integration
async def test_a_rate_beyond_the_clocks_precision_still_grants(redis_url: str,
                                                               unique: str) -> None:
    # 1e9/s: the interval (0.001 µs) vanishes against Redis's clock in µs; the key must still
    # get a valid expiry and the request be granted by Redis, not by the fallback.
    limiter = RedisRateLimiter(connect(redis_url), unique, 1e9, 1_000_000_000)
    try:
        assert [await limiter.take("fast") for _ in range(3)] == [0.0] * 3
        assert limiter.shared
    finally:
        await limiter.close()
        client = aioredis.Redis.from_url(redis_url)
        await delete_keys(client, unique)
        await client.aclose()
