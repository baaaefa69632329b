"""Aggregation is order- and duplicate-proof, and the Redis scripts agree with the rules.

Several processors consume concurrently, so the same messages reach the store in any order and,
after crashes, more than once. Whatever the order: the same final incidents, every alert that
no all-clear covers shown exactly once, every window closed exactly once; duplicates change
nothing at all. The in-memory store (the domain rules) and the Lua scripts give identical
events and snapshots for the same sequence.

Several sources and several hazards (domain/hazards.py): an all-clear ends only the hazards it
refers to, and only its own source's alerts; every accepted alert is in an open event for each
of its areas (live, late, or superseded), whatever the order.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
import redis.asyncio as aioredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alertflow.backends.memory import MemoryStateStore
from alertflow.backends.redis_store import RedisStateStore
from alertflow.catalog import load_catalog
from alertflow.domain.aggregation import AggregationState, Event
from alertflow.domain.alert import Alert
from alertflow.domain.hazards import hazard_of, hazards_ended
from tests.support import delete_keys

CATALOG = load_catalog()
LOCATIONS = ["אבו סנאן", "אבו גוש", "Nowhere", "elsewhere"]
TYPES = {"missiles": ["Rocket Alert", "ירי רקטות וטילים"],
         "hostile_aircraft": ["Hostile aircraft intrusion", "a|b,c"],
         "early_warning": ["בדקות הקרובות צפויות להתקבל התרעות באזורך", "Early warning"],
         "earthquake": ["Earthquake", "רעידת אדמה"],
         "drill": ["Drill"]}
# All-clears as sources write them: the feed's (ends rockets, aircraft, infiltration and their
# early warnings), a bare one (the same), and ones that name their hazard.
CANCEL_TYPES = ["ירי רקטות וטילים - האירוע הסתיים", "All clear", "Earthquake", "Rocket Alert",
                "Drill"]
SOURCES = ["radar", "seismic", "hfc"]
GROUPS = ["g1", "g2", "g3"]
BASE = 1_800_000_000_000
NOW = BASE + 110_000  # after every issued_at, before every window's end
LATER = BASE + 10_000_000  # after every window's end


@st.composite
def messages(draw: st.DrawFn) -> list[Alert]:
    count = draw(st.integers(1, 14))
    result = []
    for index in range(count):
        kind = draw(st.sampled_from(["alert", "alert", "alert", "cancel"]))
        category = draw(st.sampled_from(list(TYPES)))
        # Messages later ones may supersede (CAP Update/Cancel): a few groups, some alerts in
        # none; a cancel that supersedes groups may name no location at all.
        group = draw(st.sampled_from([None, *GROUPS]))
        supersedes = draw(st.lists(st.sampled_from([g for g in GROUPS if g != group]),
                                   max_size=2, unique=True))
        locations = draw(st.lists(st.sampled_from(LOCATIONS),
                                  min_size=0 if kind == "cancel" and supersedes else 1,
                                  max_size=3, unique=True))
        result.append(Alert(
            id=f"m{index}",
            kind=kind,
            type=draw(st.sampled_from(TYPES[category] if kind == "alert" else CANCEL_TYPES)),
            category=category if kind == "alert" else "all_clear",
            locations=locations,
            source_names={loc: f"as written {loc}" for loc in locations
                          if draw(st.booleans())},
            issued_at=BASE + draw(st.integers(0, 100)) * 1000,
            duration_s=draw(st.integers(120, 900)) if kind == "alert" else 0,
            received_at=BASE + 110_000,
            source=draw(st.sampled_from(SOURCES)),
            title=draw(st.none() | st.just("Enter the shelter")),
            group=group,
            supersedes=supersedes,
        ))
        if kind == "alert" and supersedes:
            # A replacing message's alerts come with its cancel of the same groups, which ends
            # them where none of its alerts took their place (as the listener sends a CAP Update).
            result.append(Alert(
                id=f"m{index}-end", kind="cancel", type="Update", category="all_clear",
                locations=[], issued_at=BASE + 100_000, duration_s=0, received_at=NOW,
                source="radar", group=group, supersedes=supersedes))
    return result


@st.composite
def delivered(draw: st.DrawFn, original: list[Alert]) -> list[Alert]:
    """The same messages in any order, some of them more than once."""
    order = list(draw(st.permutations(original)))
    for repeat in draw(st.lists(st.sampled_from(original), max_size=6)):
        order.insert(draw(st.integers(0, len(order))), repeat)
    return order


def run_rules(sequence: list[Alert]) -> tuple[list[Event], list[Event], AggregationState]:
    events, closes, state, _ = run_rules_with_incidents(sequence)
    return events, closes, state


def run_rules_with_incidents(sequence: list[Alert]) -> tuple[
        list[Event], list[Event], AggregationState, dict[tuple[str, str], dict[str, Any]]]:
    """Events of applying `sequence`, the closes of the sweep after every window ended, the
    state after it, and the incidents open before that sweep."""
    state = AggregationState()
    events: list[Event] = []
    for message in sequence:
        events += state.apply(message, NOW, CATALOG)[1]
    open_incidents = final_incidents(state)
    return events, state.sweep(LATER), state, open_incidents


def final_incidents(state: AggregationState) -> dict[tuple[str, str], dict[str, Any]]:
    views = {(view.location, view.hazard): msgspec.to_builtins(view)
             for view in state.snapshot()}
    for view in views.values():
        view.pop("incident_id")
    return views


def survivors(original: list[Alert]) -> set[tuple[str, str]]:
    """(alert, location) pairs that no all-clear of their hazard by their source covers, of no
    superseded message: these must open a live window in every order (the others do only when
    they come before what ends them)."""
    through: dict[tuple[str, str, str], int] = {}
    for message in original:
        if message.kind == "cancel":
            for location in message.locations:
                for hazard in hazards_ended(message.category, message.type):
                    key = (location, hazard, message.source)
                    through[key] = max(through.get(key, -1), message.issued_at)
    superseded = {group for m in original for group in m.supersedes}
    return {(m.id, loc) for m in original if m.kind == "alert" for loc in m.locations
            if m.issued_at > through.get((loc, hazard_of(m.category), m.source), -1)
            and m.group not in superseded}


def assert_nothing_accepted_is_invisible(original: list[Alert],
                                         events: list[dict[str, Any]]) -> None:
    """Every accepted alert is, for each of its areas, in exactly one `open` event (live, late
    or superseded) of its hazard; a superseded one is history (late too), never a live window;
    an incident id names one window (one area, one hazard)."""
    opens = Counter((e["alert_id"], e["location"]) for e in events if e["kind"] == "open")
    expected = {(m.id, loc) for m in original if m.kind == "alert" for loc in m.locations}
    assert set(opens) == expected, "an accepted alert is in no event"
    assert all(count == 1 for count in opens.values()), "an alert was recorded twice"
    category = {m.id: m.category for m in original}
    windows: dict[str, tuple[str, str]] = {}
    for event in events:
        if event["kind"] == "open":
            assert event["hazard"] == hazard_of(category[event["alert_id"]])
        if event.get("superseded"):
            assert event.get("late") is True
        where = (event["location"], event["hazard"])
        assert windows.setdefault(event["incident_id"], where) == where


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_any_order_and_duplication_gives_the_same_outcome(data: st.DataObject) -> None:
    original = data.draw(messages())
    shuffled = data.draw(delivered(original))
    events_a, closes_a, state_a, open_a = run_rules_with_incidents(original)
    events_b, closes_b, state_b, open_b = run_rules_with_incidents(shuffled)

    assert open_a == open_b
    for events, closes in ((events_a, closes_a), (events_b, closes_b)):
        assert_nothing_accepted_is_invisible(
            original, [msgspec.to_builtins(e) for e in events + closes])
    expected = survivors(original)
    for events in (events_a, events_b):
        opens = Counter((e.alert_id, e.location) for e in events if e.kind == "open")
        assert all(count == 1 for count in opens.values()), "an alert was shown twice"
        shown = {(e.alert_id, e.location) for e in events
                 if e.kind == "open" and not e.superseded}
        assert expected <= shown, "an alert no all-clear covers was not shown"
    # Every window that opened closes exactly once, and nothing stays open.
    for events, closes in ((events_a, closes_a), (events_b, closes_b)):
        opened = {e.incident_id for e in events if e.kind == "open"}
        closed = Counter(e.incident_id for e in events + closes if e.kind == "close")
        assert set(closed) == opened and all(count == 1 for count in closed.values())
    assert not state_a.incidents and not state_b.incidents


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_an_accepted_alert_is_always_shown_even_late(data: st.DataObject) -> None:
    """Messages after `cut` are processed once every window has ended (a long stall): each
    alert no all-clear covers is still shown exactly once; a late one as its open immediately
    followed by its close, both late; every window closes exactly once, nothing stays open."""
    shuffled = data.draw(delivered(original := data.draw(messages())))
    cut = data.draw(st.integers(0, len(shuffled)))
    state = AggregationState()
    events: list[Event] = []
    for index, message in enumerate(shuffled):
        events += state.apply(message, NOW if index < cut else LATER, CATALOG)[1]
    events += state.sweep(LATER)
    assert_nothing_accepted_is_invisible(original, [msgspec.to_builtins(e) for e in events])
    opens = Counter((e.alert_id, e.location) for e in events if e.kind == "open")
    assert all(count == 1 for count in opens.values()), "an alert was shown twice"
    shown = {(e.alert_id, e.location) for e in events if e.kind == "open" and not e.superseded}
    assert survivors(original) <= shown, "an alert no all-clear covers was not shown"
    for index, event in enumerate(events):
        if event.late and event.kind == "open":
            close = events[index + 1]
            assert (close.kind, close.late, close.incident_id, close.seq) == (
                "close", True, event.incident_id, event.seq + 1)
    late_windows = {e.incident_id for e in events if e.late}
    assert not late_windows & {e.incident_id for e in events if not e.late}
    opened = {e.incident_id for e in events if e.kind == "open"}
    closed = Counter(e.incident_id for e in events if e.kind == "close")
    assert set(closed) == opened and all(count == 1 for count in closed.values())
    assert not state.incidents


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_duplicates_change_nothing(data: st.DataObject) -> None:
    original = data.draw(messages())
    with_repeats = list(original)
    for repeat in data.draw(st.lists(st.sampled_from(original), max_size=8)):
        # A redelivery comes after the first delivery (a crash before the ack).
        first = with_repeats.index(repeat)
        with_repeats.insert(data.draw(st.integers(first + 1, len(with_repeats))), repeat)
    assert run_rules(original)[:2] == run_rules(with_repeats)[:2]


@settings(max_examples=300, deadline=None)
@given(messages())
def test_without_cancels_every_order_shows_the_same_events(original: list[Alert]) -> None:
    alerts_only = [msgspec.structs.replace(m, supersedes=[]) for m in original
                   if m.kind == "alert"]
    forward, backward = run_rules(alerts_only), run_rules(alerts_only[::-1])
    for run in (forward, backward):
        assert {(e.alert_id, e.location) for e in run[0]} == {
            (m.id, loc) for m in alerts_only for loc in m.locations}
    assert {(e.location, e.ends_at) for e in forward[1]} == {
        (e.location, e.ends_at) for e in backward[1]}


@pytest.fixture(scope="module")
def runner() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as loop_runner:
        yield loop_runner


@pytest.mark.integration
@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_redis_scripts_agree_with_the_rules(
    runner: asyncio.Runner, redis_url: str, data: st.DataObject
) -> None:
    sequence = data.draw(delivered(data.draw(messages())))
    # Some messages processed only after every window ended: late alerts agree too.
    cut = data.draw(st.integers(0, len(sequence)))
    times = [NOW if index < cut else LATER for index in range(len(sequence))]

    async def both() -> tuple[Any, Any]:
        prefix = "prop" + uuid.uuid4().hex[:10]
        client = aioredis.Redis.from_url(redis_url)
        try:
            results = []
            for store in (MemoryStateStore(CATALOG),
                          RedisStateStore(client, CATALOG, prefix=prefix)):
                outcomes = [await store.apply(message, now)
                            for message, now in zip(sequence, times, strict=True)]
                snapshot = await store.snapshot()
                await store.sweep(LATER)
                stored = await store.events_after(0, 1000)
                incidents = sorted(snapshot.incidents,
                                   key=lambda i: (i["location"], i["hazard"]))
                results.append((outcomes, snapshot.seq, incidents, stored.events))
            return results[0], results[1]
        finally:
            await delete_keys(client, prefix)
            await client.aclose()

    memory, redis = runner.run(both())
    for result in (memory, redis):  # real Redis and the in-memory store alike
        assert_nothing_accepted_is_invisible(sequence, result[3])
    assert memory == redis
