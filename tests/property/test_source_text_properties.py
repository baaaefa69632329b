"""Whatever text a source sends reaches clients intact, through Lua as through memory.

Types, titles, ids and place names are free text in any language: they may hold `|`, commas,
quotes, backslashes, braces, newlines, NULs, emoji and direction marks. The Lua scripts never
split such text (records are JSON they encode and decode), so the Redis store and the in-memory
rules give identical events and snapshots, and every event carries the text exactly as sent.

Early warnings are windows of their own kind: whatever the order, a window holding only early
warnings is `early_warning`, and one holding a rocket or aircraft alert (the hazard the early
warning announced) shows that alert's category; alerts of other hazards are windows of their own.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alertflow.backends.memory import MemoryStateStore
from alertflow.backends.redis_store import RedisStateStore
from alertflow.catalog import load_catalog
from alertflow.domain.aggregation import AggregationState
from alertflow.domain.alert import Alert
from alertflow.domain.categories import CATEGORIES
from alertflow.domain.hazards import hazard_of
from tests.support import delete_keys

CATALOG = load_catalog()
BASE = 1_800_000_000_000
NOW = BASE + 110_000
LATER = BASE + 10_000_000
NASTY = ["a|b", "|", "||1|2|", '"quoted"', "back\\slash", "\\", "new\nline", "tab\there",
         "nul\x00byte", "emoji 🚀🔥", "\u200fירי רקטות\u200e", "\u202eRLO", "{}", '","', "]]",
         "%d %s", "a,b,c", "[\"x\"]", "\\u0000", "a:b", "\ufeffBOM", "ﷺ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢"]
# Any code point but lone surrogates (which no UTF-8 text can hold).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=60)
ANY_TEXT = st.sampled_from(NASTY) | TEXT
REAL = [c for c in CATEGORIES if c not in ("all_clear", "early_warning")]


@st.composite
def hostile_messages(draw: st.DrawFn) -> list[Alert]:
    ids = draw(st.lists(st.sampled_from(NASTY) | TEXT, min_size=1, max_size=6, unique=True))
    places = ["אבו סנאן", "אבו גוש", *draw(st.lists(ANY_TEXT, min_size=1, max_size=2))]
    result = []
    for alert_id in ids:
        kind = draw(st.sampled_from(["alert", "alert", "alert", "cancel"]))
        locations = draw(st.lists(st.sampled_from(places), min_size=1, max_size=3, unique=True))
        result.append(Alert(
            id=alert_id,
            kind=kind,
            type=draw(ANY_TEXT),
            category=draw(st.sampled_from(CATEGORIES)) if kind == "alert" else "all_clear",
            locations=locations,
            source_names={loc: draw(ANY_TEXT) for loc in locations if draw(st.booleans())},
            issued_at=BASE + draw(st.integers(0, 100)) * 1000,
            duration_s=draw(st.integers(120, 900)) if kind == "alert" else 0,
            received_at=NOW,
            source=draw(ANY_TEXT),
            title=draw(st.none() | ANY_TEXT),
            instructions=draw(st.none() | ANY_TEXT),
        ))
    order = list(draw(st.permutations(result)))
    for repeat in draw(st.lists(st.sampled_from(result), max_size=3)):
        order.insert(draw(st.integers(0, len(order))), repeat)
    return order


@pytest.fixture(scope="module")
def runner() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as loop_runner:
        yield loop_runner


@pytest.mark.integration
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(hostile_messages())
def test_any_unicode_reaches_clients_intact_through_redis_and_memory(
    runner: asyncio.Runner, redis_url: str, sequence: list[Alert]
) -> None:
    async def both() -> list[Any]:
        prefix = "text" + uuid.uuid4().hex[:10]
        client = aioredis.Redis.from_url(redis_url)
        try:
            results = []
            for store in (MemoryStateStore(CATALOG),
                          RedisStateStore(client, CATALOG, prefix=prefix)):
                outcomes = [await store.apply(message, NOW) for message in sequence]
                snapshot = await store.snapshot()
                await store.sweep(LATER)
                stored = await store.events_after(0, 1000)
                incidents = sorted(snapshot.incidents,
                                   key=lambda i: (i["location"], i["hazard"]))
                results.append((outcomes, snapshot.seq, incidents, stored.events))
            return results
        finally:
            await delete_keys(client, prefix)
            await client.aclose()

    memory, redis = runner.run(both())
    assert memory == redis
    by_id = {alert.id: alert for alert in sequence}
    for event in redis[3]:
        if event["kind"] == "open":
            cause = by_id[event["alert_id"]]
            assert event["type"] == cause.type
            assert event["title"] == cause.title
            assert event["source"] == cause.source
            assert event["source_name"] == cause.source_names.get(event["location"],
                                                                  event["location"])


@st.composite
def one_place(draw: st.DrawFn) -> list[Alert]:
    count = draw(st.integers(1, 6))
    return [Alert(
        id=f"w{index}", kind="alert",
        category=(category := draw(st.sampled_from(["early_warning", "early_warning", *REAL]))),
        type=f"text of {category}", locations=["אבו גוש"],
        issued_at=BASE + draw(st.integers(0, 50)) * 1000,
        duration_s=draw(st.integers(120, 900)), received_at=NOW, source="hfc",
    ) for index in range(count)]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_an_early_window_becomes_an_alert_window_in_any_order(data: st.DataObject) -> None:
    alerts = data.draw(one_place())
    order = data.draw(st.permutations(alerts))
    state = AggregationState()
    events = [event for alert in order for event in state.apply(alert, NOW, CATALOG)[1]]
    # One window per hazard; the early warnings' is the rockets' and aircraft's (`aerial`).
    views = {view.hazard: view for view in state.snapshot()}
    assert set(views) == {hazard_of(a.category) for a in alerts}
    assert len(views) == len(state.snapshot())
    hazard = hazard_of("early_warning")
    if hazard not in views:
        return
    view = views[hazard]
    alerts = [a for a in alerts if hazard_of(a.category) == hazard]
    order = [a for a in order if hazard_of(a.category) == hazard]
    events = [e for e in events if e.hazard == hazard]
    real = [a for a in alerts if a.category != "early_warning"]
    if real:
        expected = max(real, key=lambda a: (a.issued_at, a.id))
        assert (view.category, view.type) == (expected.category, expected.type)
    else:
        assert view.category == "early_warning"
    # Clients see the window's kind on every event: early until a real alert has arrived.
    for index, event in enumerate(events):
        seen_real = any(a.category != "early_warning" for a in order[:index + 1])
        assert (event.category != "early_warning") == seen_real
    assert len({event.incident_id for event in events}) == 1
    (close,) = [e for e in state.sweep(LATER) if e.hazard == hazard]
    assert close.category == view.category and close.incident_id == view.incident_id


def test_an_all_clear_closes_an_early_window() -> None:
    state = AggregationState()
    early = Alert(id="e", kind="alert", type="בדקות הקרובות צפויות להתקבל התרעות",
                  category="early_warning", locations=["אבו גוש"], issued_at=BASE,
                  duration_s=600, received_at=NOW, source="hfc")
    (opened,) = state.apply(early, NOW, CATALOG)[1]
    assert opened.category == "early_warning"
    ended = Alert(id="x", kind="cancel", type="האירוע הסתיים", category="all_clear",
                  locations=["אבו גוש"], issued_at=BASE + 1000, duration_s=0,
                  received_at=NOW, source="hfc")
    (closed,) = state.apply(ended, NOW, CATALOG)[1]
    assert (closed.kind, closed.reason, closed.category) == ("close", "cancelled",
                                                             "early_warning")
    assert not state.incidents
