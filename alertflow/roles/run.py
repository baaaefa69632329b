"""Wiring: build each role from settings with its adapters, run it until SIGTERM, drain."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import structlog
from starlette.applications import Starlette

from alertflow.backends.memory import MemoryQueue, MemoryStateStore
from alertflow.backends.ports import (
    AlertConsumer,
    AlertPublisher,
    EventFeed,
    RateLimiter,
    StateStore,
)
from alertflow.backends.rabbitmq import QueueSpec, RabbitConsumer, RabbitPublisher
from alertflow.backends.ratelimit import LocalRateLimiter, RedisRateLimiter
from alertflow.backends.redis_sentinel import master_switches
from alertflow.backends.redis_store import RedisEventFeed, RedisStateStore, connect
from alertflow.catalog import load_catalog
from alertflow.domain.locations import Catalog
from alertflow.follow.poller import FollowConfig, Follower
from alertflow.listener import ListenerConfig, create_listener_app, create_listener_routes
from alertflow.listener.access import Access
from alertflow.listener.tokens import TokenRegistry
from alertflow.notifier import Notifier, NotifierConfig
from alertflow.notifier.gc_policy import tune_for_many_connections
from alertflow.notifier.routes.push import PushHttpConfig, push_routes
from alertflow.push.store import PushStore
from alertflow.roles.http import health_routes, serve_app
from alertflow.roles.processor import Processor
from alertflow.settings import Settings

log = structlog.get_logger("alertflow")


def run(main: Coroutine[Any, Any, None]) -> None:
    try:
        import uvloop  # optional: a faster event loop where installed
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def shutdown_on_signals() -> asyncio.Event:
    shutdown = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, shutdown.set)
    return shutdown


def queue_spec(settings: Settings) -> QueueSpec:
    return QueueSpec(settings.queue, settings.queue_type, settings.delivery_limit)


def listener_config(settings: Settings) -> ListenerConfig:
    return ListenerConfig(tokens=settings.tokens, insecure_no_auth=settings.insecure_no_auth,
                          max_body_bytes=settings.max_body_bytes, rules=settings.ingest_rules(),
                          rate_limit=settings.rate_limit)


def notifier_config(settings: Settings) -> NotifierConfig:
    return NotifierConfig(max_backlog=settings.max_client_backlog,
                          ping_interval_s=settings.ping_interval_s,
                          poll_hold_s=settings.poll_hold_ms / 1000,
                          allowed_origins=settings.allowed_origins)


def redis_store(settings: Settings, catalog: Catalog) -> RedisStateStore:
    return RedisStateStore(connect(settings.redis_url), catalog, prefix=settings.key_prefix,
                           stream_maxlen=settings.stream_maxlen,
                           dedup_ttl_s=settings.dedup_ttl_s,
                           min_replicas=settings.min_replicas(),
                           replication_timeout_ms=settings.redis_replication_timeout_ms)


async def _wait_ready(publisher: AlertPublisher, seconds: float) -> None:
    for _ in range(int(seconds * 20)):
        if publisher.ready:
            return
        await asyncio.sleep(0.05)


def listener_access(settings: Settings, shared_limit: bool) -> Access:
    """Tokens (fixed and from the tokens file) and the per-source rate limit; shared through
    Redis when `shared_limit` and a Redis URL are given, else per process."""
    tokens = TokenRegistry(settings.tokens,
                           Path(settings.tokens_file) if settings.tokens_file else None)
    limiter: RateLimiter | None = None
    rate = 0.0
    if settings.rate_limit is not None:
        rate, burst = settings.rate_limit
        limiter = (RedisRateLimiter(connect(settings.redis_url), settings.key_prefix, rate, burst)
                   if shared_limit and settings.redis_url else LocalRateLimiter(rate, burst))
    return Access(tokens, limiter, settings.insecure_no_auth, rate)


async def listen(settings: Settings) -> None:
    shutdown = shutdown_on_signals()
    catalog = load_catalog(settings.locations)
    access = listener_access(settings, shared_limit=True)
    publisher = RabbitPublisher(settings.amqp_url, queue_spec(settings),
                                settings.confirm_timeout_s)
    await publisher.start()
    await _wait_ready(publisher, 5)  # not required: /readyz says so until it connects
    app = create_listener_app(publisher, catalog, listener_config(settings), access)
    watcher = asyncio.create_task(access.tokens.watch())
    log.info("listener serving", host=settings.host, port=settings.port,
             sources=access.tokens.current.names, tokens_file=settings.tokens_file or None,
             rate_limit="shared" if isinstance(access.limiter, RedisRateLimiter)
             else "local" if access.limiter else "off", locations=len(catalog))
    await serve_app(app, settings.host, settings.port, shutdown, settings.graceful_timeout_s)
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
    if access.limiter is not None:
        await access.limiter.close()
    await publisher.close()
    log.info("listener stopped")


async def follow(settings: Settings) -> None:
    """Poll a feed of the national feed's shape; enqueue its new alerts like a listener."""
    shutdown = shutdown_on_signals()
    catalog = load_catalog(settings.locations)
    config = FollowConfig(url=settings.follow_url, source=settings.source,
                          interval_s=settings.interval_s)
    publisher = RabbitPublisher(settings.amqp_url, queue_spec(settings),
                                settings.confirm_timeout_s)
    await publisher.start()
    await _wait_ready(publisher, 5)
    follower = Follower(config, publisher, catalog, settings.ingest_rules())
    http_stop = asyncio.Event()
    http = asyncio.create_task(serve_app(
        Starlette(routes=health_routes(follower.readiness)), settings.host, settings.http_port,
        http_stop, 2))
    log.info("following", url=config.url, interval_s=config.interval_s, queue=settings.queue)
    await follower.run(shutdown)  # a poll in flight finishes (confirmed) before it returns
    http_stop.set()
    await http
    await publisher.close()
    log.info("follower stopped")


async def process(settings: Settings) -> None:
    shutdown = shutdown_on_signals()
    catalog = load_catalog(settings.locations)
    store = redis_store(settings, catalog)
    consumer = RabbitConsumer(settings.amqp_url, queue_spec(settings), settings.prefetch)
    processor = Processor(consumer, store, settings.sweep_interval_ms / 1000)
    following = _follow_master(settings, store, processor=processor)
    http_stop = asyncio.Event()
    http = asyncio.create_task(serve_app(
        Starlette(routes=health_routes(processor.readiness)), settings.host,
        settings.http_port, http_stop, 2))
    log.info("processor running", queue=settings.queue, prefetch=settings.prefetch,
             min_replicas=settings.min_replicas())
    await processor.run(shutdown)
    http_stop.set()
    await http
    await _stop(following)
    await store.close()


def _follow_master(settings: Settings, store: RedisStateStore, *,
                   processor: Processor | None = None,
                   feed: RedisEventFeed | None = None) -> asyncio.Task[None] | None:
    """With Sentinel: on each promotion, drop the pooled connections to the old master and
    retry at once (the processor's probe, the notifier's subscription)."""
    switches = master_switches(settings.redis_url)
    if switches is None:
        return None

    async def switched() -> None:
        await store.drop_connections()
        if processor is not None:
            processor.master_changed()
        if feed is not None:
            await feed.master_changed()

    switches.on_switch(switched)
    return asyncio.create_task(switches.run())


async def _stop(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _serve_notifier(
    notifier: Notifier, app: Any, settings: Settings, port: int, shutdown: asyncio.Event,
    background: list[Coroutine[Any, Any, None]],
) -> None:
    tasks = [asyncio.create_task(job) for job in [notifier.run_feed(), *background]]
    server_stop = asyncio.Event()
    grace = settings.graceful_timeout_s
    server = asyncio.create_task(
        serve_app(app, settings.host, port, server_stop, max(0.5, grace * 0.8),
                  send_timeout_s=settings.client_send_timeout_s))
    await shutdown.wait()
    deadline = _exit_at_end_of_grace(grace)
    # Websockets never end by themselves: close them first, so clients move to another notifier.
    await notifier.disconnect_all()
    server_stop.set()
    await server
    deadline.cancel()
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _exit_at_end_of_grace(seconds: float) -> asyncio.TimerHandle:
    """Exit when the grace period after SIGTERM ends, drained or not.

    A notifier holds no state, and its clients were told to go: what can still hold it up is a
    client that has not read its last packets. engineio's websocket handler swallows Hypercorn's
    cancellation and keeps waiting for such a client, which would hold a rolling update up too.
    """

    def hard_exit() -> None:
        log.warning("grace period over with clients still connected; exiting", seconds=seconds)
        sys.stderr.flush()
        os._exit(0)

    return asyncio.get_running_loop().call_later(seconds, hard_exit)


async def notify(settings: Settings) -> None:
    shutdown = shutdown_on_signals()
    catalog = load_catalog(settings.locations)
    store = redis_store(settings, catalog)
    feed = store.feed(connect(settings.redis_url))
    following = _follow_master(settings, store, feed=feed)
    notifier = Notifier(store, feed, catalog, notifier_config(settings))
    push_store = PushStore(connect(settings.redis_url), settings.key_prefix)
    routes = push_routes(push_store, catalog, PushHttpConfig(
        settings.vapid_public_key, settings.push_subscriptions_per_hour,
        frozenset(settings.push_test_origins), settings.push_trusted_proxy_hops))
    log.info("notifier serving", host=settings.host, port=settings.port,
             web_push=bool(settings.vapid_public_key))
    app = notifier.asgi_app(extra_routes=routes)
    tune_for_many_connections()
    await _serve_notifier(notifier, app, settings, settings.port, shutdown, [])
    await _stop(following)
    await push_store.close()
    await feed.close()
    await store.close()
    log.info("notifier stopped")


async def dev(settings: Settings, *, use_amqp: bool, use_redis: bool, demo: bool) -> None:
    """All three roles in one process; in-memory backends unless real URLs were given."""
    from alertflow.roles.demo import run_demo

    shutdown = shutdown_on_signals()
    catalog = load_catalog(settings.locations)
    memory_queue = MemoryQueue(settings.delivery_limit, settings.prefetch)
    publisher: AlertPublisher = memory_queue
    consumer: AlertConsumer = memory_queue
    if use_amqp:
        publisher = RabbitPublisher(settings.amqp_url, queue_spec(settings),
                                    settings.confirm_timeout_s)
        consumer = RabbitConsumer(settings.amqp_url, queue_spec(settings), settings.prefetch)
    store: StateStore
    feed: EventFeed
    if use_redis:
        real_store = redis_store(settings, catalog)
        store, feed = real_store, real_store.feed(connect(settings.redis_url))
    else:
        memory_store = MemoryStateStore(catalog, settings.stream_maxlen, settings.dedup_ttl_s)
        store, feed = memory_store, memory_store.feed()
    await publisher.start()
    await _wait_ready(publisher, 5)
    processor = Processor(consumer, store, settings.sweep_interval_ms / 1000)
    notifier = Notifier(store, feed, catalog, notifier_config(settings))

    def readiness() -> dict[str, bool]:
        return {"broker": publisher.ready, **processor.readiness(), **notifier.readiness()}

    app = notifier.asgi_app(
        extra_routes=create_listener_routes(publisher, catalog, listener_config(settings)),
        readiness=readiness,
    )
    processor_stop = asyncio.Event()
    background: list[Coroutine[Any, Any, None]] = [processor.run(processor_stop)]
    if demo:
        background.append(run_demo(publisher, catalog))
    log.info("alertflow dev: dashboard and API", url=f"http://{settings.host}:{settings.port}/",
             queue="rabbitmq" if use_amqp else "memory", state="redis" if use_redis else "memory",
             auth="tokens" if settings.tokens else "none")
    await _serve_notifier(notifier, app, settings, settings.port, shutdown, background)
    await publisher.close()
    await store.close()


async def push(settings: Settings) -> None:
    """The Web Push role (wiring in alertflow/push/role.py, which imports this module)."""
    from alertflow.push.role import push as push_role

    await push_role(settings)
