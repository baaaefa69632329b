"""Web Push subscription validation and message building (pure: alertflow.domain.push*)."""

from __future__ import annotations

import base64
import json

import pytest

from alertflow.domain.locations import Catalog
from alertflow.domain.push import (
    PushRequestError,
    check_endpoint,
    client_address,
    parse_endpoint_only,
    parse_push_subscription,
    redact,
    refuse_address,
)
from alertflow.domain.push_messages import (
    ALL_CLEAR,
    EARLY_WARNING,
    OPEN,
    Notice,
    build_message,
    claim_suffix,
    phase,
)

P256DH = base64.urlsafe_b64encode(b"\x04" + b"\x11" * 64).decode().rstrip("=")
AUTH = base64.urlsafe_b64encode(b"\x22" * 16).decode().rstrip("=")
ENDPOINT = "https://fcm.googleapis.com/fcm/send/abc123"


def body(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "subscription": {"endpoint": ENDPOINT, "keys": {"p256dh": P256DH, "auth": AUTH}},
        "locations": ["a1"], "zones": [], "lang": "he",
    }
    data.update(overrides)
    return data


def with_endpoint(endpoint: str) -> dict[str, object]:
    return body(subscription={"endpoint": endpoint, "keys": {"p256dh": P256DH, "auth": AUTH}})


def test_a_valid_subscription_parses() -> None:
    sub = parse_push_subscription(body(), Catalog.empty())
    assert (sub.endpoint, sub.locations, sub.lang) == (ENDPOINT, frozenset({"a1"}), "he")
    assert sub.wants({"location": "a1"}) and not sub.wants({"location": "a2"})
    # The same browser subscribing again is the same subscription (an update).
    assert parse_push_subscription(body(locations=["a2"]), Catalog.empty()).id == sub.id


@pytest.mark.parametrize(("endpoint", "why"), [
    ("http://push.example.com/x", "https"),
    ("https://localhost/x", "local"),
    ("https://push.localhost/x", "local"),
    ("https://127.0.0.1/x", "loopback"),
    ("https://127.8.9.10:8443/x", "loopback"),
    ("https://[::1]/x", "loopback"),
    ("https://10.1.2.3/x", "private"),
    ("https://192.168.0.1/x", "private"),
    ("https://172.16.5.5/x", "private"),
    ("https://169.254.169.254/latest/meta-data", "link-local"),
    ("https://[fe80::1]/x", "link-local"),
    ("https://[::ffff:10.0.0.1]/x", "private"),
    ("https://0.0.0.0/x", "address"),
    ("https://100.64.0.1/x", "address"),  # carrier-grade NAT: not public
    ("https://224.0.0.1/x", "multicast"),
    ("https://user:pw@push.example.com/x", "credentials"),
    ("https://intranet/x", "public name"),
    ("https://push.example.com:99999/x", "valid URL"),
    ("", "non-empty"),
])
def test_non_public_endpoints_are_refused_naming_why(endpoint: str, why: str) -> None:
    with pytest.raises(PushRequestError) as refused:
        parse_push_subscription(with_endpoint(endpoint), Catalog.empty())
    assert refused.value.field == "$.subscription.endpoint"
    assert why in refused.value.reason


def test_host_names_are_left_for_send_time_and_public_literals_pass() -> None:
    # No DNS when subscribing: a name is accepted as text and checked before each send.
    assert check_endpoint("https://updates.push.services.mozilla.com/wpush/v2/x")
    assert check_endpoint("https://8.8.8.8/x")
    assert check_endpoint("https://[2001:4860:4860::8888]/x")


def test_the_test_only_origin_admits_exactly_that_origin() -> None:
    allowed = frozenset({"http://127.0.0.1:9999"})
    assert check_endpoint("http://127.0.0.1:9999/push/t", allowed)
    for other in ("http://127.0.0.1:9998/push/t", "https://127.0.0.1:9999/push/t"):
        with pytest.raises(PushRequestError):
            check_endpoint(other, allowed)


@pytest.mark.parametrize(("address", "refused"), [
    ("8.8.8.8", None), ("127.0.0.1", "loopback"), ("10.0.0.8", "private"),
    ("169.254.1.1", "link-local"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
    ("100.64.1.1", "not a public address"), ("2606:4700::1111", None),
])
def test_addresses_resolved_at_send_time_are_checked(address: str, refused: str | None) -> None:
    result = refuse_address(address)
    assert (result is None) if refused is None else (refused in (result or ""))


@pytest.mark.parametrize(("keys", "field", "why"), [
    ({"p256dh": P256DH}, "auth", "base64url"),
    ({"p256dh": P256DH, "auth": AUTH[:-4]}, "auth", "16 bytes"),
    ({"p256dh": P256DH[:-8], "auth": AUTH}, "p256dh", "65 bytes"),
    ({"p256dh": base64.urlsafe_b64encode(b"\x02" + b"\x11" * 64).decode(), "auth": AUTH},
     "p256dh", "uncompressed"),
    ({"p256dh": "!!!not base64!!!", "auth": AUTH}, "p256dh", "base64url"),
])
def test_key_lengths_are_checked(keys: dict[str, str], field: str, why: str) -> None:
    with pytest.raises(PushRequestError) as refused:
        parse_push_subscription(body(subscription={"endpoint": ENDPOINT, "keys": keys}),
                                Catalog.empty())
    assert refused.value.field == f"$.subscription.keys.{field}"
    assert why in refused.value.reason


@pytest.mark.parametrize(("overrides", "field"), [
    ({"locations": [], "zones": []}, "$.locations"),
    ({"locations": "a1"}, "$.locations"),
    ({"locations": ["x"] * 201}, "$.locations"),
    ({"lang": "fr"}, "$.lang"),
    ({"extra": 1}, "$.extra"),
    ({"subscription": "x"}, "$.subscription"),
])
def test_bad_bodies_name_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(PushRequestError) as refused:
        parse_push_subscription(body(**overrides), Catalog.empty())
    assert refused.value.field == field


def test_names_resolve_through_the_catalog() -> None:
    catalog = Catalog.from_records([{
        "id": "1", "name": {"he": "אשקלון", "en": "Ashkelon"},
        "zone": {"he": "לכיש", "en": "Lachish"},
        "shelter_seconds": 30, "lat": 31.6, "lng": 34.5}])
    sub = parse_push_subscription(body(locations=["ashkelon"], zones=["Lachish"]), catalog)
    assert (sub.locations, sub.zones) == (frozenset({"1"}), frozenset({"לכיש"}))
    with pytest.raises(PushRequestError, match="unknown location"):
        parse_push_subscription(body(locations=["Atlantis"]), catalog)


def test_delete_needs_only_the_endpoint_and_logs_never_show_it() -> None:
    assert parse_endpoint_only({"subscription": {"endpoint": ENDPOINT}}) == ENDPOINT
    assert parse_endpoint_only({"endpoint": ENDPOINT}) == ENDPOINT
    assert "abc123" not in redact(ENDPOINT) and "fcm.googleapis.com" in redact(ENDPOINT)


def event(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "seq": 1, "kind": "open", "reason": "alert", "location": "a1", "incident_id": "5",
        "names": {"he": "א", "en": "Alpha"}, "zone": "z", "zone_names": {"en": "Zed"},
        "shelter_seconds": 90, "type": "missiles", "category": "missiles",
        "started_at": 1_000, "ends_at": 100_000,
    }
    base.update(fields)
    return base


def test_which_events_wake_a_phone() -> None:
    assert phase(event()) == OPEN
    assert phase(event(category="early_warning")) == EARLY_WARNING
    assert phase(event(kind="close", reason="cancelled")) == ALL_CLEAR
    assert phase(event(kind="close", reason="expired")) is None
    assert phase(event(late=True)) is None
    assert claim_suffix(event()) == "5:open"


def test_one_coalesced_message_per_subscriber() -> None:
    notices = [Notice(f"{i}:open", OPEN, event(location=f"a{i}", incident_id=str(i),
                                                shelter_seconds=90 - i, ends_at=61_000))
               for i in range(1, 4)]
    message = build_message(notices, "en", now_ms=1_000)
    assert message is not None
    payload = json.loads(message.payload)
    assert [item["location"] for item in payload["items"]] == ["a3", "a2", "a1"]  # most urgent
    assert payload["items"][0]["name"] == "Alpha" and payload["items"][0]["zone"] == "Zed"
    assert payload["tag"] == "alertflow-1" and payload["more"] == 0
    assert message.ttl_s == 60  # what is left of the window
    assert message.claims == ("1:open", "2:open", "3:open")
    assert len(message.topic) <= 32
    # A resend of the same notices is the same RFC 8030 topic (the push service replaces it).
    again = build_message(list(reversed(notices)), "en", now_ms=2_000)
    assert again is not None and again.topic == message.topic


def test_ended_windows_wake_nobody_and_big_barrages_fit_in_a_push() -> None:
    assert build_message([Notice("1:open", OPEN, event(ends_at=500))], "en", 1_000) is None
    many = [Notice(f"{i}:open", OPEN, event(location=f"a{i}", incident_id=str(i),
                                            names={"en": "N" * 120}, ends_at=61_000))
            for i in range(100)]
    message = build_message(many, "en", 1_000)
    assert message is not None and len(message.payload) <= 3800
    payload = json.loads(message.payload)
    assert len(payload["items"]) + payload["more"] == 100
    assert len(message.claims) == 100  # every notice is settled by this one message


def test_the_client_address_behind_trusted_proxies() -> None:
    assert client_address("10.0.0.5", None, 1) == "10.0.0.5"
    assert client_address("10.0.0.5", "203.0.113.7", 0) == "10.0.0.5"  # proxies not trusted
    assert client_address("10.0.0.5", "203.0.113.7", 1) == "203.0.113.7"
    # What the client wrote itself (left of the trusted hops) is ignored.
    assert client_address("10.0.0.5", "1.2.3.4, 203.0.113.7", 1) == "203.0.113.7"
    assert client_address("10.0.0.5", "junk", 1) == "10.0.0.5"
    assert client_address("10.0.0.5", "203.0.113.7", 2) == "10.0.0.5"
