"""Web Push subscriptions and per-subscriber claims in Redis, under the deployment's key prefix.

Keys (P = "{prefix}:", one hash tag): P.."push:sub:"..id (hash: endpoint, p256dh, auth, lang,
locations, zones as JSON; expires when its browser has not registered it for `ttl_s`),
P.."push:loc:"..area and P.."push:zone:"..zone (sets of subscription ids; a member whose hash
expired is dropped when met), P.."push:rate:"..address (subscriptions made this hour),
P.."push:claim:"..id..":"..incident..":"..notice (who sends that notice; "done" once sent).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import resources
from typing import Any

import redis.asyncio as aioredis
from redis.typing import EncodableT, FieldT

from alertflow.domain.push import PushSubscription

SUBSCRIPTION_TTL_S = 30 * 86_400
CLAIM_TTL_S = 2 * 86_400  # longer than any window, so a late reclaim still finds the claim
DONE = "done"
_CLAIM = resources.files("alertflow.push").joinpath("lua/claim.lua").read_text("utf-8")


def _fields(sub: PushSubscription) -> dict[FieldT, EncodableT]:
    """A subscription's hash in Redis."""
    return {"endpoint": sub.endpoint, "p256dh": sub.p256dh, "auth": sub.auth, "lang": sub.lang,
            "locations": json.dumps(sorted(sub.locations)), "zones": json.dumps(sorted(sub.zones))}


class PushStore:
    def __init__(self, client: aioredis.Redis, prefix: str,
                 ttl_s: int = SUBSCRIPTION_TTL_S) -> None:
        self._redis = client
        self._p = "{" + prefix + "}:push:"
        self._ttl_s = ttl_s
        self._claim = client.register_script(_CLAIM)

    def _sub(self, sub_id: str) -> str:
        return self._p + "sub:" + sub_id

    def _indexes(self, locations: Iterable[str], zones: Iterable[str]) -> list[str]:
        return [self._p + "loc:" + loc for loc in locations] + [
            self._p + "zone:" + zone for zone in zones]

    async def count_new(self, address: str) -> tuple[int, int]:
        """Count one subscription request from `address`: (requests this hour, seconds left)."""
        key = self._p + "rate:" + address
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, 3600, nx=True)
            pipe.ttl(key)
            count, _, ttl = await pipe.execute()
        return int(count), max(1, int(ttl))

    async def exists(self, sub_id: str) -> bool:
        return bool(await self._redis.exists(self._sub(sub_id)))

    async def save(self, sub: PushSubscription) -> bool:
        """Store or update `sub` (and its indexes); True when it is new."""
        key = self._sub(sub.id)
        old: Any = await self._redis.hmget(key, "locations", "zones")
        async with self._redis.pipeline(transaction=True) as pipe:
            if old[0] is not None:
                old_locations = set(json.loads(old[0])) - sub.locations
                old_zones = set(json.loads(old[1])) - sub.zones
                for index in self._indexes(old_locations, old_zones):
                    pipe.srem(index, sub.id)
            pipe.hset(key, mapping=_fields(sub))
            pipe.expire(key, self._ttl_s)
            for index in self._indexes(sub.locations, sub.zones):
                pipe.sadd(index, sub.id)
                pipe.expire(index, self._ttl_s, gt=True)
                pipe.expire(index, self._ttl_s, nx=True)
            await pipe.execute()
        return old[0] is None

    async def save_new(self, subs: list[PushSubscription]) -> None:
        """Store subscriptions known to be new (bulk loading: no old indexes to clean up)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            indexes: set[str] = set()
            for sub in subs:
                key = self._sub(sub.id)
                pipe.hset(key, mapping=_fields(sub))
                pipe.expire(key, self._ttl_s)
                for index in self._indexes(sub.locations, sub.zones):
                    pipe.sadd(index, sub.id)
                    indexes.add(index)
            for index in indexes:
                pipe.expire(index, self._ttl_s)
            await pipe.execute()

    async def delete(self, sub_id: str) -> bool:
        key = self._sub(sub_id)
        old: Any = await self._redis.hmget(key, "locations", "zones")
        if old[0] is None:
            return False
        async with self._redis.pipeline(transaction=True) as pipe:
            for index in self._indexes(json.loads(old[0]), json.loads(old[1])):
                pipe.srem(index, sub_id)
            pipe.delete(key)
            await pipe.execute()
        return True

    async def matching(self, locations: Iterable[str],
                       zones: Iterable[str]) -> list[PushSubscription]:
        """The live subscriptions for any of these areas or zones."""
        indexes = self._indexes(set(locations), set(zones))
        if not indexes:
            return []
        members: Any = await self._redis.sunion(indexes)
        ids: set[bytes] = set(members)
        ordered = sorted(ids)
        subs: list[PushSubscription] = []
        gone: list[str] = []
        for start in range(0, len(ordered), 2000):
            chunk = ordered[start:start + 2000]
            async with self._redis.pipeline(transaction=False) as pipe:
                for sub_id in chunk:
                    pipe.hgetall(self._sub(sub_id.decode()))
                rows = await pipe.execute()
            for raw_id, row in zip(chunk, rows, strict=True):
                if not row:
                    gone.append(raw_id.decode())
                    continue
                subs.append(PushSubscription(
                    id=raw_id.decode(), endpoint=row[b"endpoint"].decode(),
                    p256dh=row[b"p256dh"].decode(), auth=row[b"auth"].decode(),
                    locations=frozenset(json.loads(row[b"locations"])),
                    zones=frozenset(json.loads(row[b"zones"])), lang=row[b"lang"].decode()))
        if gone:  # expired hashes: forget them in every index of this lookup
            async with self._redis.pipeline(transaction=False) as pipe:
                for index in indexes:
                    pipe.srem(index, *gone)
                await pipe.execute()
        return subs

    def _claim_key(self, sub_id: str, claim: str) -> str:
        return self._p + "claim:" + sub_id + ":" + claim

    async def claim(self, wanted: list[tuple[str, list[str]]], owner: str,
                    takeover: bool) -> list[list[str]]:
        """For each (subscription id, claims): the claims this consumer may send now
        (lua/claim.lua), in one pipeline for the whole batch."""
        if not wanted:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for sub_id, claims in wanted:
                await self._claim(keys=[self._claim_key(sub_id, c) for c in claims],
                                  args=[owner, CLAIM_TTL_S, "1" if takeover else "0"],
                                  client=pipe)
            results = await pipe.execute()
        return [[name for name, ok in zip(claims, granted, strict=True) if ok]
                for (_, claims), granted in zip(wanted, results, strict=True)]

    async def finish(self, done: list[tuple[str, tuple[str, ...]]]) -> None:
        """Mark claims done: sent, or never to be sent (the subscription is gone)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for sub_id, claims in done:
                for claim in claims:
                    pipe.set(self._claim_key(sub_id, claim), DONE, ex=CLAIM_TTL_S)
            await pipe.execute()

    async def release(self, sub_id: str, claims: Iterable[str], owner: str) -> None:
        """Give claims back (a send that will be retried by a later delivery)."""
        for claim in claims:
            key = self._claim_key(sub_id, claim)
            held: Any = await self._redis.get(key)
            if held is not None and held.decode() == owner:
                await self._redis.delete(key)

    async def close(self) -> None:
        await self._redis.aclose()
