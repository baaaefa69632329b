"""The notifier's environ for python-engineio is the one engineio's own ASGI driver builds:
compared key by key, and body by body, with the real function of the locked version."""

from __future__ import annotations

from typing import Any

import pytest
from engineio.async_drivers import asgi as engineio_asgi

from alertflow.notifier.request_environ import translate_request

HEADERS = [
    (b"host", b"alerts.example"),
    (b"content-type", b"text/plain;charset=UTF-8"),
    (b"content-length", b"11"),
    (b"origin", b"https://alerts.example"),
    (b"x-forwarded-proto", b"https"),
    (b"accept", b"*/*"),
    (b"accept", b"text/plain"),  # repeated: joined with a comma
    (b"x-not-utf8", b"\xff\xfe"),  # left out
    (b"cookie", b"io=abc"),
]


def _scope(kind: str = "http", query: bytes = b"EIO=4&transport=polling&sid=abc",
           headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    scope: dict[str, Any] = {"type": kind, "path": "/socket.io/", "query_string": query,
                             "headers": HEADERS if headers is None else headers}
    if kind == "http":
        scope["method"] = "POST"
    return scope


def _receiver(events: list[dict[str, Any]]) -> Any:
    remaining = list(events)

    async def receive() -> dict[str, Any]:
        return remaining.pop(0) if remaining else {"type": "http.disconnect"}

    return receive


async def _send(_message: dict[str, Any]) -> None:
    return None


async def _both(scope: dict[str, Any], events: list[dict[str, Any]]) -> tuple[Any, Any]:
    ours = await translate_request(scope, _receiver(events), _send)
    theirs = await engineio_asgi.translate_request(scope, _receiver(events), _send)
    return ours, theirs


def _comparable(environ: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in environ.items()
            if key not in ("wsgi.input", "asgi.receive")}  # per-call objects, compared below


CHUNKED = [{"type": "http.request", "body": b"42[\"sub", "more_body": True},
           {"type": "http.request", "body": b"scribe\"]", "more_body": True},
           {"type": "http.request", "body": b"", "more_body": False}]


@pytest.mark.parametrize("scope", [
    _scope(), _scope(query=b""), _scope(query=b"sid=\xff"), _scope(headers=[]),
    _scope(kind="websocket"),
], ids=["polling", "no-query", "query-not-utf8", "no-headers", "websocket"])
async def test_the_environ_is_engineios(scope: dict[str, Any]) -> None:
    first = {"type": "websocket.connect"} if scope["type"] == "websocket" else CHUNKED[0]
    ours, theirs = await _both(scope, [first, *CHUNKED[1:]])
    assert _comparable(ours) == _comparable(theirs)
    assert ours["wsgi.url_scheme"] == ("https" if scope["headers"] else "http")


async def test_a_request_that_does_not_open_gets_no_environ() -> None:
    ours, theirs = await _both(_scope(), [{"type": "http.disconnect"}])
    assert ours == theirs == {}


@pytest.mark.parametrize("reads", [[None], [5, 5, 100, None], [3, None], [1000]],
                         ids=["all", "in-pieces", "some-then-rest", "more-than-there-is"])
@pytest.mark.parametrize("events", [CHUNKED, [{"type": "http.request", "body": b"40"}],
                                    [{"type": "http.request"}]],
                         ids=["chunked", "one-event", "no-body"])
async def test_the_body_reads_as_engineios(reads: list[int | None],
                                           events: list[dict[str, Any]]) -> None:
    ours, theirs = await _both(_scope(), events)
    for length in reads:
        assert await ours["wsgi.input"].read(length) == await theirs["wsgi.input"].read(length)


async def test_a_short_read_keeps_only_what_engineio_keeps() -> None:
    """engineio stops keeping the body once it has `length` bytes (it still receives the
    rest): a later read must not see more than engineio's would."""
    ours, theirs = await _both(_scope(), CHUNKED)
    assert await ours["wsgi.input"].read(3) == await theirs["wsgi.input"].read(3)
    assert await ours["wsgi.input"].read() == await theirs["wsgi.input"].read()
