"""Issue 15: what browsers are told by every route the notifier serves (real CLI roles), and
origins on purpose: the page's own, those listed with --allowed-origins, no one else; never an
origin reflected with credentials."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Iterator

import aiohttp
import pytest

from tests.conftest import free_port
from tests.support import Role, forget_run, wait_ready

pytestmark = pytest.mark.e2e

APP = "https://app.example.org"
EVIL = "https://evil.example"


@pytest.fixture(scope="module")
def notifier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tests.conftest import AMQP_URL, REDIS_URL, require_service

    require_service("Redis", REDIS_URL, 6379)
    port = free_port()
    role = Role("notifier", ["notify", "--redis-url", REDIS_URL, "--key-prefix",
                             f"sec{port}", "--port", str(port), "--allowed-origins", APP],
                tmp_path_factory.mktemp("notifier"))
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, role)
    yield url
    role.terminate()
    forget_run(AMQP_URL, REDIS_URL, f"sec{port}")  # the keys it made (epoch, replication id)


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    role = Role("dev", ["dev", "--port", str(port), "--log-format", "json"],
                tmp_path_factory.mktemp("dev"),
                drop_env=("ALERTFLOW_AMQP_URL", "ALERTFLOW_REDIS_URL"))
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, role)
    yield url
    role.terminate()


def fetch(url: str, headers: dict[str, str] | None = None,
          method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, \
                response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def assets(base: str) -> list[str]:
    """Every script, stylesheet and icon the page links, as the page names them."""
    _, _, page = fetch(base + "/")
    return re.findall(r'(?:src|href)="([^"#]+)"', page.decode())


def check_headers(path: str, headers: dict[str, str]) -> None:
    policy = headers.get("content-security-policy", "")
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives.get("default-src") == "'self'", (path, policy)
    assert directives.get("script-src") == "'self'" and directives.get("style-src") == "'self'"
    assert directives.get("frame-ancestors") == "'none'", path
    assert directives.get("base-uri") == "'none'" and directives.get("form-action") == "'none'"
    assert directives.get("connect-src", "").startswith("'self'"), path
    assert headers.get("x-content-type-options") == "nosniff", path
    assert headers.get("referrer-policy") == "no-referrer", path
    assert headers.get("x-frame-options") == "DENY", path
    assert "camera=()" in headers.get("permissions-policy", ""), path
    assert headers.get("cache-control"), path


def test_every_route_carries_the_security_headers(notifier: str, dev: str) -> None:
    for base in (notifier, dev):
        linked = [link for link in assets(base) if not link.startswith(("http:", "https:"))]
        assert any(link.split("?")[0].endswith(".js") for link in linked), linked
        paths = ["/", "/index.html", *("/" + link.lstrip("/") for link in linked),
                 "/v1/locations", "/v1/events", "/healthz", "/readyz", "/metrics",
                 "/socket.io/?EIO=4&transport=polling", "/no-such-page"]
        for path in paths:
            status, headers, _ = fetch(base + path)
            assert status < 500, (path, status)
            check_headers(path, headers)
        # The page is revalidated on every load; what it links by content hash is immutable.
        assert fetch(base + "/")[1]["cache-control"] == "no-cache"
        for link in linked:
            status, headers, _ = fetch(base + "/" + link.lstrip("/"))
            assert status == 200, link
            if "?v=" in link:
                assert headers["cache-control"] == "public, max-age=31536000, immutable", link
    # dev serves the listener's routes on the same port: those carry them too.
    status, headers, _ = fetch(dev + "/openapi.json")
    assert status == 200
    check_headers("/openapi.json", headers)


async def test_socketio_accepts_its_own_and_listed_origins_never_others(notifier: str) -> None:
    ws_url = notifier.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    async with aiohttp.ClientSession() as session:
        # The page's own origin, a listed one, and no Origin at all (apps, servers).
        for headers in ({"Origin": notifier}, {"Origin": APP}, {}):
            async with session.ws_connect(ws_url, headers=headers) as ws:
                assert (await ws.receive(timeout=10)).data.startswith("0"), headers
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            async with session.ws_connect(ws_url, headers={"Origin": EVIL}):
                pass
    assert refused.value.status in (400, 403)  # the handshake is refused
    assert "access-control-allow-origin" not in {k.lower() for k in
                                                 (refused.value.headers or {})}


def test_socketio_polling_answers_cors_for_its_own_and_listed_origins_only(
    notifier: str,
) -> None:
    handshake = notifier + "/socket.io/?EIO=4&transport=polling"
    for origin in (notifier, APP):
        status, headers, _ = fetch(handshake, {"Origin": origin})
        assert status == 200, origin
        assert headers.get("access-control-allow-origin") == origin
        assert "access-control-allow-credentials" not in headers  # never with credentials
        check_headers("/socket.io/ (polling)", headers)
    status, headers, _ = fetch(handshake, {"Origin": EVIL})
    assert status == 400 and "access-control-allow-origin" not in headers
    assert fetch(handshake)[0] == 200  # no Origin: not a browser page


def test_the_http_api_answers_cors_for_listed_origins_only(notifier: str) -> None:
    for path in ("/v1/events", "/v1/locations"):
        status, headers, _ = fetch(notifier + path, {"Origin": APP})
        assert status == 200
        assert headers.get("access-control-allow-origin") == APP, path
        assert "access-control-allow-credentials" not in headers
        status, headers, _ = fetch(notifier + path, {"Origin": EVIL})
        assert "access-control-allow-origin" not in headers, path
    status, headers, _ = fetch(notifier + "/v1/events", {
        "Origin": APP, "Access-Control-Request-Method": "GET"}, method="OPTIONS")
    assert status == 200 and headers.get("access-control-allow-origin") == APP
    status, headers, _ = fetch(notifier + "/v1/events", {
        "Origin": EVIL, "Access-Control-Request-Method": "GET"}, method="OPTIONS")
    assert "access-control-allow-origin" not in headers


async def test_dev_allows_any_origin_but_never_with_credentials(dev: str) -> None:
    ws_url = dev.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    async with aiohttp.ClientSession() as session, \
            session.ws_connect(ws_url, headers={"Origin": EVIL}) as ws:
        assert (await ws.receive(timeout=10)).data.startswith("0")
    status, headers, _ = fetch(dev + "/socket.io/?EIO=4&transport=polling", {"Origin": EVIL})
    assert status == 200 and "access-control-allow-credentials" not in headers
    status, headers, _ = fetch(dev + "/v1/events", {"Origin": EVIL})
    assert status == 200 and headers.get("access-control-allow-origin") == "*"
    assert "access-control-allow-credentials" not in headers
