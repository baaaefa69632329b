"""The WSGI-style environ python-engineio reads from each ASGI request, built without garbage
cycles.

python-engineio's own ASGI `translate_request` defines a class for every request (the body
reader it puts in `wsgi.input`). A class is a reference cycle (type, its `__dict__`, `__mro__`),
and its methods close over the request's `receive`, which holds Hypercorn's per-request queue:
so every long-poll left ~18 objects that only the cyclic garbage collector frees. At hundreds
of polls a second that filled the notifier's young generation every few seconds, and each
collection stopped the event loop, and every websocket delivery with it, for up to 180 ms
(docs/benchmarks.md, "Garbage per long-poll"). Here the reader is one class, defined once, so
a request's objects are freed as soon as it ends.

For every request engineio serves the environ is the same as its own
(tests/unit/test_request_environ.py compares the two; the one difference, a websocket's body
reading as b"" instead of None, is never asked for). The notifier installs this in its
engineio server only with the locked versions (versions.py), like its other shortcuts.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

from alertflow.notifier.packet_guard import Message, Receive, Scope, Send


class RequestBody:
    """`wsgi.input`: the request's body, read from ASGI `receive` when engineio asks for it."""

    __slots__ = ("_event", "_payload", "_receive")

    def __init__(self, event: Message, receive: Receive) -> None:
        self._event = event
        self._receive = receive
        self._payload: bytes | None = None

    async def read(self, length: int | None = None) -> bytes:
        if self._payload is None:
            self._payload = await self._read_body(length)
        if length is None:
            body, self._payload = self._payload, b""
        else:
            body, self._payload = self._payload[:length], self._payload[length:]
        return body

    async def _read_body(self, length: int | None) -> bytes:
        if self._event["type"] != "http.request":
            return b""
        body = self._event.get("body") or b""
        while self._event.get("more_body"):
            self._event = await self._receive()
            # As engineio: the rest is received but not kept once `length` bytes are.
            if self._event["type"] == "http.request" and (length is None or len(body) < length):
                body += self._event.get("body") or b""
        return body


async def translate_request(scope: Scope, receive: Receive, send: Send) -> dict[str, Any]:
    """engineio's `translate_request` for ASGI: {} unless the request opens as HTTP or a
    websocket."""
    event = await receive()
    if event["type"] not in ("http.request", "websocket.connect"):
        return {}
    path = scope["path"]
    query = ""
    if scope.get("query_string"):
        with contextlib.suppress(UnicodeDecodeError):  # as engineio: then no query at all
            query = scope["query_string"].decode("utf-8")
    environ: dict[str, Any] = {
        "wsgi.input": RequestBody(event, receive),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.async": True,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "SERVER_SOFTWARE": "asgi",
        "REQUEST_METHOD": scope.get("method", "GET"),
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "RAW_URI": f"{path}?{query}" if query else path,
        "SCRIPT_NAME": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "0",
        "SERVER_NAME": "asgi",
        "SERVER_PORT": "0",
        "asgi.receive": receive,
        "asgi.send": send,
        "asgi.scope": scope,
    }
    for raw_name, raw_value in scope["headers"]:
        try:
            name = raw_name.upper().decode("utf-8")
            value = raw_value.decode("utf-8")
        except UnicodeDecodeError:
            continue  # as engineio: a header that is not UTF-8 is left out
        if name in ("CONTENT-TYPE", "CONTENT-LENGTH"):
            environ[name.replace("-", "_")] = value
            continue
        key = "HTTP_" + name.replace("-", "_")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    environ["wsgi.url_scheme"] = environ.get("HTTP_X_FORWARDED_PROTO", "http")
    return environ


def install(engineio_server: Any) -> None:
    """Make `engineio_server` build its environs here. engineio keeps its async driver's
    functions in `_async`, a dict shared by every server of the mode: this server gets a
    copy."""
    engineio_server._async = {**engineio_server._async, "translate_request": translate_request}
