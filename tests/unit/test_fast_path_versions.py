"""The notifier's shortcuts into Hypercorn run on the locked versions only: with any other, the
library paths are taken, with one warning, and direct writes are never attempted."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
import structlog

from alertflow.local_ports import free_port
from alertflow.notifier import versions
from alertflow.notifier.direct_send import Transports
from alertflow.roles.http import serve_app


@pytest.fixture
def other_versions(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    versions.shortcuts_allowed.cache_clear()
    monkeypatch.setattr(versions, "unlocked",
                        lambda *names: ["hypercorn 9.9 is installed, the lock pins 0.18.0"])
    yield
    versions.shortcuts_allowed.cache_clear()


def test_the_locked_versions_allow_the_shortcuts() -> None:
    versions.shortcuts_allowed.cache_clear()
    assert versions.shortcuts_allowed() is True


async def test_other_versions_take_the_library_path_with_one_warning(
    other_versions: None,
) -> None:
    transports = Transports()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            return
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": '0{"sid":"abc"}'})
        seen.append(transports.get("abc"))
        await receive()

    seen: list[object] = []
    port, stop = free_port(), asyncio.Event()
    with structlog.testing.capture_logs() as logs:
        server = asyncio.create_task(
            serve_app(transports.middleware(app), "127.0.0.1", port, stop))
        try:
            async with aiohttp.ClientSession() as session:
                for _ in range(2):
                    for _ in range(100):
                        try:
                            ws = await session.ws_connect(f"http://127.0.0.1:{port}/")
                            break
                        except aiohttp.ClientConnectorError:
                            await asyncio.sleep(0.05)
                    await ws.receive_str()
                    await ws.close()
        finally:
            stop.set()
            await server
    assert seen == [None, None]  # no transport learnt: every packet goes through engineio
    warnings = [entry for entry in logs if entry["event"].startswith("untested dependency")]
    assert len(warnings) == 1 and "hypercorn 9.9" in warnings[0]["reason"]
