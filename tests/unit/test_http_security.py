"""Security headers, caching and the origin rule, on a small ASGI app (the notifier's own
routes are checked end to end in tests/e2e/test_hardening.py)."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from alertflow.domain.origins import AllowedOrigins
from alertflow.http_security import content_security_policy, security_headers


async def _text(_request: object) -> Response:
    return PlainTextResponse("ok")


async def _cached(_request: object) -> Response:
    return PlainTextResponse("ok", headers={"Cache-Control": "public, max-age=60"})


def _client() -> httpx.AsyncClient:
    app = Starlette(routes=[Route("/", _text), Route("/app.js", _text),
                            Route("/v1/events", _text), Route("/v1/locations", _cached)])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=security_headers(app)),
                             base_url="http://alerts.example:8000")


async def test_every_response_carries_the_headers_and_a_strict_policy() -> None:
    async with _client() as client:
        for path in ("/", "/app.js", "/v1/events", "/v1/locations", "/missing"):
            response = await client.get(path)
            headers = response.headers
            assert headers["x-content-type-options"] == "nosniff", path
            assert headers["referrer-policy"] == "no-referrer"
            assert headers["x-frame-options"] == "DENY"
            # "Use my location": the dashboard's own origin may ask, no other (no frame).
            features = dict(part.strip().split("=", 1)
                            for part in headers["permissions-policy"].split(","))
            assert features["geolocation"] == "(self)"
            assert features["camera"] == features["microphone"] == "()"
            policy = dict(part.strip().split(" ", 1)
                          for part in headers["content-security-policy"].split(";"))
            assert policy["default-src"] == policy["script-src"] == policy["style-src"] \
                == "'self'"
            assert "unsafe" not in headers["content-security-policy"]
            assert policy["frame-ancestors"] == policy["base-uri"] == policy["form-action"] \
                == "'none'"
            assert policy["connect-src"] == \
                "'self' ws://alerts.example:8000 wss://alerts.example:8000"


async def test_the_page_revalidates_fingerprinted_assets_are_immutable_routes_keep_theirs(
) -> None:
    async with _client() as client:
        assert (await client.get("/")).headers["cache-control"] == "no-cache"
        assert (await client.get("/app.js")).headers["cache-control"] == "no-cache"
        assert (await client.get("/app.js?v=3f2a9c")).headers["cache-control"] == \
            "public, max-age=31536000, immutable"
        # Only assets: an API route asked with ?v= is not frozen in caches for a year.
        assert (await client.get("/v1/events?v=1")).headers["cache-control"] == "no-cache"
        assert (await client.get("/v1/locations")).headers["cache-control"] == \
            "public, max-age=60"


async def test_a_hostile_host_header_never_reaches_the_policy() -> None:
    async with _client() as client:
        response = await client.get("/", headers={"Host": "x; script-src *"})
    assert "script-src *" not in response.headers["content-security-policy"]
    assert response.headers["content-security-policy"] == content_security_policy(None)


def test_origins_are_parsed_strictly() -> None:
    assert AllowedOrigins.parse("") == AllowedOrigins()
    assert AllowedOrigins.parse("*").any
    assert AllowedOrigins.parse(" https://App.example.org , http://localhost:3000/").origins \
        == ("https://app.example.org", "http://localhost:3000")
    for bad in ("app.example.org", "https://x/path", "ftp://x", "*,https://x",
                "https://user:pw@x", "https://x?q=1"):
        with pytest.raises(ValueError):
            AllowedOrigins.parse(bad)


def test_the_socketio_rule_allows_own_origin_listed_ones_and_nothing_else() -> None:
    environ = {"HTTP_HOST": "alerts.example", "wsgi.url_scheme": "http"}
    own_only = AllowedOrigins.parse("").socketio_rule()
    assert own_only("http://alerts.example", environ)
    assert not own_only("https://evil.example", environ)
    assert not own_only("https://alerts.example", environ)  # another scheme: another origin
    behind_tls = {**environ, "HTTP_X_FORWARDED_PROTO": "https"}
    assert own_only("https://alerts.example", behind_tls)
    listed = AllowedOrigins.parse("https://app.example.org").socketio_rule()
    assert listed("https://app.example.org", environ) and listed("http://alerts.example",
                                                                  environ)
    assert not listed("https://app.example.org.evil.example", environ)
    assert AllowedOrigins.parse("*").socketio_rule()("https://anything.example", environ)
