"""`alertflow follow`'s poller against a local feed server: sequences, 304s, failures, backoff.

Each poll is driven one at a time (no sleeping, no timing): what the follower enqueued after
each step is what is checked.
"""

from __future__ import annotations

import aiohttp
import pytest

from alertflow.catalog import load_catalog
from alertflow.follow.poller import FollowConfig, Follower, PollFailed
from alertflow.settings import DEFAULT_SETTINGS
from tests.feed_samples import EARLY_WARNING_TITLE, ENDED_TITLE, MISSILES_TITLE, realtime
from tests.feed_server import FeedServer
from tests.unit.conftest import Recorder

CATALOG = load_catalog()
RULES = DEFAULT_SETTINGS.ingest_rules()
AREAS = ["שדרות, איבים", "אשקלון - דרום"]


def follower(feed: FeedServer, publisher: Recorder) -> Follower:
    return Follower(FollowConfig(url=feed.url), publisher, CATALOG, RULES)


async def test_early_warning_then_alerts_then_event_ended(
    feed: FeedServer, session: aiohttp.ClientSession
) -> None:
    published = Recorder()
    follow = follower(feed, published)
    assert follow.readiness() == {"broker": True, "feed": False}
    feed.serve(b"")
    assert await follow.poll(session) == 0
    assert follow.readiness() == {"broker": True, "feed": True}

    feed.serve(realtime("1001", "10", EARLY_WARNING_TITLE, AREAS))
    assert await follow.poll(session) == 2
    assert {(a.category, a.kind) for a in published.alerts} == {("early_warning", "alert")}

    feed.serve(realtime("1002", "1", MISSILES_TITLE, [*AREAS, "בדיקה"]))
    assert await follow.poll(session) == 2
    feed.serve(realtime("1002", "1", MISSILES_TITLE, [*AREAS, "נהריה"]))  # the barrage grows
    assert await follow.poll(session) == 1
    assert await follow.poll(session) == 0  # same body: 304, nothing sent again
    assert feed.state.requests[-1].get("If-None-Match")

    feed.serve(realtime("1003", "10", ENDED_TITLE, AREAS))
    assert await follow.poll(session) == 2
    kinds = [(a.category, a.kind, tuple(a.locations)) for a in published.alerts]
    assert kinds == [
        ("early_warning", "alert", (AREAS[0],)), ("early_warning", "alert", (AREAS[1],)),
        ("missiles", "alert", (AREAS[0],)), ("missiles", "alert", (AREAS[1],)),
        ("missiles", "alert", ("נהריה",)),
        ("all_clear", "cancel", (AREAS[0],)), ("all_clear", "cancel", (AREAS[1],)),
    ]
    assert len({a.id for a in published.alerts}) == 7
    assert all(a.source == "hfc" for a in published.alerts)


async def test_a_server_without_validators_still_sends_each_alert_once(
    feed: FeedServer, session: aiohttp.ClientSession
) -> None:
    feed.state.etag = False
    published = Recorder()
    follow = follower(feed, published)
    feed.serve(realtime("2001", "1", MISSILES_TITLE, AREAS))
    assert [await follow.poll(session) for _ in range(3)] == [2, 0, 0]
    assert not any("If-None-Match" in r for r in feed.state.requests)


async def test_two_followers_and_a_restart_derive_the_same_ids(
    feed: FeedServer, session: aiohttp.ClientSession
) -> None:
    feed.serve(realtime("3001", "6", "חדירת כלי טיס עוין", AREAS).decode("utf-8-sig")
               .encode("utf-16"))
    first, second, restarted = Recorder(), Recorder(), Recorder()
    for publisher in (first, second, restarted):
        await follower(feed, publisher).poll(session)
    ids = [{a.id for a in p.alerts} for p in (first, second, restarted)]
    assert ids[0] == ids[1] == ids[2] and len(ids[0]) == 2
    assert {a.category for a in first.alerts} == {"hostile_aircraft"}


@pytest.mark.parametrize(("status", "body", "reason"), [
    (200, b"<!DOCTYPE html><html><body>Access denied</body></html>", "not_the_feed"),
    (200, b"{\"id\": ", "not_the_feed"),
    (503, b"busy", "http_status"),
])
async def test_a_failed_poll_is_no_alert_and_backs_off(
    feed: FeedServer, session: aiohttp.ClientSession, status: int, body: bytes, reason: str
) -> None:
    published = Recorder()
    follow = follower(feed, published)
    feed.serve(body, status=status, content_type="text/html")
    with pytest.raises(PollFailed) as failed:
        await follow.poll(session)
    assert failed.value.reason == reason and published.alerts == []
    delays = []
    for failures in range(1, 8):
        follow.failures = failures
        delays.append(follow.next_delay())
    assert delays[0] > follow.config.interval_s
    assert all(delay <= follow.config.max_backoff_s for delay in delays)
    assert delays[-1] >= 0.8 * follow.config.max_backoff_s


async def test_an_unreachable_feed_fails_the_poll(session: aiohttp.ClientSession) -> None:
    server = FeedServer()
    url = server.url
    server.close()
    follow = Follower(FollowConfig(url=url, timeout_s=2), Recorder(), CATALOG, RULES)
    with pytest.raises(PollFailed) as failed:
        await follow.poll(session)
    assert failed.value.reason == "unreachable"


async def test_a_broker_failure_refetches_the_same_body(
    feed: FeedServer, session: aiohttp.ClientSession
) -> None:
    published = Recorder()
    follow = follower(feed, published)
    feed.serve(realtime("4001", "1", MISSILES_TITLE, AREAS))
    published.down = True
    with pytest.raises(PollFailed) as failed:
        await follow.poll(session)
    assert failed.value.reason == "broker"
    published.down = False
    assert await follow.poll(session) == 2  # no 304: the validators were not kept
    assert "If-None-Match" not in feed.state.requests[-1]
