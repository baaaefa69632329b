"""The push sender against the local push service on 127.0.0.1 (VAPID checked, decrypted)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import pytest
from py_vapid import Vapid02

from alertflow.domain.locations import Catalog
from alertflow.domain.push import PushSubscription, parse_push_subscription
from alertflow.domain.push_messages import OPEN, Message, Notice, build_message
from alertflow.local_push_service import LocalPushService
from alertflow.push.sender import GAVE_UP, GONE, REJECTED, SENT, PushSender, SenderConfig
from alertflow.push.vapid import VapidSigner


@pytest.fixture
async def service() -> AsyncIterator[LocalPushService]:
    running = LocalPushService()
    await running.start()
    yield running
    await running.stop()


def signer() -> VapidSigner:
    vapid = Vapid02()
    vapid.generate_keys()
    return VapidSigner(vapid, "mailto:tests@example.com")


def subscribe(service: LocalPushService, key: str) -> PushSubscription:
    return parse_push_subscription(
        {"subscription": service.subscribe(key), "locations": ["a"], "lang": "en"},
        Catalog.empty(), frozenset({service.origin}))


def message() -> Message:
    now = int(time.time() * 1000)
    event = {"kind": "open", "location": "a", "incident_id": "9", "names": {"en": "Alpha"},
             "ends_at": now + 60_000, "shelter_seconds": 15, "type": "missiles", "seq": 1}
    built = build_message([Notice("9:open", OPEN, event)], "en", now)
    assert built is not None
    return built


async def test_a_push_arrives_encrypted_signed_and_urgent(service: LocalPushService) -> None:
    keys = signer()
    sub = subscribe(service, keys.public_key)
    sender = PushSender(keys, SenderConfig(test_origins=frozenset({service.origin})))
    try:
        assert await sender.send(sub, message()) == SENT
    finally:
        await sender.close()
    assert service.problems == []
    [pushed] = service.mailbox(sub.endpoint)
    assert pushed.payload["items"][0]["name"] == "Alpha"
    assert pushed.urgency == "high" and 55 <= pushed.ttl <= 60 and pushed.topic


async def test_retries_gone_refused_and_giving_up(service: LocalPushService) -> None:
    keys = signer()
    sub = subscribe(service, keys.public_key)
    sender = PushSender(keys, SenderConfig(test_origins=frozenset({service.origin}),
                                           max_retry_s=2))
    try:
        service.fail_next(2, 429, "0")
        assert await sender.send(sub, message()) == SENT
        service.fail_next(1, 503)
        assert await sender.send(sub, message()) == SENT
        assert (service.statuses[429], service.statuses[503], service.statuses[201]) == (2, 1, 2)
        service.fail_next(1000, 500)
        assert await sender.send(sub, message()) == GAVE_UP
        service.fail_next(0, 500)
        service.set_status(sub.endpoint, 400)
        assert await sender.send(sub, message()) == REJECTED
        for status in (404, 410):
            service.set_status(sub.endpoint, status)
            assert await sender.send(sub, message()) == GONE
    finally:
        await sender.close()


async def test_a_push_signed_with_another_key_is_refused(service: LocalPushService) -> None:
    sub = subscribe(service, signer().public_key)
    sender = PushSender(signer(), SenderConfig(test_origins=frozenset({service.origin})))
    try:
        assert await sender.send(sub, message()) == REJECTED
    finally:
        await sender.close()
    assert service.problems == ["k is not the key the subscription was made with"]


async def test_a_name_that_resolves_inside_is_never_connected_to(
        service: LocalPushService) -> None:
    # As if a public-looking name had been rebound to 127.0.0.1 after subscribing: the check
    # runs on the addresses the connection would use, at send time.
    keys = signer()
    good = subscribe(service, keys.public_key)
    rebound = PushSubscription(good.id, f"https://localhost:{service.port}/push/x", good.p256dh,
                               good.auth, good.locations, good.zones, good.lang)
    sender = PushSender(keys, SenderConfig())
    try:
        assert await sender.send(rebound, message()) == GONE
    finally:
        await sender.close()
    assert sum(service.statuses.values()) == 0
    assert json.loads(message().payload)["tag"] == "alertflow-9"
