"""What browsers are told about everything the notifier serves: security headers, caching, and
which other origins may use it.

- Every HTTP response gets a strict Content-Security-Policy (no inline script or style, no
  framing, no <base>, no forms), nosniff, no referrer, a Permissions-Policy granting only what
  the dashboard uses, and a Cache-Control when the route set none: `no-cache` (revalidate)
  except for fingerprinted assets (`?v=<content hash>`), which never change and are cached
  for a year.
- Origins on purpose: the page's own origin is always allowed; others only when listed with
  `--allowed-origins` (`*` allows any). Credentials are never allowed cross-origin: the
  notifier uses no cookies, so an origin is never reflected together with credentials.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from alertflow.domain.origins import AllowedOrigins

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Only what the dashboard uses: sound (autoplay on its own page) and the position for "use my
# location" (its own origin only: no frame of another may ask; the page finds the area on the
# device and sends no position). Notifications are a permission prompt, not a policy feature.
PERMISSIONS_POLICY = ("accelerometer=(), autoplay=(self), camera=(), display-capture=(), "
                      "geolocation=(self), gyroscope=(), magnetometer=(), microphone=(), midi=(), "
                      "payment=(), usb=()")
IMMUTABLE = "public, max-age=31536000, immutable"


def content_security_policy(host: str | None) -> str:
    # `'self'` covers ws:/wss: to the same host in CSP 3; listed too for older browsers.
    sockets = f" ws://{host} wss://{host}" if host else ""
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self'{sockets}; font-src 'self'; object-src 'none'; "
            "worker-src 'self'; manifest-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
            "form-action 'none'")


def _safe_host(value: str | None) -> str | None:
    """The Host header, only if it is a plain host[:port] (it is echoed into the CSP)."""
    if not value or len(value) > 255:
        return None
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]")
    return value if all(char in allowed for char in value) else None


_ASSET_SUFFIXES = (".js", ".mjs", ".css", ".svg", ".png", ".ico", ".woff2", ".webmanifest")


def _is_fingerprinted(scope: Scope) -> bool:
    """A static asset asked for by content hash (`?v=…`, as the page links them)."""
    if scope.get("method") not in ("GET", "HEAD"):
        return False
    query = scope.get("query_string", b"").split(b"&")
    return (any(part.startswith(b"v=") and len(part) > 2 for part in query)
            and str(scope.get("path", "")).endswith(_ASSET_SUFFIXES))


def security_headers(app: ASGIApp) -> ASGIApp:
    """`app` with the headers above on every HTTP response (a route's own values win)."""

    async def with_headers(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        host = _safe_host(Headers(scope=scope).get("host"))
        fingerprinted = _is_fingerprinted(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", content_security_policy(host))
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                ok = message["status"] < 400
                headers.setdefault("Cache-Control",
                                   IMMUTABLE if fingerprinted and ok else "no-cache")
            await send(message)

        await app(scope, receive, send_with_headers)

    return with_headers


def cors_middleware(allowed: AllowedOrigins) -> list[Middleware]:
    """CORS for the HTTP API (read-only GETs): listed origins, or any with `*`; never with
    credentials. None at all by default: same-origin pages need none."""
    if not allowed.any and not allowed.origins:
        return []
    return [Middleware(CORSMiddleware, allow_origins=["*"] if allowed.any
                       else list(allowed.origins), allow_methods=["GET", "HEAD"],
                       allow_credentials=False, max_age=600)]
