"""End to end, the national feed and CAP 1.2 as real senders send them.

The real CLI's listener, processor, notifier and `alertflow follow` as subprocesses on the real
RabbitMQ and Redis, a real Socket.IO client: the right events for the right areas, once each.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import free_port
from tests.e2e.conftest import Pipeline, start_roles, stop_all
from tests.feed_samples import (
    ASHKELON,
    ASHKELON_POLYGON,
    EARLY_WARNING_TITLE,
    ENDED_TITLE,
    MISSILES_TITLE,
    SDEROT,
    SDEROT_POLYGON,
    cap_message,
    realtime,
)
from tests.feed_server import FeedServer
from tests.support import TOKEN, Collector, Role, wait_ready

pytestmark = pytest.mark.e2e


@pytest.fixture
def roles(tmp_path: Path, rabbitmq: str, redis_url: str) -> Iterator[Pipeline]:
    running = start_roles(tmp_path, rabbitmq, redis_url)
    yield running
    stop_all(running)


async def post_raw(pipeline: Pipeline, path: str, body: bytes,
                   content_type: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.post(
        pipeline.listener_url + path, data=body,
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": content_type},
    ) as response:
        return response.status, await response.json()


def catalog_names(count: int) -> list[str]:
    from alertflow.catalog import load_catalog

    return sorted(load_catalog().areas)[:count]


async def test_a_barrage_in_the_feeds_shape_opens_each_area_once(roles: Pipeline) -> None:
    client = await Collector(roles.notifier_urls[0]).connect()
    areas = catalog_names(150)
    body = realtime("133900000000000001", "1", MISSILES_TITLE, [*areas, "בדיקה"])
    status, answer = await post_raw(roles, "/v1/feeds/hfc", body, "application/json")
    assert status == 202 and answer["accepted"] == 150 and answer["unknown_locations"] == []
    # The same feed document again (a re-post, a second follower): nothing new.
    assert (await post_raw(roles, "/v1/feeds/hfc", body, "application/json"))[0] == 202
    await client.wait_for(lambda c: len(c.opens()) >= 150, what="150 opens")
    await asyncio.sleep(0.5)
    opens = client.opens()
    assert sorted(e["location"] for e in opens) == areas
    assert {(e["type"], e.get("category")) for e in opens} == {(MISSILES_TITLE, "missiles")}
    await client.disconnect()


async def test_follow_early_warning_then_alerts_then_event_ended(
    roles: Pipeline, tmp_path: Path
) -> None:
    feed = FeedServer()
    followers = []
    try:
        for index in range(2):  # two followers of one feed: still one alert per (id, area)
            port = free_port()
            role = Role(f"follow{index}", [
                "follow", feed.url, "--amqp-url", roles.amqp_url, "--queue", roles.queue,
                "--http-port", str(port), "--interval-s", "0.2"], tmp_path)
            roles.roles[role.name] = role
            followers.append((role, f"http://127.0.0.1:{port}"))
        for role, url in followers:
            wait_ready(url, role)  # ready: the broker connected and the feed answered
        client = await Collector(roles.notifier_urls[0]).connect()
        areas = [SDEROT, *ASHKELON[:2]]

        feed.serve(realtime("1001", "10", EARLY_WARNING_TITLE, areas))
        await client.wait_for(lambda c: len(c.opens()) == 3, what="the early warnings")
        assert {e.get("category") for e in client.opens()} == {"early_warning"}

        # A follower killed and started again re-reads the feed: the same ids, nothing twice.
        followers[0][0].kill()
        followers[0][0].start()
        wait_ready(followers[0][1], followers[0][0])

        feed.serve(realtime("1002", "1", MISSILES_TITLE, [*areas, "בדיקה"]))
        await client.wait_for(
            lambda c: sum(e.get("category") == "missiles" for e in c.opens()) == 3,
            what="the alerts")

        feed.serve(realtime("1003", "10", ENDED_TITLE, areas))
        await client.wait_for(lambda c: len(c.closes()) == 3, what="the event ended")
        feed.serve(b"")
        await asyncio.sleep(1.0)  # several polls of both followers: nothing more may arrive
        assert sorted(e["location"] for e in client.closes()) == sorted(areas)
        assert {e["reason"] for e in client.closes()} == {"cancelled"}
        per_area = {area: [e.get("category") for e in client.events
                           if e["location"] == area and e["kind"] == "open"] for area in areas}
        assert all(opened == ["early_warning", "missiles"]
                   for opened in per_area.values()), per_area
        await client.disconnect()
    finally:
        feed.close()


async def test_cap_alert_update_cancel_with_a_polygon_each(roles: Pipeline) -> None:
    client = await Collector(roles.notifier_urls[0]).connect()
    sent = datetime.now(UTC).replace(microsecond=0)
    first = sent.isoformat()
    update_ends = sent + timedelta(minutes=5)
    alert = cap_message("e2e-1", sent=sent, polygon=SDEROT_POLYGON,
                        expires=sent + timedelta(minutes=10),
                        extra_area=f"<polygon>{ASHKELON_POLYGON}</polygon>")
    status, answer = await post_raw(roles, "/v1/cap", alert, "application/cap+xml")
    assert status == 202 and answer["accepted"] == 1, answer
    await client.wait_for(lambda c: len(c.opens()) == 1 + len(ASHKELON),
                          what="the CAP alert's opens")

    # The update replaces the alert with Sderot alone and a shorter window: Sderot's window
    # carries on with the update (no close, its end now the update's), and Ashkelon's areas,
    # which the update no longer names, close.
    update = cap_message("e2e-2", sent=sent + timedelta(seconds=1), msg_type="Update",
                         polygon=SDEROT_POLYGON, expires=update_ends,
                         references=f"alerts@example.org,e2e-1,{first}")
    status, answer = await post_raw(roles, "/v1/cap", update, "application/xml")
    assert status == 202, answer
    await client.wait_for(lambda c: len(c.opens()) == 2 + len(ASHKELON)
                          and len(c.closes()) == len(ASHKELON), what="the update")
    sderot_update = client.opens()[-1]
    assert sderot_update["location"] == SDEROT
    assert sderot_update["ends_at"] == int(update_ends.timestamp() * 1000)
    assert sderot_update["alert_count"] == 1  # the update alone, not beside what it replaced
    assert sorted(e["location"] for e in client.closes()) == sorted(ASHKELON)

    # The Cancel closes what the update opened: its own <info> and polygon only describe it.
    cancel = cap_message("e2e-3", sent=sent + timedelta(seconds=2), msg_type="Cancel",
                         event="All clear", polygon=SDEROT_POLYGON,
                         references=f"alerts@example.org,e2e-2,{first}")
    status, answer = await post_raw(roles, "/v1/cap", cancel, "application/cap+xml")
    assert status == 202 and answer["accepted"] == 1, answer
    await client.wait_for(lambda c: len(c.closes()) == 1 + len(ASHKELON), what="the cancel")

    # A Cancel may name no area at all: it closes what the referenced message opened.
    again = cap_message("e2e-4", sent=sent + timedelta(seconds=3), polygon=ASHKELON_POLYGON,
                        expires=sent + timedelta(minutes=10))
    status, answer = await post_raw(roles, "/v1/cap", again, "application/cap+xml")
    assert status == 202, answer
    await client.wait_for(lambda c: len(c.opens()) == 2 + 2 * len(ASHKELON),
                          what="the second alert's opens")
    bare = cap_message("e2e-5", sent=sent + timedelta(seconds=4), msg_type="Cancel",
                       references=f"alerts@example.org,e2e-4,{first}", with_info=False)
    status, answer = await post_raw(roles, "/v1/cap", bare, "application/cap+xml")
    assert status == 202 and answer["accepted"] == 1, answer
    await client.wait_for(lambda c: len(c.closes()) == 1 + 2 * len(ASHKELON),
                          what="the bare cancel")
    await asyncio.sleep(0.5)  # nothing else may follow

    sderot = [(e["kind"], e["alert_id"]) for e in client.events if e["location"] == SDEROT]
    alert_ids = [e["alert_id"] for e in client.opens() if e["location"] == SDEROT]
    assert [kind for kind, _ in sderot] == ["open", "open", "close"], sderot
    assert len(set(alert_ids)) == 2  # the alert, then its update
    assert sorted(e["location"] for e in client.closes()) == sorted([SDEROT, *ASHKELON,
                                                                      *ASHKELON])
    assert {e["reason"] for e in client.closes()} == {"cancelled"}
    assert len({e["incident_id"] for e in client.events if e["location"] == SDEROT}) == 1
    assert {e["type"] for e in client.closes() if e["location"] == SDEROT} == {"Rocket Alert"}
    late = await Collector(roles.notifier_urls[0]).connect()
    await late.wait_for(lambda c: bool(c.snapshots), what="the snapshot")
    assert late.snapshots[0]["incidents"] == []
    await client.disconnect()
    await late.disconnect()
