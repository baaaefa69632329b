"""Real senders, unchanged: the original generator's payload, city and zone names, early warnings.

The roles run as real processes on real RabbitMQ and Redis (and as `alertflow dev`); the
receivers are real Socket.IO clients subscribed to single areas.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from tests.e2e.conftest import Pipeline, alert_body
from tests.support import Collector, now_iso

TEL_AVIV_EAST = "תל אביב - מזרח"
TEL_AVIV = ("תל אביב - דרום העיר ויפו", "תל אביב - מזרח", "תל אביב - מרכז העיר",
            "תל אביב - עבר הירקון")
SDEROT = "שדרות, איבים"
ABU_SNAN = "אבו סנאן"  # zone Upper Galilee (גליל עליון)
ABU_GHOSH = "אבו גוש"


async def test_the_original_generator_payload_reaches_a_tel_aviv_area_at_once(
    pipeline: Pipeline
) -> None:
    client = await Collector(pipeline.notifier_urls[0],
                             auth={"locations": [TEL_AVIV_EAST]}).connect()
    await client.wait_for(lambda c: bool(c.snapshots), what="the snapshot on connect")
    start = (datetime.now(UTC) + timedelta(minutes=10)).replace(microsecond=0)
    # Exactly what the generator sends: a timestamp 10 minutes ahead, duration in minutes.
    payload = {"location": "Tel Aviv", "type": "Rocket Alert",
               "timestamp": start.isoformat().replace("+00:00", "Z"), "duration": 10}
    status, answer = await pipeline.post(payload, path="/api/alerts/")
    assert status == 202, answer
    assert answer["resolved"] == {"Tel Aviv": list(TEL_AVIV)}
    assert answer["unknown_locations"] == []
    await client.wait_for(lambda c: len(c.opens()) == 1, what="the open, delivered at once")
    (opened,) = client.opens()
    assert opened["location"] == TEL_AVIV_EAST
    assert (opened["type"], opened["category"]) == ("Rocket Alert", "missiles")
    assert opened["source_name"] == "Tel Aviv"
    # The future timestamp is the window's start; the window lasts the 10 minutes sent.
    assert opened["started_at"] == int(start.timestamp() * 1000)
    assert opened["ends_at"] - opened["started_at"] == 600_000
    await asyncio.sleep(0.3)
    assert len(client.events) == 1  # only its own area, exactly once
    await client.disconnect()


async def test_the_generators_cities_all_resolve(pipeline: Pipeline) -> None:
    for city in ("Nahariya", "Haifa", "Tel Aviv", "Jerusalem"):
        status, answer = await pipeline.post(
            {"location": city, "type": "Rocket Alert", "timestamp": now_iso(), "duration": 1},
            path="/api/alerts/")
        assert status == 202 and answer["unknown_locations"] == [], answer
        assert answer["resolved"][city], city


async def test_an_area_subscriber_receives_alerts_posted_for_its_city_or_zone(
    pipeline: Pipeline
) -> None:
    url = pipeline.notifier_urls[0]
    sderot = await Collector(url, auth={"locations": ["Sderot, Ibim"]}).connect()
    galilee_area = await Collector(url, auth={"locations": ["Abu Snan"]}).connect()
    for collector in (sderot, galilee_area):
        await collector.wait_for(lambda c: bool(c.snapshots), what="snapshot")
    city = alert_body("Sderot", type="ירי רקטות וטילים")
    zone = alert_body("Upper Galilee", type="Hostile aircraft intrusion")
    for body in (city, zone):
        status, answer = await pipeline.post(body)
        assert status == 202, answer
    await sderot.wait_for(lambda c: len(c.opens()) == 1, what="the city's alert")
    await galilee_area.wait_for(lambda c: len(c.opens()) == 1, what="the zone's alert")
    await asyncio.sleep(0.3)
    (opened,) = sderot.opens()
    assert (opened["location"], opened["alert_id"], opened["category"]) == (
        SDEROT, city["id"], "missiles")
    assert opened["source_name"] == "Sderot"
    (opened,) = galilee_area.opens()
    assert (opened["location"], opened["alert_id"], opened["category"]) == (
        ABU_SNAN, zone["id"], "hostile_aircraft")
    for collector in (sderot, galilee_area):
        assert len(collector.events) == 1
        await collector.disconnect()


async def test_early_warning_then_alert_then_event_ended(pipeline: Pipeline) -> None:
    client = await Collector(pipeline.notifier_urls[0],
                             auth={"locations": [ABU_GHOSH]}).connect()
    await client.wait_for(lambda c: bool(c.snapshots), what="snapshot")
    base = f"seq-{uuid.uuid4()}"
    early = alert_body(ABU_GHOSH, duration_s=600, id=f"{base}-early",
                       type="בדקות הקרובות צפויות להתקבל התרעות באזורך")
    real = alert_body(ABU_GHOSH, duration_s=90, id=f"{base}-alert", type="ירי רקטות וטילים")
    ended = {"id": f"{base}-ended", "type": "ירי רקטות וטילים - האירוע הסתיים",
             "location": ABU_GHOSH, "issued_at": now_iso(0.05)}
    assert (await pipeline.post(early))[0] == 202
    await client.wait_for(lambda c: len(c.opens()) == 1, what="the early warning")
    assert (await pipeline.post(real))[0] == 202
    await client.wait_for(lambda c: len(c.opens()) == 2, what="the real alert")
    await asyncio.sleep(0.06)
    status, answer = await pipeline.post(ended)
    assert status == 202, answer
    await client.wait_for(lambda c: len(c.closes()) == 1, what="the event-ended close")
    await asyncio.sleep(0.3)
    first, second = client.opens()
    (closed,) = client.closes()
    assert first["category"] == "early_warning" and first["alert_id"] == early["id"]
    # The real alert turns the same window into an alert window.
    assert second["category"] == "missiles" and second["alert_id"] == real["id"]
    assert second["incident_id"] == first["incident_id"] == closed["incident_id"]
    assert (closed["reason"], closed["category"]) == ("cancelled", "missiles")
    assert len(client.events) == 3
    await client.disconnect()
