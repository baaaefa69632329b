"""A local Web Push service (RFC 8030) for the tests and `alertflow bench push`; not the product.

No role imports it; it lives outside alertflow.bench so the tests can use it without importing
the benchmark (like alertflow/local_ports.py).

It stands in for the browsers' push services on 127.0.0.1 only: it hands out subscriptions
(endpoint + a P-256 key pair and auth secret of a pretend browser), and for each push checks
what a real one checks — the VAPID JWT (RFC 8292: ES256 signature against the application
server key the subscription was made with, `aud` = this service's origin, `exp` in the next
24 h), `TTL`, `Urgency`, `Topic`, `Content-Encoding: aes128gcm` — then decrypts the RFC 8291
body with the subscription's private key. Each subscription keeps a mailbox like a real
service's store of undelivered messages: a message with the `Topic` of one still in it
replaces it (RFC 8030 §5.4). It answers 201, or on demand 404, 410, 429 or 5xx, or slowly.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import http_ece
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

HOST = "127.0.0.1"  # never anything else


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(slots=True)
class PushedMessage:
    token: str
    payload: dict[str, Any]
    ttl: int
    urgency: str | None
    topic: str | None
    at: float


@dataclass(slots=True)
class _Subscription:
    token: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    application_server_key: str
    status: int = 201  # what pushes to it are answered (404/410: it is gone)
    mailbox: dict[str, PushedMessage] = field(default_factory=dict)


@dataclass(slots=True)
class _Failure:
    status: int
    remaining: int
    retry_after: str | None


class LocalPushService:
    def __init__(self, decrypt: bool = True, decrypt_every: int = 1) -> None:
        self._subs: dict[str, _Subscription] = {}
        self._decrypt = decrypt
        self._decrypt_every = decrypt_every  # the benchmark decrypts a sample, not every push
        self._failure: _Failure | None = None
        self.delay_s = 0.0
        self.statuses: Counter[int] = Counter()
        self.accepted: list[PushedMessage] = []  # every 201, duplicates included
        self.problems: list[str] = []  # requests a real push service would refuse, and why
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    # ---------------------------------------------------------------- test controls

    def subscribe(self, application_server_key: str) -> dict[str, Any]:
        """A pretend browser's `PushSubscription.toJSON()` for this application server key."""
        token = _b64(os.urandom(18))
        key = ec.generate_private_key(ec.SECP256R1())
        auth = os.urandom(16)
        self._subs[token] = _Subscription(token, key, auth, application_server_key)
        public = key.public_key().public_bytes(serialization.Encoding.X962,
                                               serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": f"{self.origin}/push/{token}",
                "keys": {"p256dh": _b64(public), "auth": _b64(auth)}}

    @staticmethod
    def token_of(endpoint: str) -> str:
        return endpoint.rsplit("/", 1)[-1]

    def set_status(self, endpoint: str, status: int) -> None:
        self._subs[self.token_of(endpoint)].status = status

    def fail_next(self, count: int, status: int, retry_after: str | None = None) -> None:
        """Answer the next `count` pushes (to anyone) with `status`, e.g. 429 or 503."""
        self._failure = _Failure(status, count, retry_after)

    def mailbox(self, endpoint: str) -> list[PushedMessage]:
        return list(self._subs[self.token_of(endpoint)].mailbox.values())

    # ---------------------------------------------------------------- the service

    def _check_vapid(self, sub: _Subscription, header: str) -> str | None:
        scheme, _, params = header.partition(" ")
        if scheme.lower() != "vapid":
            return "Authorization is not vapid"
        parts = dict(item.strip().split("=", 1) for item in params.split(",") if "=" in item)
        if parts.get("k") != sub.application_server_key:
            return "k is not the key the subscription was made with"
        token = parts.get("t", "")
        try:
            valid = Vapid02.verify(header)
        except Exception as exc:  # py-vapid raises assorted errors for malformed tokens
            return f"VAPID token unreadable: {exc!r}"
        if not valid:
            return "VAPID signature does not verify"
        claims = json.loads(_unb64(token.split(".")[1]))
        if claims.get("aud") != self.origin:
            return f"aud {claims.get('aud')!r} is not {self.origin}"
        if not time.time() < int(claims.get("exp", 0)) <= time.time() + 86_400:
            return "exp is not within the next 24 h"
        if not claims.get("sub"):
            return "no sub claim"
        return None

    async def _push(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        body = await request.read()
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        sub = self._subs.get(token)
        status, reason = 201, ""
        if sub is None:
            status = 404
        elif self._failure and self._failure.remaining > 0:
            self._failure.remaining -= 1
            status = self._failure.status
            headers = {"Retry-After": self._failure.retry_after} if self._failure.retry_after \
                else {}
            self.statuses[status] += 1
            return web.Response(status=status, headers=headers)
        elif sub.status != 201:
            status = sub.status
        else:
            reason = self._check(sub, request, body)
            status = 400 if reason else 201
        if reason:
            self.problems.append(reason)
        self.statuses[status] += 1
        if status != 201:
            return web.Response(status=status, text=reason)
        assert sub is not None
        try:
            sample = len(self.accepted) % self._decrypt_every == 0
            payload = self._open(sub, body) if self._decrypt and sample else {}
        except Exception as exc:  # http_ece raises its own and cryptography's errors
            self.problems.append(f"payload does not decrypt: {exc!r}")
            self.statuses[201] -= 1
            self.statuses[400] += 1
            return web.Response(status=400, text="payload does not decrypt")
        message = PushedMessage(
            token, payload, int(request.headers["TTL"]),
            request.headers.get("Urgency"), request.headers.get("Topic"), time.time())
        self.accepted.append(message)
        sub.mailbox[message.topic or _b64(os.urandom(9))] = message
        return web.Response(status=201, headers={"Location": f"/message/{_b64(os.urandom(9))}"})

    def _check(self, sub: _Subscription, request: web.Request, body: bytes) -> str:
        headers = request.headers
        ttl = headers.get("TTL", "")
        if not ttl.isdigit():
            return "TTL missing or not a number"
        if headers.get("Urgency", "normal") not in ("very-low", "low", "normal", "high"):
            return "bad Urgency"
        topic = headers.get("Topic")
        if topic is not None and (len(topic) > 32 or not all(
                c.isalnum() or c in "-_" for c in topic)):
            return "Topic must be at most 32 base64url characters"
        if headers.get("Content-Encoding") != "aes128gcm":
            return "Content-Encoding must be aes128gcm"
        if len(body) > 4096:
            return "payload over 4096 bytes"
        return self._check_vapid(sub, headers.get("Authorization", "")) or ""

    @staticmethod
    def _open(sub: _Subscription, body: bytes) -> dict[str, Any]:
        plain: bytes = http_ece.decrypt(body, private_key=sub.private_key, auth_secret=sub.auth,
                                        version="aes128gcm")
        decoded: dict[str, Any] = json.loads(plain)
        return decoded

    async def _stats(self, _request: web.Request) -> web.Response:
        return web.json_response({
            "accepted": len(self.accepted), "statuses": {str(k): v for k, v in
                                                         self.statuses.items()},
            "problems": self.problems[:10], "last_at": self.accepted[-1].at if self.accepted
            else None, "decrypted": sum(1 for m in self.accepted if m.payload)})

    async def start(self, port: int = 0) -> None:
        app = web.Application(client_max_size=8192)
        app.router.add_post("/push/{token}", self._push)
        app.router.add_get("/stats", self._stats)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, port, backlog=1024)
        await site.start()
        server: Any = site._server
        self.port = server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


class ThreadedPushService:
    """The service on its own event loop in a background thread (for synchronous tests)."""

    def __init__(self, decrypt: bool = True) -> None:
        self.service = LocalPushService(decrypt)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> LocalPushService:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.service.start(), self._loop).result(10)
        return self.service

    def call(self, fn: Any, *args: Any) -> Any:
        """Run `fn(*args)` on the service's loop (its state is not shared across threads)."""
        async def run() -> Any:
            return fn(*args)
        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(30)

    def __exit__(self, *_exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.service.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def _write_lines(path: str, lines: list[str]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(line + "\n" for line in lines)


def main() -> None:
    """`python -m alertflow.local_push_service N KEY OUT`: serve N subscriptions made for the
    application server key KEY (written to OUT as JSON lines) until killed; prints the port."""
    import sys

    count, key, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    decrypt_every = int(sys.argv[4]) if len(sys.argv) > 4 else 100

    async def serve() -> None:
        service = LocalPushService(decrypt=True, decrypt_every=decrypt_every)
        await service.start()
        _write_lines(out, [json.dumps(service.subscribe(key)) for _ in range(count)])
        print(service.port, flush=True)
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
