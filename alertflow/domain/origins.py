"""Which browser origins, besides the page's own, may use the notifier (`--allowed-origins`).

Pure: parsing the setting and deciding for one origin; the HTTP side is alertflow.http_security.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class AllowedOrigins:
    """Origins other than the page's own that may call the notifier from a browser."""

    origins: tuple[str, ...] = ()
    any: bool = False

    @classmethod
    def parse(cls, text: str) -> AllowedOrigins:
        """`` (own origin only), `*` (any), or a comma-separated list of scheme://host[:port]."""
        items = [item.strip() for item in text.split(",") if item.strip()]
        if "*" in items:
            if len(items) > 1:
                raise ValueError("'*' allows every origin: give it alone")
            return cls(any=True)
        origins = []
        for item in items:
            parts = urlsplit(item)
            if (parts.scheme not in ("http", "https") or not parts.hostname
                    or parts.path not in ("", "/") or parts.query or parts.fragment
                    or parts.username or parts.password):
                raise ValueError(f"{item!r}: an origin is scheme://host[:port], e.g. "
                                 "https://app.example.org")
            origins.append(f"{parts.scheme}://{parts.netloc.lower()}")
        return cls(tuple(dict.fromkeys(origins)))

    def allows(self, origin: str, own: str | None) -> bool:
        return self.any or origin == own or origin in self.origins

    def socketio_rule(self) -> Callable[[str, dict[str, Any]], bool]:
        """python-socketio's `cors_allowed_origins`: checked on polling and websocket alike."""

        def allowed(origin: str, environ: dict[str, Any]) -> bool:
            host = environ.get("HTTP_HOST")
            own = f"{environ.get('wsgi.url_scheme', 'http')}://{host}" if host else None
            return self.allows(origin, own) or _forwarded_origin(environ) == origin

        return allowed


def _forwarded_origin(environ: dict[str, Any]) -> str | None:
    """The page's origin as a TLS-terminating proxy saw it (X-Forwarded-Proto/Host)."""
    proto = environ.get("HTTP_X_FORWARDED_PROTO")
    if not proto:
        return None
    host = environ.get("HTTP_X_FORWARDED_HOST") or environ.get("HTTP_HOST")
    return f"{proto.split(',')[0].strip()}://{host.split(',')[0].strip()}" if host else None
