"""Redis adapters: the state store (Lua scripts) and the live event feed (pub/sub)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import msgspec
import redis.asyncio as aioredis
import structlog
from redis.asyncio.sentinel import Sentinel
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from alertflow.backends import redis_scripts
from alertflow.backends.ports import Snapshot, StoredEvents, StoreUnavailable, Sweep
from alertflow.backends.redis_batching import Replication, ScriptBatcher
from alertflow.domain.aggregation import LocationInfo, Outcome, location_info, source_name
from alertflow.domain.alert import Alert
from alertflow.domain.hazards import hazard_of, hazards_ended
from alertflow.domain.history import EventFilter
from alertflow.domain.locations import Catalog
from alertflow.settings import DEFAULT_SETTINGS

log = structlog.get_logger("alertflow.redis")

_encoder = msgspec.json.Encoder()
_event_decoder = msgspec.json.Decoder(dict[str, Any])
_batch_decoder = msgspec.json.Decoder(list[dict[str, Any]])
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)
MAX_CONNECTIONS = 64  # per client object: a processor's default prefetch runs 64 calls at once


@dataclass(frozen=True, slots=True)
class SentinelAddress:
    """What a `redis+sentinel://[:pw@]h1:p1,h2:p2/SERVICE/DB[?sentinel_password=…]` names."""

    sentinels: list[tuple[str, int]]
    service: str
    db: int
    password: str | None
    sentinel_password: str | None

    @classmethod
    def parse(cls, url: str) -> SentinelAddress | None:
        if not url.startswith("redis+sentinel://"):
            return None
        parsed = urlparse(url)
        hosts = parsed.netloc.rsplit("@", 1)[-1]
        sentinels = []
        for host in hosts.split(","):
            name, _, port = host.rpartition(":")
            sentinels.append((name or host, int(port or 26379)))
        parts = [part for part in parsed.path.split("/") if part]
        if not parts:
            raise ValueError("redis+sentinel:// URL needs the service name: …/SERVICE/DB")
        return cls(sentinels, parts[0], int(parts[1]) if len(parts) > 1 else 0,
                   unquote(parsed.password) if parsed.password else None,
                   parse_qs(parsed.query).get("sentinel_password", [None])[0])


def connect(url: str) -> aioredis.Redis:
    """A client for `redis://…`, `rediss://…` or `redis+sentinel://[:pw@]h1:p1,h2:p2/SERVICE/DB`.

    With Sentinel, the client asks the sentinels for the current master on every reconnect,
    so a failover is followed without a restart.
    """
    options: dict[str, Any] = {"socket_timeout": 5, "socket_connect_timeout": 3,
                               "health_check_interval": 10, "retry_on_timeout": False}
    address = SentinelAddress.parse(url)
    if address is None:
        # Bounded and blocking: redis-py's default pool opens a connection per concurrent
        # caller and keeps it, so a reconnect storm (thousands of clients asking for a
        # snapshot at once) would leave thousands of Redis connections open. Callers wait
        # for a free one instead (and get StoreUnavailable after `timeout`).
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=MAX_CONNECTIONS, timeout=5, **options)
        client: aioredis.Redis = aioredis.Redis.from_pool(pool)
        return client
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        address.sentinels,
        sentinel_kwargs={"password": address.sentinel_password, "socket_timeout": 3},
        password=address.password,
        db=address.db,
        **options,
    )
    master: aioredis.Redis = sentinel.master_for(address.service)
    return master


def _located(exc: ResponseError, script: str) -> ResponseError:
    """The script's error, naming the .lua file and line instead of Redis's `user_script:N`."""
    return ResponseError(redis_scripts.locate_error(str(exc), script))


def key_root(prefix: str) -> str:
    return "{" + prefix + "}:"


def _fragment(value: dict[str, Any]) -> str:
    """A JSON object's members without the braces, for the scripts to splice into events."""
    return _encoder.encode(value).decode()[1:-1]


def _location_fragment(location: str, info: LocationInfo) -> str:
    return _fragment({
        "location": location, "known": info.known, "names": info.names, "zone": info.zone,
        "zone_names": info.zone_names, "shelter_seconds": info.shelter_seconds,
    })


def _cause_fragment(alert: Alert) -> str:
    return _fragment({
        "title": alert.title, "instructions": alert.instructions, "alert_id": alert.id,
        "issued_at": alert.issued_at, "received_at": alert.received_at, "source": alert.source,
    })


def _hazards(alert: Alert) -> list[Any]:
    """The hazards argument: how many, then which (an alert's own; those a cancel ends)."""
    hazards = (hazards_ended(alert.category, alert.type) if alert.kind == "cancel"
               else (hazard_of(alert.category),))
    return [len(hazards), *hazards]


def _incident(raw: bytes) -> dict[str, Any]:
    incident = _event_decoder.decode(raw)
    # The script keeps types in arrival order; Lua cannot sort as Python does in every locale.
    incident["types"] = sorted(incident["types"])
    return incident


class RedisStateStore:
    def __init__(
        self,
        client: aioredis.Redis,
        catalog: Catalog,
        *,
        prefix: str = DEFAULT_SETTINGS.key_prefix,
        stream_maxlen: int = DEFAULT_SETTINGS.stream_maxlen,
        dedup_ttl_s: int = DEFAULT_SETTINGS.dedup_ttl_s,
        min_replicas: int = 0,
        replication_timeout_ms: int = DEFAULT_SETTINGS.redis_replication_timeout_ms,
    ) -> None:
        self._redis = client
        self._catalog = catalog
        self._root = key_root(prefix)
        self._stream_maxlen = stream_maxlen
        self._dedup_ttl_s = dedup_ttl_s
        # `apply` returns (and the processor acks) only once its writes are on `min_replicas`.
        replication = Replication(min_replicas, replication_timeout_ms, self._root + "fence") \
            if min_replicas > 0 else None
        self._apply = ScriptBatcher(
            client, client.register_script(redis_scripts.APPLY_ALERT), replication)
        self._sweep = client.register_script(redis_scripts.SWEEP)
        self._snapshot = client.register_script(redis_scripts.SNAPSHOT)
        self._epoch_start = client.register_script(redis_scripts.EPOCH_START)
        self._events_after = client.register_script(redis_scripts.EVENTS_AFTER)
        # Offered on every call; Redis keeps the first (SET NX) until it loses its data.
        self._epoch_candidate = uuid.uuid4().hex
        self._fragments: dict[str, str] = {}

    def _location_fragment(self, location: str) -> str:
        fragment = self._fragments.get(location)
        if fragment is None:
            fragment = _location_fragment(location, location_info(self._catalog, location))
            if len(self._fragments) < 10_000:  # unknown names must not grow it without bound
                self._fragments[location] = fragment
        return fragment

    @property
    def channel(self) -> str:
        return self._root + "events"

    async def apply(self, alert: Alert, now_ms: int) -> tuple[Outcome, int]:
        args: list[Any] = [
            now_ms, self._dedup_ttl_s, self._stream_maxlen, self._epoch_candidate, alert.id,
            alert.kind, alert.issued_at, alert.ends_at, alert.type, alert.category,
            _cause_fragment(alert), alert.group or "", alert.source, *_hazards(alert),
            len(alert.supersedes), *alert.supersedes, len(alert.locations),
        ]
        for location in alert.locations:
            args += [location, self._location_fragment(location),
                     _encoder.encode(source_name(alert, location))]
        try:
            outcome, count = await self._apply(keys=[self._root], args=args)
        except UNAVAILABLE as exc:
            raise StoreUnavailable(str(exc)) from exc
        except ResponseError as exc:
            raise _located(exc, redis_scripts.APPLY_ALERT) from exc
        return outcome.decode(), int(count)

    async def sweep(self, now_ms: int, batch: int = 500) -> Sweep:
        closed = 0
        while True:
            try:
                count, still_open = await self._sweep(
                    keys=[self._root],
                    args=[now_ms, self._stream_maxlen, self._epoch_candidate, batch],
                )
            except UNAVAILABLE as exc:
                raise StoreUnavailable(str(exc)) from exc
            except ResponseError as exc:
                raise _located(exc, redis_scripts.SWEEP) from exc
            closed += int(count)
            if int(count) < batch:
                return Sweep(closed, int(still_open))

    async def _call(self, script: Any, source: str, args: list[Any]) -> list[bytes]:
        try:
            result: list[bytes] = await script(keys=[self._root], args=args)
        except UNAVAILABLE as exc:
            raise StoreUnavailable(str(exc)) from exc
        except ResponseError as exc:
            raise _located(exc, source) from exc
        return result

    async def snapshot(self) -> Snapshot:
        return self._as_snapshot(await self._call(
            self._snapshot, redis_scripts.SNAPSHOT, [self._epoch_candidate]))

    async def epoch_start(self) -> Snapshot:
        return self._as_snapshot(await self._call(
            self._epoch_start, redis_scripts.EPOCH_START, [self._epoch_candidate]))

    @staticmethod
    def _as_snapshot(result: list[bytes]) -> Snapshot:
        return Snapshot(
            epoch=result[0].decode(),
            seq=int(result[1]),
            incidents=[_incident(raw) for raw in result[2:]],
        )

    async def _epoch(self) -> str:
        return (await self._call(self._events_after, redis_scripts.EVENTS_AFTER,
                                 [self._epoch_candidate, 2**63 - 1, 1]))[0].decode()

    async def events_after(self, seq: int, limit: int) -> StoredEvents:
        epoch, first, last, *entries = await self._call(
            self._events_after, redis_scripts.EVENTS_AFTER, [self._epoch_candidate, seq, limit])
        last_seq = int(last)
        oldest = int(first.split(b"-")[0]) if first else last_seq + 1
        covered = oldest - 1 <= seq <= last_seq
        events = [_event_decoder.decode(raw) for raw in entries] if covered else []
        return StoredEvents(epoch.decode(), covered, events)

    async def recent_events(self, limit: int, where: EventFilter | None = None) -> StoredEvents:
        # Newest first, a page at a time, until `limit` events match or the filter's time has
        # passed: a filtered request reads only as far back as it needs (at most the stream).
        found: list[dict[str, Any]] = []
        page = limit if where is None else max(limit, 1000)
        upper = "+"
        try:
            epoch = await self._epoch()
            while len(found) < limit:
                entries: Any = await self._redis.xrevrange(self._root + "stream", max=upper,
                                                           count=page)
                for _, fields in entries:
                    event = _event_decoder.decode(fields[b"e"])
                    if where is not None and where.passed(event):
                        entries = []
                        break
                    if where is None or where.matches(event):
                        found.append(event)
                        if len(found) >= limit:
                            break
                if len(entries) < page:
                    break
                upper = "(" + entries[-1][0].decode()
        except UNAVAILABLE as exc:
            raise StoreUnavailable(str(exc)) from exc
        return StoredEvents(epoch, True, found[::-1])

    async def drop_connections(self) -> None:
        """Forget every pooled connection (the master moved): the next call asks anew."""
        await self._redis.connection_pool.disconnect()

    async def ping(self) -> None:
        try:
            await self._redis.ping()
        except UNAVAILABLE as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def close(self) -> None:
        await self._redis.aclose()

    def feed(self, client: aioredis.Redis | None = None) -> RedisEventFeed:
        return RedisEventFeed(client or self._redis, self.channel)


class RedisEventFeed:
    """Pub/sub on the events channel that resubscribes by itself after a lost connection.

    After each (re)subscription it yields an empty batch: the consumer's cue to look for events
    it may have missed while unsubscribed.
    """

    def __init__(self, client: aioredis.Redis, channel: str) -> None:
        self._redis = client
        self._channel = channel
        self._connected = False
        self._kicked = asyncio.Event()

    async def master_changed(self) -> None:
        """The master moved: drop the subscription's connection and resubscribe at once."""
        self._kicked.set()
        await self._redis.connection_pool.disconnect()

    @property
    def connected(self) -> bool:
        return self._connected

    async def batches(self) -> AsyncIterator[list[dict[str, Any]]]:
        delay = 0.05
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                connection = pubsub.connection
                assert connection is not None  # subscribe() connected it
                self._connected = True
                delay = 0.05
                yield []
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None or message["type"] != "message":
                        continue
                    batch = _batch_decoder.decode(message["data"])
                    # Coalesce what is already waiting: one emit per client instead of many,
                    # and no waiting at all when the channel is quiet. `can_read()` looks at
                    # what is buffered without reading it or giving up the event loop (redis-py
                    # 8; before, it consumed data). get_message(timeout=0) alone waits for a
                    # turn of the loop even when nothing is there, and a busy notifier's turns
                    # are long: 50 ms more per batch beside 200 polling clients
                    # (docs/benchmarks.md).
                    while len(batch) < 1000 and await connection.can_read():
                        more = await pubsub.get_message(timeout=0.0)
                        if more is None:
                            break
                        if more["type"] == "message":
                            batch += _batch_decoder.decode(more["data"])
                    yield batch
            except UNAVAILABLE as exc:
                if self._connected:
                    log.warning("event feed lost Redis", error=str(exc))
                self._connected = False
            except Exception:
                # E.g. a message that does not decode: subscribe again (the consumer then
                # catches up from the stream) rather than end the feed for good.
                log.exception("event feed failed; subscribing again")
            finally:
                self._connected = False
                try:
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                except Exception:  # the connection is already gone; nothing to release
                    log.debug("pubsub close failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kicked.wait(), delay)
            if self._kicked.is_set():
                self._kicked.clear()
                delay = 0.05
            else:
                delay = min(delay * 2, 2.0)

    async def close(self) -> None:
        await self._redis.aclose()
