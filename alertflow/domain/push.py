"""Web Push subscriptions (RFC 8030/8291): validation and the rules for where pushes may go.

Pure: no sockets, no DNS. An endpoint is a capability URL the browser got from its push service;
the server will POST to it, so it is checked as an outbound destination (no loopback, private,
link-local or otherwise non-public address). Literal addresses are refused when subscribing;
host names are resolved and checked again right before each send (the sender calls
`refuse_address`), so a name that later points inside the network (DNS rebinding) is not reached.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from alertflow.domain.locations import Catalog

MAX_ENDPOINT_CHARS = 2048
MAX_LOCATIONS = 200
MAX_ZONES = 50
LANGUAGES = ("he", "en", "ru", "ar")
P256DH_BYTES = 65  # an uncompressed P-256 point: 0x04 || X || Y (RFC 8291 §3.1)
AUTH_BYTES = 16  # the auth secret (RFC 8291 §3.2)


@dataclass(frozen=True, slots=True)
class PushRequestError(Exception):
    """A subscription request that cannot be accepted; `field` is a JSON path."""

    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class PushSubscription:
    id: str  # derived from the endpoint: subscribing the same browser again updates it
    endpoint: str
    p256dh: str
    auth: str
    locations: frozenset[str]
    zones: frozenset[str]
    lang: str

    def wants(self, event: Mapping[str, Any]) -> bool:
        return event.get("location") in self.locations or event.get("zone") in self.zones


def subscription_id(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()[:32]


def redact(endpoint: str) -> str:
    """What logs may show of an endpoint (a capability): its origin and a short digest."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.hostname}/…#{subscription_id(endpoint)[:8]}"


def client_address(peer: str, forwarded_for: str | None, trusted_hops: int) -> str:
    """The address a subscription request came from, for the per-address limit.

    Behind `trusted_hops` proxies that each append the address they saw to X-Forwarded-For
    (ingress-nginx: 1), the client is that many entries from the right; anything further left
    was written by the client and is not trusted. Without proxies: the peer.
    """
    if trusted_hops <= 0 or not forwarded_for:
        return peer
    hops = [part.strip() for part in forwarded_for.split(",") if part.strip()]
    if len(hops) < trusted_hops:
        return peer
    candidate = hops[-trusted_hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return peer


def origin(endpoint: str) -> str:
    """scheme://host[:port] — one connection pool and one VAPID `aud` per push service."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


def refuse_address(address: str) -> str | None:
    """Why a push must not go to this IP address, or None when it is a public one."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # Most specific first: link-local and loopback ranges count as "private" too.
    for reason, flag in (("loopback", ip.is_loopback), ("link-local", ip.is_link_local),
                         ("unspecified", ip.is_unspecified), ("multicast", ip.is_multicast),
                         ("private", ip.is_private), ("reserved", ip.is_reserved)):
        if flag:
            return f"{reason} address"
    if not ip.is_global:
        return "not a public address"
    return None


def check_endpoint(endpoint: Any, test_origins: frozenset[str] = frozenset()) -> str:
    """The endpoint if it may be subscribed; raises PushRequestError naming why not.

    `test_origins` (a test-only setting) admits exact origins such as the local push service's
    `http://127.0.0.1:PORT`, which every other rule would refuse.
    """
    field = "$.subscription.endpoint"
    if not isinstance(endpoint, str) or not endpoint:
        raise PushRequestError(field, "endpoint must be a non-empty string")
    if len(endpoint) > MAX_ENDPOINT_CHARS:
        raise PushRequestError(field, f"endpoint longer than {MAX_ENDPOINT_CHARS} characters")
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise PushRequestError(field, "endpoint is not a valid URL") from None
    if origin(endpoint) in test_origins:
        return endpoint
    if parts.scheme != "https":
        raise PushRequestError(field, "endpoint must be an https URL")
    if not host:
        raise PushRequestError(field, "endpoint has no host")
    if parts.username is not None or parts.password is not None:
        raise PushRequestError(field, "endpoint must not carry credentials")
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise PushRequestError(field, f"endpoint host {host!r} is local, not a push service")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if "." not in host:
            raise PushRequestError(field, f"endpoint host {host!r} is not a public name") from None
        return endpoint  # a name: resolved and checked at send time, never here
    why = refuse_address(host)
    if why:
        raise PushRequestError(field, f"endpoint host {host} is a {why}")
    return endpoint


def _key(keys: Mapping[str, Any], name: str, size: int) -> str:
    field = f"$.subscription.keys.{name}"
    value = keys.get(name)
    if not isinstance(value, str) or not value or len(value) > 200:
        raise PushRequestError(field, f"{name} must be a base64url string")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise PushRequestError(field, f"{name} is not base64url") from None
    if len(raw) != size:
        raise PushRequestError(field, f"{name} must decode to {size} bytes, not {len(raw)}")
    if name == "p256dh" and raw[0] != 4:
        raise PushRequestError(field, "p256dh must be an uncompressed P-256 point (0x04…)")
    return value.rstrip("=")


def _names(body: Mapping[str, Any], name: str, limit: int) -> list[str]:
    value = body.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise PushRequestError(f"$.{name}", f"{name} must be a list of names")
    if len(value) > limit:
        raise PushRequestError(f"$.{name}", f"at most {limit} {name}")
    return value


def parse_endpoint_only(body: Any, test_origins: frozenset[str] = frozenset()) -> str:
    """The endpoint of a DELETE body `{subscription: {endpoint}}` or `{endpoint}`."""
    if not isinstance(body, dict):
        raise PushRequestError("$", "expected an object with subscription.endpoint")
    inner = body.get("subscription", body)
    if not isinstance(inner, dict):
        raise PushRequestError("$.subscription", "expected an object")
    return check_endpoint(inner.get("endpoint"), test_origins)


def parse_push_subscription(
    body: Any, catalog: Catalog, test_origins: frozenset[str] = frozenset(),
) -> PushSubscription:
    """`{subscription: {endpoint, keys: {p256dh, auth}}, locations, zones, lang}`, validated."""
    if not isinstance(body, dict):
        raise PushRequestError("$", "expected an object: {subscription, locations, zones, lang}")
    unknown = set(body) - {"subscription", "locations", "zones", "lang"}
    if unknown:
        raise PushRequestError(f"$.{sorted(unknown)[0]}", "unknown field")
    inner = body.get("subscription")
    if not isinstance(inner, dict):
        raise PushRequestError("$.subscription", "expected {endpoint, keys: {p256dh, auth}}")
    endpoint = check_endpoint(inner.get("endpoint"), test_origins)
    keys = inner.get("keys")
    if not isinstance(keys, dict):
        raise PushRequestError("$.subscription.keys", "expected {p256dh, auth}")
    p256dh, auth = _key(keys, "p256dh", P256DH_BYTES), _key(keys, "auth", AUTH_BYTES)
    locations: set[str] = set()
    for name in _names(body, "locations", MAX_LOCATIONS):
        if not len(catalog):
            locations.add(name)
            continue
        # As sources and clients name places: a city's (or a former area's) name subscribes to
        # every area that covers it now.
        resolved = catalog.resolve_name(name)
        if not resolved.found:
            raise PushRequestError("$.locations", f"{resolved.how} location {name[:80]!r}")
        locations.update(resolved.areas)
    if len(locations) > MAX_LOCATIONS:
        raise PushRequestError("$.locations", f"at most {MAX_LOCATIONS} locations in all")
    zones: set[str] = set()
    for name in _names(body, "zones", MAX_ZONES):
        zone = catalog.resolve_zone(name) if len(catalog) else name
        if zone is None:
            areas = catalog.former_zone_areas(name)
            if not areas or len(locations) + len(areas) > MAX_LOCATIONS:
                raise PushRequestError("$.zones", f"unknown zone {name[:80]!r}")
            locations.update(areas)
            continue
        zones.add(zone)
    if not locations and not zones:
        # A phone woken for every alert in the country would learn to ignore them.
        raise PushRequestError("$.locations", "name at least one location or zone")
    lang = body.get("lang", "en")
    if lang not in LANGUAGES:
        raise PushRequestError("$.lang", f"lang must be one of {', '.join(LANGUAGES)}")
    return PushSubscription(subscription_id(endpoint), endpoint, p256dh, auth,
                            frozenset(locations), frozenset(zones), lang)
