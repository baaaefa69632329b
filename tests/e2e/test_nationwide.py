"""An alert for the whole country ("ברחבי הארץ") reaches everyone who follows any area: a client
subscribed to one area, a phone subscribed to another, the feed-shaped output, and the
snapshots of clients who connect afterwards; its all-clear ends it everywhere.

The roles run as subprocesses of the real CLI on real RabbitMQ and Redis; the phone is a
subscription at the local push service, which decrypts what it is sent.
"""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest

from alertflow.catalog import load_catalog
from tests.e2e.conftest import alert_body
from tests.e2e.push_harness import PushRun, push_run  # noqa: F401 - the fixture
from tests.support import Collector, now_iso

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

CLIENT_AREA = "אבו גוש"
PHONE_AREA = "שדרות, איבים"
REALTIME = "/WarningMessages/alert/Alerts.json"


async def _feed_areas(url: str) -> list[str]:
    async with aiohttp.ClientSession() as session, session.get(url + REALTIME) as response:
        assert response.status == 200
        body = (await response.read()).decode("utf-8-sig").strip()
        return json.loads(body)["data"] if body else []


async def test_an_alert_for_the_whole_country_reaches_every_follower_once(
        push_run: PushRun) -> None:  # noqa: F811 - the imported fixture
    run, service = push_run, push_run.service
    notifier = run.pipeline.notifier_urls[0]
    every_area = set(load_catalog().areas)
    phone = run.threaded.call(service.subscribe, run.public_key)
    async with aiohttp.ClientSession() as session, session.post(
            notifier + "/v1/push/subscriptions",
            json={"subscription": phone, "locations": [PHONE_AREA], "lang": "en"}) as response:
        assert response.status == 201, await response.text()
    run.start_push_role("push0")
    client = await Collector(notifier, auth={"locations": [CLIENT_AREA]}).connect()
    await client.wait_for(lambda c: bool(c.snapshots), what="the snapshot on connect")

    status, answer = await run.pipeline.post(alert_body("ברחבי הארץ", duration_s=300))
    assert status == 202, answer
    assert set(answer["resolved"]["ברחבי הארץ"]) == every_area
    assert answer["unknown_locations"] == []

    # The client hears of its own area, once, under the name the source wrote.
    await client.wait_for(lambda c: len(c.opens()) == 1, what="the open of the client's area")
    (opened,) = client.opens()
    assert opened["location"] == CLIENT_AREA and opened["source_name"] == "ברחבי הארץ"
    assert opened["shelter_seconds"] == load_catalog().areas[CLIENT_AREA].shelter_seconds

    # The phone is woken once, for its own area only.
    deadline = time.monotonic() + 30
    while not run.threaded.call(service.mailbox, phone["endpoint"]):
        assert time.monotonic() < deadline, f"no push\n{run.pipeline.logs()}"
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)  # a second push would arrive now
    messages = run.threaded.call(service.mailbox, phone["endpoint"])
    assert [[item["location"] for item in m.payload["items"]] for m in messages] == [[PHONE_AREA]]

    # The feed-shaped output lists every area once.
    listed = await _feed_areas(notifier)
    assert sorted(listed) == sorted(every_area)

    # A client that connects afterwards gets a snapshot with its area's window, and one that
    # follows everything gets every area's, once each.
    late = await Collector(notifier, auth={"locations": [CLIENT_AREA]}).connect()
    everyone = await Collector(notifier).connect()
    await late.wait_for(lambda c: bool(c.snapshots), what="the late client's snapshot")
    await everyone.wait_for(lambda c: bool(c.snapshots), what="the all-areas snapshot")
    assert [i["location"] for i in late.snapshots[0]["incidents"]] == [CLIENT_AREA]
    locations = [i["location"] for i in everyone.snapshots[0]["incidents"]]
    assert len(locations) == len(every_area) and set(locations) == every_area

    # The all-clear for the whole country ends every window.
    cancel = {"type": "missiles", "kind": "cancel", "location": "כל הארץ",
              "issued_at": now_iso(0.01)}
    status, answer = await run.pipeline.post(cancel)
    assert status == 202, answer
    await client.wait_for(lambda c: len(c.closes()) == 1, what="the close of the client's area")
    assert client.closes()[0]["reason"] == "cancelled"
    assert await _feed_areas(notifier) == []
    for collector in (client, late, everyone):
        await collector.disconnect()
