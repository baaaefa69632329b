"""End to end: sources post over HTTP, real Socket.IO clients receive open and close events."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from tests.e2e.conftest import Pipeline, alert_body
from tests.support import Collector, now_iso

ABU_GHOSH = "אבו גוש"  # zone שפלת יהודה, 90 s to shelter
ABU_SNAN = "אבו סנאן"  # zone גליל עליון, 45 s to shelter


async def test_alert_opens_and_closes_within_a_second_of_its_end(pipeline: Pipeline) -> None:
    client = await Collector(pipeline.notifier_urls[0]).connect()
    await client.wait_for(lambda c: bool(c.snapshots), what="the snapshot on connect")
    status, body = await pipeline.post(alert_body("Abu Ghosh", duration_s=2, title="Rockets"))
    assert status == 202 and body["accepted"] == 1
    await client.wait_for(lambda c: len(c.opens()) == 1, what="the open")
    (opened,) = client.opens()
    assert opened["location"] == ABU_GHOSH and opened["alert_id"] == body["ids"][0]
    assert opened["names"]["en"] == "Abu Gosh" and opened["zone"] == "שפלת יהודה"
    assert opened["shelter_seconds"] == 90 and opened["title"] == "Rockets"
    assert opened["ends_at"] - opened["issued_at"] == 2000
    await client.wait_for(lambda c: len(c.closes()) == 1, timeout=10, what="the close")
    closed_at = time.time()
    (closed,) = client.closes()
    assert closed["incident_id"] == opened["incident_id"] and closed["reason"] == "expired"
    # The contract: a window's close reaches clients within a second of its end.
    assert closed_at - closed["ends_at"] / 1000 < 1.0
    await asyncio.sleep(0.5)
    assert len(client.events) == 2  # nothing else, nothing twice
    await client.disconnect()


async def test_the_same_alert_posted_twice_opens_once(pipeline: Pipeline) -> None:
    client = await Collector(pipeline.notifier_urls[0]).connect()
    body = alert_body(ABU_SNAN, duration_s=30)
    assert (await pipeline.post(body))[0] == 202
    assert (await pipeline.post(body))[0] == 202  # an idempotent retry
    marker = alert_body(ABU_GHOSH, duration_s=30)
    assert (await pipeline.post(marker))[0] == 202
    await client.wait_for(lambda c: any(e["alert_id"] == marker["id"] for e in c.events),
                          what="the marker alert")
    await asyncio.sleep(0.3)
    assert [e["alert_id"] for e in client.opens()].count(body["id"]) == 1
    await client.disconnect()


async def test_cancel_closes_the_window_early(pipeline: Pipeline) -> None:
    client = await Collector(pipeline.notifier_urls[0]).connect()
    assert (await pipeline.post(alert_body([ABU_SNAN, ABU_GHOSH], duration_s=600)))[0] == 202
    await client.wait_for(lambda c: len(c.opens()) == 2, what="two opens")
    cancel = {"type": "missiles", "kind": "cancel", "location": ABU_SNAN,
              "issued_at": now_iso(0.01)}
    status, body = await pipeline.post(cancel)
    assert status == 202
    await client.wait_for(lambda c: len(c.closes()) == 1, what="the cancel's close")
    (closed,) = client.closes()
    assert (closed["location"], closed["reason"], closed["alert_id"]) == (
        ABU_SNAN, "cancelled", body["ids"][0])
    late = Collector(pipeline.notifier_urls[0])
    await late.connect()
    await late.wait_for(lambda c: bool(c.snapshots), what="snapshot")
    assert [i["location"] for i in late.snapshots[0]["incidents"]] == [ABU_GHOSH]
    await client.disconnect()
    await late.disconnect()


async def test_reconnect_with_since_receives_exactly_the_missed_events(
    pipeline: Pipeline,
) -> None:
    url = pipeline.notifier_urls[0]
    client = await Collector(url).connect()
    watcher = await Collector(url).connect()  # stays connected, to know when all is out
    await client.wait_for(lambda c: bool(c.snapshots), what="snapshot")
    await watcher.wait_for(lambda c: bool(c.snapshots), what="snapshot")
    assert (await pipeline.post(alert_body(ABU_SNAN)))[0] == 202
    await client.wait_for(lambda c: len(c.events) == 1, what="first event")
    since, epoch = client.last_seq, client.snapshots[0]["epoch"]
    await client.disconnect()

    missed = [alert_body(ABU_GHOSH), alert_body([ABU_SNAN, "Abu Ghosh"]), alert_body("Nowhere")]
    for body in missed:
        assert (await pipeline.post(body))[0] == 202
    await watcher.wait_for(lambda c: len(c.events) == 5, what="the missed events")

    back = await Collector(url, auth={"since": since, "epoch": epoch}).connect()
    await back.wait_for(lambda c: len(c.events) >= 4, what="replay")
    await asyncio.sleep(0.3)
    assert back.snapshots == []  # a resume, not a resync
    assert [e["seq"] for e in back.events] == list(range(since + 1, since + 5))
    assert [e["alert_id"] for e in back.events] == [
        missed[0]["id"], missed[1]["id"], missed[1]["id"], missed[2]["id"]]
    # Live events keep flowing after the replay, without a gap.
    assert (await pipeline.post(alert_body(ABU_SNAN)))[0] == 202
    await back.wait_for(lambda c: len(c.events) == 5, what="the next live event")
    assert back.events[-1]["seq"] == since + 5
    for collector in (watcher, back):
        await collector.disconnect()


async def test_resume_from_another_epoch_gets_a_resync_snapshot(pipeline: Pipeline) -> None:
    url = pipeline.notifier_urls[0]
    client = await Collector(url, auth={"since": 3, "epoch": "not-this-stream"}).connect()
    await client.wait_for(lambda c: bool(c.snapshots), what="snapshot")
    assert client.snapshots[0]["resync"] is True
    await client.disconnect()


async def test_zone_subscription_receives_only_that_zone(pipeline: Pipeline) -> None:
    url = pipeline.notifier_urls[0]
    galilee = await Collector(url, auth={"zones": ["Upper Galilee"]}).connect()
    everyone = await Collector(url).connect()
    for collector in (galilee, everyone):
        await collector.wait_for(lambda c: bool(c.snapshots), what="snapshot")
    for body in (alert_body(ABU_GHOSH), alert_body("Abu Snan"), alert_body("Nowhere")):
        assert (await pipeline.post(body))[0] == 202
    await everyone.wait_for(lambda c: len(c.events) == 3, what="all three")
    await asyncio.sleep(0.3)
    assert [e["location"] for e in galilee.events] == [ABU_SNAN]

    # At run time: subscribe narrows or widens, acknowledged with the matching snapshot.
    ack = await galilee.client.call("subscribe", {"locations": ["Abu Ghosh"]}, timeout=10)
    assert {i["location"] for i in ack["incidents"]} == {ABU_SNAN, ABU_GHOSH}
    ack = await galilee.client.call("unsubscribe", {"zones": ["גליל עליון"]}, timeout=10)
    assert {i["location"] for i in ack["incidents"]} == {ABU_GHOSH}
    bad = await galilee.client.call("subscribe", {"zones": ["Atlantis"]}, timeout=10)
    assert bad["field"] == "zones" and "Atlantis" in bad["error"]
    for collector in (galilee, everyone):
        await collector.disconnect()


async def test_the_notifier_declines_websocket_compression(pipeline: Pipeline) -> None:
    """Browsers offer permessage-deflate; compressing every event once per client is refused."""
    url = pipeline.notifier_urls[0] + "/socket.io/?EIO=4&transport=websocket"
    async with aiohttp.ClientSession() as session, session.ws_connect(url, compress=15) as ws:
        assert ws.compress == 0
        assert (await ws.receive_str()).startswith("0{")  # the Engine.IO open packet


async def test_500_alerts_reach_every_client_exactly_once(scaled_pipeline: Pipeline) -> None:
    """2 processors and 2 notifiers: every alert once per client, every window closed once."""
    areas = sorted(__import__("alertflow.catalog", fromlist=["load_catalog"])
                   .load_catalog().areas)[:20]
    clients = [await Collector(url).connect()
               for url in scaled_pipeline.notifier_urls for _ in range(3)]
    for client in clients:
        await client.wait_for(lambda c: bool(c.snapshots), what="snapshot")
    bodies = [alert_body(areas[index % 20], duration_s=3) for index in range(500)]
    statuses = await scaled_pipeline.post_many(bodies)
    assert statuses == [202] * 500
    expected = {body["id"] for body in bodies}

    def settled(c: Collector) -> bool:
        opened = {e["incident_id"] for e in c.opens()}
        return len(c.opens()) >= 500 and opened <= {e["incident_id"] for e in c.closes()}

    for client in clients:
        await client.wait_for(settled, timeout=60, what="all opens and their closes")
    await asyncio.sleep(1.5)
    reference = [e["seq"] for e in clients[0].events]
    for client in clients:
        opens = [e["alert_id"] for e in client.opens()]
        assert len(opens) == 500 and set(opens) == expected
        closes = [e["incident_id"] for e in client.closes()]
        assert len(closes) == len(set(closes))
        assert set(closes) == {e["incident_id"] for e in client.opens()}
        seqs = [e["seq"] for e in client.events]
        assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
        assert seqs == reference  # every client saw the same stream
        await client.disconnect()


async def test_rockets_then_an_earthquake_two_incidents_in_a_later_clients_snapshot(
    pipeline: Pipeline,
) -> None:
    """An incident is an area under one hazard (issue 23): each keeps its own guidance,
    countdown and end, live and in the snapshot of a client that connects afterwards."""
    watcher = await Collector(pipeline.notifier_urls[0]).connect()
    rockets = alert_body("Abu Ghosh", duration_s=600, type="Rocket Alert")
    quake = alert_body("Abu Ghosh", duration_s=120, type="Earthquake",
                       instructions="Leave the building for open ground")
    for body in (rockets, quake):
        assert (await pipeline.post(body))[0] == 202
    await watcher.wait_for(lambda c: len(c.opens()) == 2, what="two opens")
    assert {(e["hazard"], e["category"]) for e in watcher.opens()} == {
        ("aerial", "missiles"), ("earthquake", "earthquake")}
    later = await Collector(pipeline.notifier_urls[0]).connect()
    await later.wait_for(lambda c: bool(c.snapshots), what="the snapshot on connect")
    incidents = {i["hazard"]: i for i in later.snapshots[0]["incidents"]}
    assert set(incidents) == {"aerial", "earthquake"}
    assert incidents["aerial"]["location"] == incidents["earthquake"]["location"] == ABU_GHOSH
    assert (incidents["aerial"]["category"], incidents["aerial"]["alert_id"]) == (
        "missiles", rockets["id"])
    assert (incidents["earthquake"]["category"], incidents["earthquake"]["alert_id"]) == (
        "earthquake", quake["id"])
    for hazard, seconds in (("aerial", 600), ("earthquake", 120)):  # each its own countdown
        assert incidents[hazard]["ends_at"] - incidents[hazard]["started_at"] == seconds * 1000
    assert incidents["aerial"]["incident_id"] != incidents["earthquake"]["incident_id"]
    await watcher.disconnect()
    await later.disconnect()


async def test_a_superseded_alert_is_in_the_areas_events_and_opens_no_window(
    pipeline: Pipeline,
) -> None:
    """A same-source rocket alert issued before a rocket all-clear and arriving after it: in
    the area's `GET /v1/events` with `superseded: true`, and no active window."""
    watcher = await Collector(pipeline.notifier_urls[0]).connect()
    cancel = {"type": "Rocket Alert", "kind": "cancel", "location": "Abu Ghosh",
              "issued_at": now_iso(0)}
    assert (await pipeline.post(cancel))[0] == 202
    old = alert_body("Abu Ghosh", duration_s=600, issued_at=now_iso(-1))
    assert (await pipeline.post(old))[0] == 202
    await watcher.wait_for(lambda c: len(c.closes()) == 1, what="the superseded record")
    async with aiohttp.ClientSession() as session, session.get(
            pipeline.notifier_urls[0] + "/v1/events",
            params={"locations": "Abu Ghosh"}) as response:
        assert response.status == 200
        events = (await response.json())["events"]
    mine = [e for e in events if e["alert_id"] == old["id"]]
    assert [(e["kind"], e.get("superseded"), e.get("late")) for e in mine] == [
        ("open", True, True)]
    later = await Collector(pipeline.notifier_urls[0]).connect()
    await later.wait_for(lambda c: bool(c.snapshots), what="the snapshot on connect")
    assert later.snapshots[0]["incidents"] == []
    await watcher.disconnect()
    await later.disconnect()
