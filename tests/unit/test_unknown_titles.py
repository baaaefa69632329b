"""Feed titles no rule knows: counted (`alertflow_unknown_titles_total{title}`, bounded) and
logged with the title, by the listener's feed route and by the follower, so that operators see
the feed's wording drift the day it does."""

from __future__ import annotations

import aiohttp
import pytest
import structlog
from prometheus_client import REGISTRY

from alertflow import metrics
from alertflow.catalog import load_catalog
from alertflow.follow.poller import FollowConfig, Follower
from alertflow.listener import hfc_feed
from alertflow.settings import DEFAULT_SETTINGS
from tests.feed_samples import ENDED_TITLE, MISSILES_TITLE, realtime
from tests.feed_server import FeedServer
from tests.unit.conftest import Recorder

CATALOG = load_catalog()
RULES = DEFAULT_SETTINGS.ingest_rules()
AREAS = ["שדרות, איבים", "אשקלון - דרום"]
NOW = 1_796_000_000_000


def counted(label: str) -> float:
    return REGISTRY.get_sample_value("alertflow_unknown_titles_total", {"title": label}) or 0


@pytest.fixture(autouse=True)
def fresh_labels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics, "_title_labels", set())


def test_the_listener_counts_and_logs_a_title_no_rule_knows() -> None:
    title = "כותרת שהפיד עוד לא כתב (listener)"
    with structlog.testing.capture_logs() as logs:
        alerts = hfc_feed.parse(realtime("1", "1", title, AREAS), source="hfc", now_ms=NOW,
                                catalog=CATALOG, rules=RULES)
    assert len(alerts) == 2 and {a.category for a in alerts} == {"missiles"}  # still shown
    assert counted(title) == 1  # once per document, not per area
    [line] = [entry for entry in logs if entry["event"] == "unknown feed title"]
    assert (line["title"], line["source"], line["via"], line["log_level"]) == (
        title, "hfc", "listener", "warning")


def test_known_titles_are_not_counted() -> None:
    with structlog.testing.capture_logs() as logs:
        for feed_id, title in (("2", MISSILES_TITLE), ("3", ENDED_TITLE),
                               ("4", "הארוע הסתיים"), ("5", "יש לשהות בסמיכות למרחב המוגן")):
            hfc_feed.parse(realtime(feed_id, "10", title, AREAS), source="hfc", now_ms=NOW,
                           catalog=CATALOG, rules=RULES)
    assert not [entry for entry in logs if entry["event"] == "unknown feed title"]
    assert metrics._title_labels == set()


def test_the_labels_are_bounded_and_long_titles_cut() -> None:
    long_title = "א" * 150
    metrics.count_unknown_titles([long_title], source="hfc", via="test")
    cut = "א" * (metrics.UNKNOWN_TITLE_CHARS - 1) + "…"
    assert counted(cut) >= 1 and len(cut) == metrics.UNKNOWN_TITLE_CHARS
    before = counted("other")
    titles = [f"bounded test title {n}" for n in range(metrics.UNKNOWN_TITLE_LABELS + 10)]
    metrics.count_unknown_titles(titles, source="hfc", via="test")
    assert len(metrics._title_labels) == metrics.UNKNOWN_TITLE_LABELS
    assert counted("other") - before == 11  # the cut one took a label first
    metrics.count_unknown_titles([titles[0]], source="hfc", via="test")  # labelled: stays so
    assert counted(titles[0]) == 2


async def test_the_follower_counts_a_title_once_per_document_that_brings_it(
    feed: FeedServer, session: aiohttp.ClientSession
) -> None:
    title = "כותרת שהפיד עוד לא כתב (follower)"
    follow = Follower(FollowConfig(url=feed.url), Recorder(), CATALOG, RULES)
    with structlog.testing.capture_logs() as logs:
        feed.serve(realtime("6", "1", title, AREAS))
        assert await follow.poll(session) == 2
        feed.state.etag = False  # the same document again, no 304: nothing new, not counted
        assert await follow.poll(session) == 0
        feed.serve(realtime("6", "1", title, [*AREAS, "נהריה"]))  # a new area: counted
        assert await follow.poll(session) == 1
    assert counted(title) == 2
    lines = [entry for entry in logs if entry["event"] == "unknown feed title"]
    assert [(line["title"], line["via"]) for line in lines] == [(title, "follow")] * 2
