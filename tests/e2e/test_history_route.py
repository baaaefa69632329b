"""`GET /v1/events` filtered by areas, zones and time: the history a page reloads for its areas."""

from __future__ import annotations

import time
from typing import Any

import aiohttp

from tests.e2e.conftest import Pipeline, alert_body
from tests.support import Collector, now_iso

ASHKELON = "אשקלון - דרום"  # zone מערב לכיש ("West Lachish")
ABU_GHOSH = "אבו גוש"  # zone שפלת יהודה ("Judea Foothills")


async def get_events(pipeline: Pipeline, query: list[tuple[str, str]]) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(
            pipeline.notifier_urls[0] + "/v1/events", params=query) as response:
        return response.status, await response.json()


async def test_history_of_some_areas_since_some_time(pipeline: Pipeline) -> None:
    client = await Collector(pipeline.notifier_urls[0]).connect()
    await client.wait_for(lambda c: bool(c.snapshots), what="the snapshot on connect")
    # Ashkelon 10, 5 and 1 minutes ago; Abu Ghosh in between; a crowd of others after them all.
    for minutes, where in ((10, "Ashkelon - South"), (7, "Abu Ghosh"), (5, "Ashkelon - South"),
                          (1, "Ashkelon - South")):
        status, _ = await pipeline.post(alert_body(where, duration_s=3600,
                                                   issued_at=now_iso(-60 * minutes)))
        assert status == 202
    crowd = [alert_body(f"Nowhere {index}", duration_s=3600) for index in range(40)]
    assert set(await pipeline.post_many(crowd)) == {202}
    await client.wait_for(lambda c: len(c.opens()) >= 44, what="every open")
    await client.disconnect()
    now = int(time.time() * 1000)

    status, body = await get_events(pipeline, [("limit", "10")])
    assert status == 200 and not {e["location"] for e in body["events"]} & {ASHKELON, ABU_GHOSH}

    status, body = await get_events(pipeline, [("locations", "Ashkelon - South"), ("limit", "100")])
    assert status == 200
    ago = [round((now - e["issued_at"]) / 60_000) for e in body["events"]]
    assert {e["location"] for e in body["events"]} == {ASHKELON} and ago == [10, 5, 1]
    assert body["epoch"] and body["seq"] >= body["events"][-1]["seq"]

    status, body = await get_events(pipeline, [
        ("locations", "Ashkelon - South"), ("zones", "Judea Foothills"),
        ("since_ms", str(now - 8 * 60_000))])
    assert status == 200
    assert [(e["location"], round((now - e["issued_at"]) / 60_000)) for e in body["events"]] == [
        (ABU_GHOSH, 7), (ASHKELON, 5), (ASHKELON, 1)]


async def test_a_bad_history_query_is_a_422_naming_the_parameter(pipeline: Pipeline) -> None:
    for query, field in (([("locations", "No Such Place")], "locations"),
                         ([("zones", "No Such Zone")], "zones"),
                         ([("since_ms", "yesterday")], "since_ms"),
                         ([("limit", "0")], "limit"),
                         ([("location", "Ashkelon")], "location")):
        status, body = await get_events(pipeline, query)
        assert (status, body["field"]) == (422, field), (query, body)
