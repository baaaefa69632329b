"""The bench's own websocket client against hand-written servers on 127.0.0.1.

The benchmark's figures are only as good as its clients: these check the upgrade, framing
(split, fragmented, 16/64-bit lengths), ping/pong, close codes, permessage-deflate when a server
accepts it (a raw server, and aiohttp's real implementation), and that broken servers are
reported as errors rather than counted as deliveries.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import zlib
from typing import Any

import pytest
from aiohttp import WSMsgType, web

from alertflow.bench.swarm import Swarm

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OPEN = '0{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}'


def alerts(seq: int, n: int = 1, pad: int = 0) -> str:
    events = [{"seq": seq + i, "kind": "open", "alert_id": f"ours-{seq + i}", "location": "L",
               "incident_id": f"i{seq + i}", "received_at": 1, "pad": "x" * pad}
              for i in range(n)]
    return '42["alerts",' + json.dumps(events) + "]"


SNAPSHOT = '42["snapshot",{"seq":0,"alerts":[]}]'


# -- a raw server: full control of bytes on the wire
def server_frame(opcode: int, payload: bytes, fin: bool = True, rsv1: bool = False) -> bytes:
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    size = len(payload)
    if size < 126:
        head = bytes((first, size))
    elif size < 65536:
        head = bytes((first, 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((first, 127)) + size.to_bytes(8, "big")
    return head + payload


async def read_client_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    b0, b1 = await reader.readexactly(2)
    assert b1 & 0x80, "client frame not masked"
    size = b1 & 0x7F
    if size == 126:
        size = int.from_bytes(await reader.readexactly(2), "big")
    elif size == 127:
        size = int.from_bytes(await reader.readexactly(8), "big")
    mask = await reader.readexactly(4)
    data = await reader.readexactly(size)
    return b0 & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(data))


class Raw:
    def __init__(self, script, *, deflate_reply: str | None = None, status: int = 101,
                 bad_accept: bool = False) -> None:
        self.script = script
        self.deflate_reply = deflate_reply
        self.status = status
        self.bad_accept = bad_accept
        self.requests: list[bytes] = []
        self.received: list[tuple[int, bytes]] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        self.requests.append(head)
        key = next(line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")
               if line.lower().startswith(b"sec-websocket-key:"))
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        if self.bad_accept:
            accept = base64.b64encode(b"x" * 20)
        if self.status != 101:
            writer.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
            await writer.drain()
            writer.close()
            return
        ext = (f"Sec-WebSocket-Extensions: {self.deflate_reply}\r\n".encode()
               if self.deflate_reply else b"")
        response = (b"HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\n"
                    b"connection: keep-alive, Upgrade\r\nsec-websocket-accept: " + accept
                    + b"\r\n" + ext + b"\r\n")
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            await self.script(self, reader, writer, response)
        writer.close()

    async def expect(self, reader: asyncio.StreamReader, opcode: int, payload: bytes) -> None:
        got = await asyncio.wait_for(read_client_frame(reader), 5)
        self.received.append(got)
        assert got == (opcode, payload), (got, opcode, payload)


async def with_server(handler, clients: int = 1, deflate: bool = False,
                      wait: float = 0.5) -> tuple[Swarm, object]:
    server = await asyncio.start_server(handler.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    swarm = Swarm([f"http://127.0.0.1:{port}/"], lambda a: a.startswith("ours"),
                  deflate=deflate, connect_concurrency=3)
    ready = await swarm.connect(clients, 5)
    await asyncio.sleep(wait)
    return swarm, (server, ready)


async def finish(swarm: Swarm, extra: object) -> None:
    server, _ = extra  # type: ignore[misc]
    await swarm.close()
    server.close()


# -- scripts
async def basic(s: Raw, r, w, response) -> None:
    """Handshake and 3 alerts split byte by byte, a 16-bit and a 64-bit frame, ping, pong."""
    w.write(response + server_frame(1, OPEN.encode()))
    await s.expect(r, 1, b"40")
    w.write(server_frame(1, b'40{"sid":"x"}') + server_frame(1, SNAPSHOT.encode()))
    for byte in server_frame(1, alerts(1).encode()):
        w.write(bytes((byte,)))
        await w.drain()
        await asyncio.sleep(0)
    w.write(server_frame(1, alerts(2, 3, pad=200).encode()))  # 16-bit length
    w.write(server_frame(1, alerts(5, 1, pad=70000).encode()))  # 64-bit length
    w.write(server_frame(1, b"2"))  # Engine.IO ping
    await s.expect(r, 1, b"3")
    w.write(server_frame(9, b"hello"))  # websocket ping
    await s.expect(r, 0xA, b"hello")
    w.write(server_frame(1, alerts(5, 1, pad=70000).encode()))  # a duplicate (seq 5 again)
    await asyncio.sleep(10)


async def fragmented(s: Raw, r, w, response) -> None:
    w.write(response + server_frame(1, OPEN.encode()))
    await s.expect(r, 1, b"40")
    w.write(server_frame(1, SNAPSHOT.encode()))
    text = alerts(1, 2).encode()
    a, b, c = text[:10], text[10:20], text[20:]
    # a ping between the fragments, all in one write
    w.write(server_frame(1, a, fin=False) + server_frame(0, b, fin=False)
            + server_frame(9, b"p") + server_frame(0, c))
    await s.expect(r, 0xA, b"p")
    w.write(server_frame(8, (4001).to_bytes(2, "big") + b"bye"))
    await s.expect(r, 8, (4001).to_bytes(2, "big"))
    await asyncio.sleep(0.5)


def deflated(text: str, compressor) -> bytes:
    data = compressor.compress(text.encode()) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert data.endswith(b"\x00\x00\xff\xff")
    return data[:-4]


def deflate_script(no_context: bool):
    async def script(s: Raw, r, w, response) -> None:
        comp = zlib.compressobj(wbits=-15)
        w.write(response + server_frame(1, deflated(OPEN, comp), rsv1=True))
        await s.expect(r, 1, b"40")
        if no_context:
            comp = zlib.compressobj(wbits=-15)
        w.write(server_frame(1, deflated(SNAPSHOT, comp), rsv1=True))
        w.write(server_frame(1, b"2"))  # uncompressed message among compressed ones
        await s.expect(r, 1, b"3")
        for seq in (1, 2, 3):
            if no_context:
                comp = zlib.compressobj(wbits=-15)
            w.write(server_frame(1, deflated(alerts(seq), comp), rsv1=True))
        if no_context:
            comp = zlib.compressobj(wbits=-15)
        data = deflated(alerts(4, 2), comp)  # compressed and fragmented
        w.write(server_frame(1, data[:5], fin=False, rsv1=True) + server_frame(0, data[5:]))
        await asyncio.sleep(1)
    return script


async def close_after_ready(s: Raw, r, w, response) -> None:
    w.write(response + server_frame(1, OPEN.encode()))
    await s.expect(r, 1, b"40")
    w.write(server_frame(1, SNAPSHOT.encode()) + server_frame(1, alerts(1).encode()))
    await asyncio.sleep(0.2)
    w.transport.abort()  # no close frame: 1006


async def refuse_44(s: Raw, r, w, response) -> None:
    w.write(response + server_frame(1, OPEN.encode()))
    await s.expect(r, 1, b"40")
    w.write(server_frame(1, b'44{"message":"nope"}'))
    await asyncio.sleep(1)


async def silent(s: Raw, r, w, response) -> None:
    w.write(response)
    await asyncio.sleep(40)


async def ns_41(s: Raw, r, w, response) -> None:
    w.write(response + server_frame(1, OPEN.encode()))
    await s.expect(r, 1, b"40")
    w.write(server_frame(1, SNAPSHOT.encode()))
    await asyncio.sleep(0.2)
    w.write(server_frame(1, b"41"))
    await asyncio.sleep(1)


async def masked_from_server(s: Raw, r, w, response) -> None:
    w.write(response + bytes((0x81, 0x81)) + b"\x01\x02\x03\x04" + bytes((ord("0") ^ 1,)))
    await asyncio.sleep(1)


# -- an aiohttp server with permessage-deflate: a real implementation on the other end
async def test_against_aiohttps_permessage_deflate() -> None:
    seen: list[str] = []

    async def ws_handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=True, autoping=True)
        await ws.prepare(request)
        seen.append(request.headers.get("Sec-WebSocket-Extensions", ""))
        await ws.send_str(OPEN)
        msg = await ws.receive()
        assert msg.type is WSMsgType.TEXT and msg.data == "40", msg
        await ws.send_str('40{"sid":"x"}')
        await ws.send_str(SNAPSHOT)
        await ws.ping(b"pp")
        for seq in range(1, 21):
            await ws.send_str(alerts(seq, 1, pad=seq * 500))
        await ws.send_str("2")
        msg = await ws.receive()
        assert msg.type is WSMsgType.TEXT and msg.data == "3", msg
        await ws.close(code=4005)
        return ws

    app = web.Application()
    app.router.add_get("/socket.io/", ws_handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    swarm = Swarm([f"http://127.0.0.1:{port}"], lambda a: a.startswith("ours"), deflate=True)
    assert await swarm.connect(5, 5) == 5
    await asyncio.sleep(1)
    conns = swarm.conns
    assert all(c.opens == 20 for c in conns), [c.opens for c in conns]
    assert swarm.duplicates() == 0
    assert swarm.lost() == 5 and all(c.error == "closed by the server (4005)" for c in conns), \
        swarm.errors()
    assert seen == ["permessage-deflate; client_max_window_bits"] * 5, seen
    assert swarm.parse_count == 20
    await swarm.close()
    await runner.cleanup()


async def test_handshake_split_frames_lengths_and_pings() -> None:
    raw = Raw(basic)
    swarm, extra = await with_server(raw, clients=3, wait=2.5)
    assert extra[1] == 3
    for c in swarm.conns:
        assert (c.opens, c.duplicates, c.ready, c.connected, c.error) == (5, 1, True, True, ""), c
    assert swarm.parse_count == 3, swarm.parse_count
    req = raw.requests[0].decode()
    assert req.startswith("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"), req
    assert "Sec-WebSocket-Extensions" not in req and "Sec-WebSocket-Version: 13" in req, req
    assert "Host: 127.0.0.1:" in req
    await finish(swarm, extra)
    assert swarm.lost() == 0 and not swarm.errors(), swarm.errors()


async def test_fragmented_message_and_close_code() -> None:
    raw = Raw(fragmented)
    swarm, extra = await with_server(raw, clients=2, wait=1)
    assert all(c.opens == 2 for c in swarm.conns), swarm.conns
    assert swarm.lost() == 2 and all(c.error == "closed by the server (4001)"
                                     for c in swarm.conns), swarm.errors()
    await finish(swarm, extra)


@pytest.mark.parametrize("no_context", [False, True])
async def test_permessage_deflate_when_the_server_accepts_it(no_context: bool) -> None:
    reply = "permessage-deflate" + ("; server_no_context_takeover" if no_context else "")
    raw = Raw(deflate_script(no_context), deflate_reply=reply)
    swarm, extra = await with_server(raw, clients=2, deflate=True, wait=1)
    assert extra[1] == 2, swarm.errors()
    assert all(c.opens == 5 for c in swarm.conns), (swarm.conns, swarm.errors())
    assert b"permessage-deflate; client_max_window_bits\r\n" in raw.requests[0]
    await finish(swarm, extra)
    assert not swarm.errors(), swarm.errors()


async def test_an_extension_it_did_not_offer_fails_the_client() -> None:
    raw = Raw(deflate_script(False), deflate_reply="permessage-deflate")
    swarm, extra = await with_server(raw, clients=1, deflate=False, wait=0.2)
    assert extra[1] == 0 and swarm.conns[0].error.startswith("ConnectionError: extension"), \
        swarm.errors()
    await finish(swarm, extra)


async def test_a_connection_dropped_after_ready_counts_as_lost() -> None:
    raw = Raw(close_after_ready)
    swarm, extra = await with_server(raw, clients=2, wait=0.6)
    assert swarm.lost() == 2 and all(c.opens == 1 for c in swarm.conns), swarm.errors()
    await finish(swarm, extra)


@pytest.mark.parametrize(("script", "options"), [
    (refuse_44, {}), (silent, {"status": 400}), (silent, {"bad_accept": True}),
    (masked_from_server, {})], ids=["socketio-44", "http-400", "bad-accept", "masked-frame"])
async def test_broken_servers_are_errors_not_clients(script: Any, options: dict[str, Any]) -> None:
    raw = Raw(script, **options)
    swarm, extra = await with_server(raw, clients=2, wait=0.2)
    assert extra[1] == 0 and swarm.lost() == 0 and len(swarm.errors()) == 2, swarm.errors()
    await finish(swarm, extra)


async def test_a_namespace_disconnect_counts_as_lost() -> None:
    raw = Raw(ns_41)
    swarm, extra = await with_server(raw, clients=2, wait=0.6)
    assert swarm.lost() == 2, swarm.errors()
    await finish(swarm, extra)


async def test_nothing_listening() -> None:
    swarm = Swarm(["http://127.0.0.1:1"], lambda a: True)
    assert await swarm.connect(3, 5) == 0
    assert len(swarm.errors()) == 3
    await swarm.close()
