"""Web Push end to end: real RabbitMQ and Redis, the real CLI's roles, a local push service.

1,000 subscriptions over 40 real areas (some by zone), made through the notifier's
`POST /v1/push/subscriptions`; a barrage posted at the listener; the local push service checks
each request's VAPID JWT and decrypts its payload with the subscriber's private key. Every
matching subscriber must hear of each of its incidents exactly once and nobody else of any,
while the push service throttles (429 + Retry-After, then 503) or while a push role is killed
with SIGKILL mid-barrage and another takes over; subscriptions answered 410 are deleted.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import redis

from alertflow.catalog import load_catalog
from alertflow.domain.locations import Area
from alertflow.domain.push import subscription_id
from tests.e2e.conftest import alert_body
from tests.e2e.push_harness import PushRun, push_run  # noqa: F401 - the fixture
from tests.support import metrics

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

SUBSCRIBERS = 1_000
AREAS = 40
ALERTED = 24
GONE = 40  # subscriptions whose push service answers 410
LANGS = ("he", "en", "ru", "ar")


@dataclass
class Subscriber:
    subscription: dict[str, Any]
    locations: list[str]
    zones: list[str]
    lang: str


def plan(areas: list[Area], rng: random.Random) -> list[Subscriber]:
    zones = sorted({area.zone for area in areas})
    subscribers = []
    for index in range(SUBSCRIBERS):
        by_zone = index % 10 == 0  # a tenth follow a whole zone
        locations = [] if by_zone else [a.id for a in rng.sample(areas, rng.randint(1, 3))]
        subscribers.append(Subscriber({}, locations, [rng.choice(zones)] if by_zone else [],
                                      rng.choice(LANGS)))
    return subscribers


async def subscribe_all(run: PushRun, subscribers: list[Subscriber]) -> None:
    url = run.pipeline.notifier_urls[0] + "/v1/push/subscriptions"
    limit = asyncio.Semaphore(16)
    async with aiohttp.ClientSession() as session:
        assert (await (await session.get(run.pipeline.notifier_urls[0] + "/v1/push/key")).json()
                ) == {"publicKey": run.public_key}

        async def one(sub: Subscriber) -> None:
            body = {"subscription": sub.subscription, "locations": sub.locations,
                    "zones": sub.zones, "lang": sub.lang}
            async with limit, session.post(url, json=body) as response:
                assert response.status == 201, await response.text()

        await asyncio.gather(*(one(sub) for sub in subscribers))


def expected_areas(sub: Subscriber, alerted: list[Area]) -> set[str]:
    return {a.id for a in alerted if a.id in sub.locations or a.zone in sub.zones}


async def wait_for(condition: Any, timeout: float, what: str, run: PushRun) -> None:
    deadline = time.monotonic() + timeout
    while not run.threaded.call(condition):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} after {timeout} s\n{run.pipeline.logs()}")
        await asyncio.sleep(0.2)


@pytest.mark.parametrize("fault", ["throttled", "killed"])
async def test_a_barrage_reaches_each_matching_phone_once(
        push_run: PushRun, fault: str) -> None:  # noqa: F811 - the imported fixture
    run, service = push_run, push_run.service
    catalog = load_catalog()
    rng = random.Random(14)
    areas = rng.sample([a for a in catalog.areas.values() if a.names.get("en")], AREAS)
    subscribers = plan(areas, rng)
    for sub in subscribers:
        sub.subscription = run.threaded.call(service.subscribe, run.public_key)
    await subscribe_all(run, subscribers)
    gone = subscribers[1:1 + GONE]
    for sub in gone:
        run.threaded.call(service.set_status, sub.subscription["endpoint"], 410)

    if fault == "throttled":
        run.start_push_role("push0")
        run.start_push_role("push1")
        # The push service refuses the first 150 pushes with 429 + Retry-After, the next 100
        # with 503: everything must still arrive, once.
        run.threaded.call(service.fail_next, 150, 429, "1")
    else:
        victim = run.start_push_role("push0")
        service.delay_s = 0.05  # slow enough that the victim is killed mid-barrage

    alerted = areas[:ALERTED]
    barrage = [alert_body([a.id for a in alerted[i:i + 4]], duration_s=300)
               for i in range(0, ALERTED, 4)]
    status, answer = await run.pipeline.post(barrage)
    assert status == 202, answer

    expected = {sub.subscription["endpoint"]: expected_areas(sub, alerted)
                for sub in subscribers if sub not in gone}
    matching = {endpoint for endpoint, areas_ in expected.items() if areas_}
    assert 300 < len(matching) < SUBSCRIBERS - GONE  # the plan has both kinds of subscriber

    if fault == "throttled":
        await wait_for(lambda: service.statuses[429] >= 150, 30, "no 429s answered", run)
        run.threaded.call(service.fail_next, 100, 503)
    else:
        await wait_for(lambda: len(service.accepted) >= 60, 60, "no pushes", run)
        victim.kill()  # SIGKILL, mid-barrage
        killed_at = run.threaded.call(lambda: len(service.accepted))
        assert killed_at < len(matching), "the barrage was over before the kill"
        service.delay_s = 0.0
        run.start_push_role("push1")

    def delivered() -> dict[str, list[str]]:
        result: dict[str, list[str]] = {}
        for endpoint in expected:
            for message in service.mailbox(endpoint):
                result.setdefault(endpoint, []).extend(
                    item["location"] for item in message.payload["items"])
        return result

    await wait_for(lambda: sum(len(v) for v in delivered().values())
                   >= sum(len(v) for v in expected.values()), 90, "pushes missing", run)
    await asyncio.sleep(1.0)  # anything extra would arrive now
    got = run.threaded.call(delivered)
    for endpoint, areas_ in expected.items():
        heard = got.get(endpoint, [])
        assert sorted(heard) == sorted(areas_), (endpoint, heard, areas_)  # once each, no other

    by_id = {a.id: a for a in areas}
    for sub in subscribers:
        if sub in gone:
            continue
        for message in run.threaded.call(service.mailbox, sub.subscription["endpoint"]):
            assert message.urgency == "high" and 0 < message.ttl <= 300
            assert message.payload["lang"] == sub.lang
            for item in message.payload["items"]:
                area = by_id[item["location"]]
                assert item["name"] == area.names.get(sub.lang, area.names["he"])
                assert item["shelter_seconds"] == area.shelter_seconds
                assert (item["phase"], item["type"]) == ("open", "missiles")
    assert run.threaded.call(lambda: list(service.problems)) == []

    # 410: the subscription is deleted, and those phones got nothing.
    client = redis.Redis.from_url(run.pipeline.redis_url)
    try:
        prefix = "{" + run.pipeline.queue + "}:push:sub:"
        gone_matching = [s for s in gone if expected_areas(s, alerted)]
        assert gone_matching
        for sub in gone_matching:
            assert not client.exists(prefix + subscription_id(sub.subscription["endpoint"]))
        for sub in subscribers[1 + GONE:1 + GONE + 20]:
            assert client.exists(prefix + subscription_id(sub.subscription["endpoint"]))
    finally:
        client.close()

    totals = {"sent": 0.0, "deleted": 0.0, "retries": 0.0}
    for role in run.push_roles:
        if role.alive():
            values = metrics(role.url)  # type: ignore[attr-defined]
            totals["sent"] += values.get("alertflow_push_sent_total", 0)
            totals["deleted"] += values.get(
                'alertflow_push_subscriptions_deleted_total{reason="gone"}', 0)
            totals["retries"] += sum(v for k, v in values.items()
                                     if k.startswith("alertflow_push_retries_total"))
    accepted = run.threaded.call(lambda: len(service.accepted))
    messages = sum(len(run.threaded.call(service.mailbox, e)) for e in expected)
    if fault == "throttled":
        # Nothing was sent twice, and the refusals were retried.
        assert accepted == messages
        assert totals["sent"] == accepted and totals["retries"] >= 250
        assert totals["deleted"] == len(gone_matching)
    else:
        # Only pushes in flight when the victim died (16 at most), or settled during its last
        # Redis round trip, may go out again; they carry the same Topic, so the push service
        # kept one (the mailbox), and the same tag, so the phone shows one.
        assert accepted - messages <= 2 * 16
