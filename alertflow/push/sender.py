"""Sending one encrypted push (RFC 8030 + 8291 + 8292) with retries, over pooled connections.

One aiohttp session (connection pool) per push service origin. Its resolver checks every
address a host name resolves to, at connect time, so a name that points inside the network
(DNS rebinding) is never reached. Encryption is http_ece's RFC 8291 aes128gcm (the library
pywebpush uses), with a fresh ephemeral key per message.
"""

from __future__ import annotations

import asyncio
import base64
import random
import socket
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
import http_ece
import structlog
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from cryptography.hazmat.primitives.asymmetric import ec

from alertflow.domain.push import PushSubscription, origin, redact, refuse_address
from alertflow.domain.push_messages import Message
from alertflow.push import metrics
from alertflow.push.vapid import VapidSigner

log = structlog.get_logger("alertflow.push")

SENT, GONE, REJECTED, GAVE_UP = "sent", "gone", "rejected", "gave_up"
MAX_BACKOFF_S = 5.0  # an alert is worth little after a minute: keep trying often


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encrypt(payload: bytes, sub: PushSubscription) -> bytes:
    """RFC 8291 aes128gcm body for `sub` (its p256dh key and auth secret)."""
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    body: bytes = http_ece.encrypt(payload, private_key=ephemeral, dh=_b64(sub.p256dh),
                                   auth_secret=_b64(sub.auth), version="aes128gcm")
    return body


class RefusedAddress(OSError):
    pass


class PublicOnlyResolver(AbstractResolver):
    """Resolves like the system does, then drops every non-public address (test origins aside)."""

    def __init__(self, allowed: frozenset[tuple[str, int]]) -> None:
        self._inner = ThreadedResolver()
        self._allowed = allowed

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if (host, port) in self._allowed:
            return results
        public = [r for r in results if refuse_address(r["host"]) is None]
        if not public:
            why = refuse_address(results[0]["host"]) if results else "no address"
            raise RefusedAddress(f"{host} resolves to a {why}")
        return public

    async def close(self) -> None:
        await self._inner.close()


@dataclass(slots=True)
class SenderConfig:
    concurrency: int = 256  # pushes in flight at once, all services together
    per_service: int = 128  # connections to one push service
    timeout_s: float = 10.0
    max_retry_s: float = 120.0  # retries stop after this, or when the message's TTL runs out
    test_origins: frozenset[str] = frozenset()


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class PushSender:
    def __init__(self, signer: VapidSigner, config: SenderConfig) -> None:
        self._signer = signer
        self._config = config
        self._sessions: dict[str, aiohttp.ClientSession] = {}
        self.slots = asyncio.Semaphore(config.concurrency)
        allowed = set()
        for test_origin in config.test_origins:
            host_port = test_origin.split("://", 1)[-1]
            host, _, port = host_port.rpartition(":")
            allowed.add((host.strip("[]"), int(port)))
        self._allowed = frozenset(allowed)

    def _session(self, service: str) -> aiohttp.ClientSession:
        session = self._sessions.get(service)
        if session is None:
            connector = aiohttp.TCPConnector(
                limit=self._config.per_service, resolver=PublicOnlyResolver(self._allowed),
                ttl_dns_cache=60, enable_cleanup_closed=True)
            # Per socket operation, not per request: waiting for a pooled connection while
            # the service is busy is not the service failing (a total timeout counted that wait
            # and gave up pushes that were only queued: docs/benchmarks.md, Web Push).
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=self._config.timeout_s,
                                            sock_read=self._config.timeout_s)
            session = aiohttp.ClientSession(
                connector=connector, auto_decompress=False, timeout=timeout)
            self._sessions[service] = session
        return session

    async def send(self, sub: PushSubscription, message: Message) -> str:
        """Deliver `message` to `sub`'s push service: SENT, GONE, REJECTED or GAVE_UP."""
        service = origin(sub.endpoint)
        started = time.monotonic()
        expires = started + message.ttl_s
        deadline = min(expires, started + self._config.max_retry_s)
        body = encrypt(message.payload, sub)  # once: a retry resends the same bytes
        attempt = 0
        while True:
            attempt += 1
            ttl = max(0, int(expires - time.monotonic()))  # what is left of the window
            headers = {
                "Authorization": self._signer.authorization(service),
                "Content-Encoding": "aes128gcm", "Content-Type": "application/octet-stream",
                "TTL": str(ttl), "Urgency": "high", "Topic": message.topic,
            }
            wait: float | None
            try:
                async with self.slots, self._session(service).post(
                        sub.endpoint, data=body, headers=headers) as response:
                    status = response.status
                    wait = _retry_after(response.headers.get("Retry-After"))
                    await response.read()
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                refused = exc if isinstance(exc, RefusedAddress) else getattr(
                    exc, "os_error", None)
                if isinstance(refused, RefusedAddress):  # aiohttp wraps the resolver's error
                    metrics.failed.labels(status="refused_address").inc()
                    log.warning("push endpoint refused", endpoint=redact(sub.endpoint),
                                reason=str(refused))
                    return GONE
                status, wait = 0, None
                reason = type(exc).__name__
            else:
                reason = str(status)
            if 200 <= status < 300:
                return SENT
            if status in (404, 410):
                metrics.failed.labels(status=str(status)).inc()
                return GONE
            if status and status != 429 and status < 500:
                metrics.failed.labels(status=str(status)).inc()
                log.warning("push rejected", endpoint=redact(sub.endpoint), status=status)
                return REJECTED
            backoff = min(MAX_BACKOFF_S, 0.25 * 2 ** (attempt - 1)) * random.uniform(0.8, 1.2)
            delay = max(backoff, wait or 0.0)
            if time.monotonic() + delay > deadline:
                metrics.failed.labels(status=reason).inc()
                log.warning("push gave up", endpoint=redact(sub.endpoint), status=reason,
                            attempts=attempt)
                return GAVE_UP
            metrics.retries.labels(status=reason).inc()
            await asyncio.sleep(delay)

    async def close(self) -> None:
        for session in self._sessions.values():
            await session.close()
        self._sessions.clear()

    def stats(self) -> dict[str, Any]:
        return {"services": len(self._sessions)}
