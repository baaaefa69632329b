"""Wiring of the `alertflow push` role: Redis, the VAPID key, the sender, health and metrics."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid

import structlog
from starlette.applications import Starlette

from alertflow.backends.redis_store import connect
from alertflow.push import vapid
from alertflow.push.sender import PushSender, SenderConfig
from alertflow.push.store import PushStore
from alertflow.push.worker import PushWorker, WorkerConfig
from alertflow.roles.http import health_routes, serve_app
from alertflow.roles.run import shutdown_on_signals
from alertflow.settings import Settings

log = structlog.get_logger("alertflow.push")


def consumer_name() -> str:
    # Unique per process: a restarted pod is a new consumer, and its predecessor's unfinished
    # entries are taken over by whoever sees them idle first.
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


async def push(settings: Settings) -> None:
    shutdown = shutdown_on_signals()
    signer = vapid.VapidSigner(vapid.load(settings.vapid_key_file), settings.vapid_subject)
    client = connect(settings.redis_url)
    store = PushStore(client, settings.key_prefix)
    sender = PushSender(signer, SenderConfig(
        concurrency=settings.push_concurrency, per_service=settings.push_per_service,
        timeout_s=settings.push_timeout_s, max_retry_s=settings.push_max_retry_s,
        test_origins=frozenset(settings.push_test_origins)))
    worker = PushWorker(client, store, sender.send, settings.key_prefix, WorkerConfig(
        group=settings.push_group, consumer=consumer_name(), batch=settings.push_batch,
        coalesce_ms=settings.push_coalesce_ms, reclaim_idle_s=settings.push_reclaim_idle_s,
        workers=settings.push_concurrency))
    http_stop = asyncio.Event()
    http = asyncio.create_task(serve_app(
        Starlette(routes=health_routes(worker.readiness)), settings.host, settings.http_port,
        http_stop, 2))
    log.info("push role running", group=settings.push_group, public_key=signer.public_key,
             test_origins=sorted(settings.push_test_origins))
    # SIGTERM: the loop finishes the batch in hand (and acknowledges it), then stops.
    await worker.run(shutdown)
    http_stop.set()
    await http
    await sender.close()
    await store.close()
    log.info("push role stopped")
