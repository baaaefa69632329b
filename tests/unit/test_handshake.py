"""The notifier refuses permessage-deflate on its own server only (no services needed): a
Hypercorn upgrade that moves the handshake object fails here."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from alertflow.local_ports import free_port
from alertflow.notifier.handshake import decline_extensions, without_compression
from alertflow.roles.http import serve_app


async def _offered_and_accepted(app: Any) -> int:
    """Serve `app`, connect offering permessage-deflate, return the compression agreed on."""
    port, stop = free_port(), asyncio.Event()
    server = asyncio.create_task(serve_app(app, "127.0.0.1", port, stop))
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                try:
                    ws = await session.ws_connect(f"http://127.0.0.1:{port}/", compress=15)
                    break
                except aiohttp.ClientConnectorError:
                    await asyncio.sleep(0.05)
            assert await asyncio.wait_for(ws.receive_str(), 10) == "hello"
            agreed = ws.compress
            await ws.close()
    finally:
        stop.set()
        await server
    return agreed


async def test_only_the_wrapped_app_declines_compression() -> None:
    found: list[bool] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            return
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "hello"})
        await receive()

    async def probing(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            found.append(decline_extensions(send))
        await app(scope, receive, send)

    assert await _offered_and_accepted(without_compression(app)) == 0
    # The same process, another server without the wrapper: Hypercorn's default still holds,
    # so the refusal is scoped to the notifier's app, not patched into Hypercorn.
    assert await _offered_and_accepted(app) == 15
    assert await _offered_and_accepted(probing) == 0
    assert found == [True], "Hypercorn's handshake object moved: handshake.py is blind"
