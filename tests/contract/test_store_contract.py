"""The state-store port: dedup, incidents, events, the stream and the live feed."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from alertflow.backends.redis_store import RedisStateStore
from alertflow.domain.alert import Alert
from alertflow.domain.categories import category_of
from alertflow.domain.history import EventFilter
from tests.contract.conftest import StoreUnderTest

ABU_GHOSH = "אבו גוש"
ABU_SNAN = "אבו סנאן"


def alert(alert_id: str, locations: list[str], issued_at: int, duration_s: int = 60,
          kind: str = "alert", alert_type: str = "missiles", source: str = "radar") -> Alert:
    """As the listener makes it: the category from the type, `all_clear` for a cancel."""
    return Alert(id=alert_id, kind=kind, type=alert_type,  # type: ignore[arg-type]
                 category="all_clear" if kind == "cancel" else category_of(alert_type),
                 locations=locations, issued_at=issued_at, duration_s=duration_s,
                 received_at=issued_at + 5, source=source)


async def next_batch(iterator: Any, timeout: float = 5.0) -> list[dict[str, Any]]:
    batch: list[dict[str, Any]] = await asyncio.wait_for(iterator.__anext__(), timeout)
    return batch


async def test_open_then_duplicate_then_sweep_close(store_under_test: StoreUnderTest) -> None:
    store = store_under_test.store
    now = int(time.time() * 1000)
    outcome, count = await store.apply(alert("a1", [ABU_GHOSH, "Nowhere"], now, 10), now)
    assert (outcome, count) == ("new", 2)
    assert await store.apply(alert("a1", [ABU_GHOSH, "Nowhere"], now, 10), now) == ("duplicate", 0)

    snapshot = await store.snapshot()
    assert snapshot.seq == 2
    by_location = {incident["location"]: incident for incident in snapshot.incidents}
    assert set(by_location) == {ABU_GHOSH, "Nowhere"}
    known = by_location[ABU_GHOSH]
    assert known["known"] is True and known["names"]["en"] == "Abu Gosh"
    assert known["zone"] == "שפלת יהודה" and known["shelter_seconds"] == 90
    assert known["ends_at"] == now + 10_000 and known["alert_count"] == 1
    assert by_location["Nowhere"]["known"] is False and by_location["Nowhere"]["zone"] is None

    assert (await store.sweep(now + 9_999)).closed == 0
    sweep = await store.sweep(now + 10_000)
    assert (sweep.closed, sweep.still_open) == (2, 0)
    assert (await store.sweep(now + 20_000)).closed == 0  # each close exactly once
    stored = await store.events_after(0, 100)
    kinds = [(event["seq"], event["kind"], event["location"]) for event in stored.events]
    # Closes come in ends_at order, ties by location id.
    assert kinds == [(1, "open", ABU_GHOSH), (2, "open", "Nowhere"),
                     (3, "close", "Nowhere"), (4, "close", ABU_GHOSH)]
    assert stored.events[0]["incident_id"] == stored.events[3]["incident_id"]
    assert stored.events[3]["reason"] == "expired"
    assert (await store.snapshot()).incidents == []


async def test_later_alert_extends_the_window(store_under_test: StoreUnderTest) -> None:
    store = store_under_test.store
    now = int(time.time() * 1000)
    await store.apply(alert("a1", [ABU_SNAN], now, 30), now)
    await store.apply(alert("a2", [ABU_SNAN], now + 1_000, 60, alert_type="hostile_aircraft"),
                      now)
    await store.apply(alert("a0", [ABU_SNAN], now - 1_000, 10), now)  # late, older, shorter
    (incident,) = (await store.snapshot()).incidents
    assert incident["started_at"] == now - 1_000
    assert incident["ends_at"] == now + 61_000
    assert incident["alert_count"] == 3
    assert incident["types"] == ["hostile_aircraft", "missiles"]
    assert incident["alert_id"] == "a2"  # the latest issued
    events = (await store.events_after(0, 10)).events
    assert [event["alert_count"] for event in events] == [1, 2, 3]
    assert len({event["incident_id"] for event in events}) == 1


async def test_cancel_closes_now_and_supersedes_older_alerts(
    store_under_test: StoreUnderTest,
) -> None:
    store = store_under_test.store
    now = int(time.time() * 1000)
    await store.apply(alert("a1", [ABU_SNAN, ABU_GHOSH], now, 600), now)
    outcome, closed = await store.apply(
        alert("c1", [ABU_SNAN], now + 1_000, 0, kind="cancel"), now)
    assert (outcome, closed) == ("cancel", 1)
    # An alert issued before the all-clear that arrives after it must not reopen the area.
    assert (await store.apply(alert("late", [ABU_SNAN], now + 500, 600), now))[0] == "superseded"
    # A newer alert opens a new window.
    assert (await store.apply(alert("new", [ABU_SNAN], now + 2_000, 600), now))[0] == "new"
    events = (await store.events_after(0, 10)).events
    close = events[2]
    assert (close["kind"], close["reason"], close["alert_id"]) == ("close", "cancelled", "c1")
    assert close["incident_id"] == events[0]["incident_id"]
    assert events[3]["kind"] == "open" and events[3]["incident_id"] != close["incident_id"]
    assert {i["location"] for i in (await store.snapshot()).incidents} == {ABU_SNAN, ABU_GHOSH}


async def test_cancel_keeps_a_window_that_a_newer_alert_holds_open(
    store_under_test: StoreUnderTest,
) -> None:
    store = store_under_test.store
    now = int(time.time() * 1000)
    await store.apply(alert("old", [ABU_SNAN], now, 600), now)
    await store.apply(alert("newer", [ABU_SNAN], now + 5_000, 60), now)
    assert await store.apply(alert("c", [ABU_SNAN], now + 1_000, 0, kind="cancel"), now) == (
        "cancel", 0)
    (incident,) = (await store.snapshot()).incidents
    # Only the newer alert remains: the window is what it would be had the cancel come first.
    assert incident["started_at"] == now + 5_000
    assert incident["ends_at"] == now + 65_000
    assert incident["alert_count"] == 1


async def test_late_alert_is_shown_as_its_open_and_close(
    store_under_test: StoreUnderTest,
) -> None:
    """An alert processed after its window ended is still shown: open then close, both late,
    a window of its own that is not active (no snapshot incident, nothing left to sweep)."""
    store = store_under_test.store
    now = int(time.time() * 1000)
    await store.apply(alert("live", [ABU_SNAN], now, 60), now)
    before = (await store.snapshot()).incidents
    result = await store.apply(alert("old", [ABU_SNAN, "Nowhere"], now - 60_000, 30), now)
    assert result == ("late", 4)
    stored = await store.events_after(1, 10)
    assert [(e["kind"], e["location"], e.get("late")) for e in stored.events] == [
        ("open", ABU_SNAN, True), ("close", ABU_SNAN, True),
        ("open", "Nowhere", True), ("close", "Nowhere", True)]
    opened, closed = stored.events[0], stored.events[1]
    assert opened["incident_id"] == closed["incident_id"] == str(opened["seq"])
    assert opened["alert_id"] == "old" and opened["alert_count"] == 1
    assert (opened["started_at"], opened["ends_at"]) == (now - 60_000, now - 30_000)
    assert (closed["started_at"], closed["ends_at"]) == (now - 60_000, now - 30_000)
    assert closed["reason"] == "expired"
    # The live window is untouched and nothing of the late one stays open.
    assert (await store.snapshot()).incidents == before
    assert (await store.sweep(now + 1)).closed == 0
    assert "late" not in (await store.events_after(0, 1)).events[0]  # only when true
    # A redelivery shows nothing twice.
    assert await store.apply(alert("old", [ABU_SNAN, "Nowhere"], now - 60_000, 30), now) == (
        "duplicate", 0)


async def test_stream_replays_after_seq_and_reports_when_it_no_longer_reaches(
    store_under_test: StoreUnderTest,
) -> None:
    store = store_under_test.store  # stream_maxlen=50 in these fixtures
    now = int(time.time() * 1000)
    for index in range(300):
        await store.apply(alert(f"a{index}", [f"place-{index}"], now, 600), now)
    recent = await store.events_after(290, 100)
    assert recent.covered and [event["seq"] for event in recent.events] == list(range(291, 301))
    assert (await store.events_after(300, 100)).events == []
    assert not (await store.events_after(1, 100)).covered
    assert not (await store.events_after(500, 100)).covered  # a seq from the future
    history = await store.recent_events(5)
    assert [event["seq"] for event in history.events] == [296, 297, 298, 299, 300]
    assert history.epoch == recent.epoch == (await store.snapshot()).epoch


async def test_history_filtered_by_area_zone_and_time(store_under_test: StoreUnderTest) -> None:
    store = store_under_test.store
    now = int(time.time() * 1000)
    minute = 60_000
    places = {0: ABU_GHOSH, 1: ABU_SNAN}
    for index in range(20):  # one alert a minute over the last 20 minutes, oldest first
        where = places.get(index % 4, f"place-{index}")
        await store.apply(alert(f"h{index}", [where], now - (20 - index) * minute, 3600), now)

    def opened(history: Any) -> list[tuple[str, int]]:
        return [(event["location"], (now - event["issued_at"]) // minute)
                for event in history.events if event["kind"] == "open"]

    mine = await store.recent_events(100, EventFilter(locations=frozenset({ABU_GHOSH})))
    assert opened(mine) == [(ABU_GHOSH, ago) for ago in (20, 16, 12, 8, 4)]  # oldest first
    zone = await store.recent_events(100, EventFilter(zones=frozenset({"גליל עליון"})))
    assert opened(zone) == [(ABU_SNAN, ago) for ago in (19, 15, 11, 7, 3)]
    recent = await store.recent_events(100, EventFilter(
        locations=frozenset({ABU_GHOSH}), since_ms=now - 10 * minute))
    assert opened(recent) == [(ABU_GHOSH, 8), (ABU_GHOSH, 4)]
    newest = await store.recent_events(2, EventFilter(locations=frozenset({ABU_GHOSH, ABU_SNAN})))
    assert opened(newest) == [(ABU_GHOSH, 4), (ABU_SNAN, 3)]
    assert len((await store.recent_events(100)).events) >= 20


async def test_feed_delivers_events_in_order_coalescing_what_waits(
    store_under_test: StoreUnderTest,
) -> None:
    store, feed = store_under_test.store, store_under_test.feed
    batches = feed.batches().__aiter__()
    assert await next_batch(batches) == []  # subscribed
    now = int(time.time() * 1000)
    await store.apply(alert("a1", [ABU_SNAN, ABU_GHOSH], now, 1), now)
    first = await next_batch(batches)  # a quiet channel hands over at once
    assert [event["seq"] for event in first] == [1, 2]
    await store.apply(alert("a2", [ABU_SNAN], now, 1), now)
    await store.sweep(now + 1_000)
    received: list[dict[str, Any]] = []
    while len(received) < 3:
        received += await next_batch(batches)
    assert [event["seq"] for event in received] == [3, 4, 5]
    assert [event["kind"] for event in received] == ["open", "close", "close"]
    # Published while nobody read: waiting together, they come as one batch.
    for number in range(3):
        await store.apply(alert(f"w{number}", [f"waiting-{number}"], now, 1), now)
    await asyncio.sleep(1.0)  # each publish has long reached the subscriber
    assert [event["seq"] for event in await next_batch(batches)] == [6, 7, 8]


async def test_concurrent_applies_each_get_their_own_outcome(
        store_under_test: StoreUnderTest) -> None:
    """Applies in flight together (a processor's prefetch) are answered one by one, also right
    after Redis lost its script cache (a restart): no call is lost or applied twice."""
    store = store_under_test.store
    now = int(time.time() * 1000)

    async def apply_round(prefix: str) -> list[tuple[str, int]]:
        return await asyncio.gather(*(
            store.apply(alert(f"{prefix}{i % 20}", [f"area-{prefix}{i % 20}"], now), now)
            for i in range(40)))

    first = await apply_round("a")
    assert sorted(first) == [("duplicate", 0)] * 20 + [("new", 1)] * 20
    if isinstance(store, RedisStateStore):
        await store._redis.script_flush()
    second = await apply_round("b")
    assert sorted(second) == [("duplicate", 0)] * 20 + [("new", 1)] * 20
    assert (await store.snapshot()).seq == 40


# -- Hazards (issue 23): an incident is an area under one hazard; an all-clear ends what it
# refers to, for its own source; nothing accepted is invisible.

FEED_ENDED = "ירי רקטות וטילים - האירוע הסתיים"  # the national feed's "event ended"


async def test_rockets_then_an_earthquake_are_two_windows_each_with_its_guidance(
    store_under_test: StoreUnderTest,
) -> None:
    store = store_under_test.store
    now = int(time.time() * 1000)
    assert await store.apply(alert("r", [ABU_GHOSH], now, 600, alert_type="Rocket Alert"),
                             now) == ("new", 1)
    assert await store.apply(alert("q", [ABU_GHOSH], now + 1_000, 120,
                                   alert_type="Earthquake", source="seismic"), now) == ("new", 1)
    # An early warning joins the rocket window it warned of; a drill never does.
    await store.apply(alert("w", [ABU_GHOSH], now + 2_000, 600,
                            alert_type="Early warning"), now)
    await store.apply(alert("d", [ABU_GHOSH], now + 3_000, 60, alert_type="Drill"), now)
    incidents = {i["hazard"]: i for i in (await store.snapshot()).incidents}
    assert set(incidents) == {"aerial", "earthquake", "drill"}
    rockets, quake = incidents["aerial"], incidents["earthquake"]
    assert (rockets["category"], rockets["alert_id"], rockets["alert_count"]) == (
        "missiles", "r", 2)
    assert (rockets["ends_at"], quake["ends_at"]) == (now + 602_000, now + 121_000)
    assert (quake["category"], quake["alert_id"], quake["alert_count"]) == ("earthquake", "q", 1)
    assert incidents["drill"]["category"] == "drill"
    assert len({i["incident_id"] for i in incidents.values()}) == 3
    opens = (await store.events_after(0, 10)).events
    assert [(e["alert_id"], e["hazard"], e["category"]) for e in opens] == [
        ("r", "aerial", "missiles"), ("q", "earthquake", "earthquake"),
        ("w", "aerial", "missiles"), ("d", "drill", "drill")]
    # Each ends on its own: the earthquake's window first, the rockets' later.
    sweep = await store.sweep(now + 121_000)
    assert (sweep.closed, sweep.still_open) == (2, 1)
    assert [i["hazard"] for i in (await store.snapshot()).incidents] == ["aerial"]


async def test_an_earthquake_issued_before_a_rocket_all_clear_arriving_after_it_opens(
    store_under_test: StoreUnderTest,
) -> None:
    store = store_under_test.store
    now = int(time.time() * 1000)
    await store.apply(alert("r", [ABU_GHOSH], now, 600, alert_type="Rocket Alert"), now)
    assert await store.apply(alert("c", [ABU_GHOSH], now + 5_000, 0, kind="cancel",
                                   alert_type="Rocket Alert"), now) == ("cancel", 1)
    # Issued 1 s before the all-clear, by the same source even: another hazard, so it opens.
    assert await store.apply(alert("q", [ABU_GHOSH], now + 4_000, 120,
                                   alert_type="Earthquake"), now) == ("new", 1)
    (incident,) = (await store.snapshot()).incidents
    assert (incident["hazard"], incident["category"], incident["alert_id"]) == (
        "earthquake", "earthquake", "q")


async def test_the_feeds_event_ended_closes_the_rocket_window_only(
    store_under_test: StoreUnderTest,
) -> None:
    store = store_under_test.store
    now = int(time.time() * 1000)
    await store.apply(alert("r", [ABU_GHOSH], now, 600, alert_type="ירי רקטות וטילים",
                            source="hfc"), now)
    await store.apply(alert("q", [ABU_GHOSH], now, 600, alert_type="רעידת אדמה",
                            source="hfc"), now)
    assert await store.apply(alert("end", [ABU_GHOSH], now + 1_000, 0, kind="cancel",
                                   alert_type=FEED_ENDED, source="hfc"), now) == ("cancel", 1)
    close = (await store.events_after(2, 10)).events[0]
    assert (close["kind"], close["reason"], close["hazard"], close["alert_id"]) == (
        "close", "cancelled", "aerial", "end")
    (incident,) = (await store.snapshot()).incidents
    assert (incident["hazard"], incident["alert_id"]) == ("earthquake", "q")
    # An all-clear that names the earthquake ends it.
    assert await store.apply(alert("end-q", [ABU_GHOSH], now + 2_000, 0, kind="cancel",
                                   alert_type="Earthquake", source="hfc"), now) == ("cancel", 1)
    assert (await store.snapshot()).incidents == []


async def test_an_alert_superseded_by_its_sources_all_clear_is_recorded_not_shown(
    store_under_test: StoreUnderTest,
) -> None:
    store = store_under_test.store
    now = int(time.time() * 1000)
    await store.apply(alert("c", [ABU_GHOSH], now, 0, kind="cancel", alert_type="all clear"),
                      now)
    assert await store.apply(alert("old", [ABU_GHOSH], now - 1_000, 600), now) == (
        "superseded", 2)
    assert (await store.snapshot()).incidents == []  # no active window
    history = await store.recent_events(100, EventFilter(locations=frozenset({ABU_GHOSH})))
    assert [(e["kind"], e["alert_id"], e.get("superseded"), e.get("late"), e["hazard"])
            for e in history.events] == [("open", "old", True, True, "aerial"),
                                         ("close", None, True, True, "aerial")]
    opened, closed = history.events
    assert opened["incident_id"] == closed["incident_id"] == str(opened["seq"])
    assert closed["reason"] == "cancelled"
    assert (await store.sweep(now + 700_000)).closed == 0  # nothing left to close
    # Another source's alert, issued as early, is shown: the all-clear was not its own.
    assert await store.apply(alert("other", [ABU_GHOSH], now - 1_000, 600, source="cap"),
                             now) == ("new", 1)
    (incident,) = (await store.snapshot()).incidents
    assert (incident["alert_id"], incident["source"]) == ("other", "cap")
    # ...and the first source's all-clear leaves that window alone.
    assert await store.apply(alert("c2", [ABU_GHOSH], now + 1_000, 0, kind="cancel",
                                   alert_type="all clear"), now) == ("cancel", 0)
    assert len((await store.snapshot()).incidents) == 1


# The key layout of an older version is Redis's alone: this runs on the Redis store only.
@pytest.mark.parametrize("store_under_test", ["redis"], indirect=True)
async def test_windows_of_a_version_before_hazards_are_shown_swept_and_ended(
    store_under_test: StoreUnderTest,
) -> None:
    """Upgrade: a window an older processor opened (keys `inc:<area>`/`due`, no hazard) is in
    the snapshot with the hazard of its category, ended by an all-clear for the area as then,
    and otherwise closed by the sweeper at its end; new alerts open windows of their own."""
    store = store_under_test.store
    assert isinstance(store, RedisStateStore)
    now = int(time.time() * 1000)
    root, client = store._root, store._redis

    async def legacy_window(location: str, alert_id: str, ends: int) -> None:
        cause = ('"title":null,"instructions":null,"alert_id":"' + alert_id + '","issued_at":'
                 f'{now},"received_at":{now},"source":"radar"')
        record = json.dumps({"i": now, "e": ends, "t": "Rocket Alert", "c": "missiles",
                             "n": location, "f": cause, "g": ""})
        await client.hset(root + "inc:" + location, mapping={
            "iid": alert_id, "loc": store._location_fragment(location), "started": now,
            "ends": ends, "count": 1, "last_rank": 1, "last_issued": now, "last_id": alert_id,
            "last_type": "Rocket Alert", "last_cat": "missiles",
            "last_name": json.dumps(location), "last_frag": cause,
            "types": '["Rocket Alert"]', "a:" + alert_id: record})
        await client.zadd(root + "due", {location: ends})

    await legacy_window(ABU_GHOSH, "900", now + 600_000)
    await legacy_window(ABU_SNAN, "901", now + 30_000)
    (await store.apply(alert("new", [ABU_SNAN], now + 1, 600), now))
    views = sorted((i["location"], i["hazard"], i["incident_id"])
                   for i in (await store.snapshot()).incidents)
    assert views == [(ABU_GHOSH, "aerial", "900"), (ABU_SNAN, "aerial", "1"),
                     (ABU_SNAN, "aerial", "901")]
    # An all-clear (any source, as before) ends the old window; the sweeper the other.
    assert await store.apply(alert("c", [ABU_GHOSH], now + 2, 0, kind="cancel",
                                   alert_type="all clear", source="hfc"), now) == ("cancel", 1)
    sweep = await store.sweep(now + 30_000)
    assert (sweep.closed, sweep.still_open) == (1, 1)
    closes = [e for e in (await store.events_after(0, 10)).events if e["kind"] == "close"]
    assert [(e["incident_id"], e["reason"], e["hazard"]) for e in closes] == [
        ("900", "cancelled", "aerial"), ("901", "expired", "aerial")]
    assert [i["incident_id"] for i in (await store.snapshot()).incidents] == ["1"]
