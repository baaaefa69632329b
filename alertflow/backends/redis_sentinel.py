"""Following Sentinel's announcements: act on a promotion the moment it is made.

Without this, a role finds the new master only when its own retry comes round: after a master
dies, every attempt fails until the Sentinels promote a replica, and a backoff that has grown
to seconds by then adds its remainder to the stall. Sentinels announce each promotion on their
pub/sub channel `+switch-master` ("<service> <old ip> <old port> <new ip> <new port>"); every
role listens to all of its Sentinels (any one may be down) and reacts once per promotion.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
import structlog

from alertflow.backends.redis_store import UNAVAILABLE, SentinelAddress

log = structlog.get_logger("alertflow.sentinel")

OnSwitch = Callable[[], Awaitable[None]]


class MasterSwitches:
    def __init__(self, address: SentinelAddress) -> None:
        self._address = address
        self._callbacks: list[OnSwitch] = []
        self._last: str | None = None
        self.switches = 0

    def on_switch(self, callback: OnSwitch) -> None:
        self._callbacks.append(callback)

    async def run(self) -> None:
        """Listen to every Sentinel until cancelled."""
        listeners = [asyncio.create_task(self._listen(host, port))
                     for host, port in self._address.sentinels]
        try:
            await asyncio.gather(*listeners)
        finally:
            for task in listeners:
                task.cancel()
            for task in listeners:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _listen(self, host: str, port: int) -> None:
        delay = 0.1
        while True:
            client = aioredis.Redis(host=host, port=port,
                                    password=self._address.sentinel_password,
                                    socket_connect_timeout=3)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe("+switch-master")
                delay = 0.1
                while True:
                    message = await pubsub.get_message(timeout=5.0)
                    if message is not None and message["type"] == "message":
                        await self._announced(message["data"].decode())
            except UNAVAILABLE as exc:
                log.debug("sentinel unreachable", sentinel=f"{host}:{port}", error=str(exc))
            finally:
                with contextlib.suppress(Exception):  # the connection may be gone already
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                    await client.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def _announced(self, text: str) -> None:
        service, *_ = text.split(" ", 1)
        if service != self._address.service or text == self._last:
            return  # another service, or the same promotion told by another Sentinel
        self._last = text
        self.switches += 1
        log.warning("sentinel promoted a new master; reconnecting", announcement=text)
        for callback in self._callbacks:
            try:
                await callback()
            except Exception:  # one role part failing to react must not stop the others
                log.exception("reacting to a master switch failed")


def master_switches(url: str) -> MasterSwitches | None:
    """A follower for a `redis+sentinel://` URL; None for a plain Redis."""
    address = SentinelAddress.parse(url)
    return MasterSwitches(address) if address is not None else None
