"""Direct websocket writes: the frame is what wsproto would send, and the transport is found
under the Hypercorn version this project runs (a Hypercorn upgrade that moves it fails here)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from wsproto.frame_protocol import FrameProtocol

from alertflow.local_ports import free_port
from alertflow.notifier.direct_send import Transports, websocket_text_frame
from alertflow.roles.http import serve_app


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 200_000])
def test_the_frame_is_byte_for_byte_what_wsproto_sends(size: int) -> None:
    text = ("אבג" * size)[:size]
    server_side = FrameProtocol(client=False, extensions=[])
    assert websocket_text_frame(text) == server_side.send_data(text, fin=True)


async def test_a_frame_written_to_the_found_transport_reaches_the_client() -> None:
    found: list[object] = []
    transports = Transports()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            return
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": '0{"sid":"abc"}'})  # as engineio opens
        transport = transports.get("abc")  # learnt from the open packet, as the notifier does
        found.append(transport)
        if transport is not None:
            transport.write(websocket_text_frame("directly"))
        await send({"type": "websocket.send", "text": "through hypercorn"})
        await receive()  # until the client goes

    port, stop = free_port(), asyncio.Event()
    server = asyncio.create_task(serve_app(transports.middleware(app), "127.0.0.1", port, stop))
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                try:
                    ws = await session.ws_connect(f"http://127.0.0.1:{port}/")
                    break
                except aiohttp.ClientConnectorError:
                    await asyncio.sleep(0.05)
            received = [await asyncio.wait_for(ws.receive_str(), 10) for _ in range(3)]
            await ws.close()
    finally:
        stop.set()
        await server
    assert found[0] is not None, "Hypercorn's objects changed: direct_send.transport_of is blind"
    assert received == ['0{"sid":"abc"}', "directly", "through hypercorn"]
    assert len(transports) == 0  # forgotten when the connection ended
