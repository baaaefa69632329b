"""The national feed's shapes built from alertflow's state read back as the feed's consumers
(and alertflow's own follower, alertflow.domain.hfc) read the real feed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from alertflow.domain import hfc, hfc_out
from alertflow.domain.categories import CATEGORIES

ISSUED = 1764280000000  # 2025-11-27 21:46:40 UTC = 23:46:40 in Israel (UTC+2 in winter)


def incident(location: str, category: str = "missiles", title: str = "ירי רקטות וטילים",
             issued_at: int = ISSUED, **extra: Any) -> dict[str, Any]:
    return {"location": location, "category": category, "title": title, "type": "missiles",
            "issued_at": issued_at, "started_at": issued_at, "instructions": None, **extra}


@pytest.mark.parametrize("category", CATEGORIES)
def test_each_category_number_reads_back_as_the_category(category: str) -> None:
    # A title that names no category, so the number alone decides (titles decide first for
    # early warnings and all-clears: their numbers are the feed's "news flash"/"update").
    title = "התרעה מקדימה" if category == "early_warning" else (
        "האירוע הסתיים" if category == "all_clear" else "x")
    assert hfc.classify(title, hfc.history_number(category), hfc.HISTORY_CATEGORIES) == category
    expected = "general" if category == "nonconventional" else category  # no realtime number
    assert hfc.classify(title, hfc.realtime_number(category),
                        hfc.REALTIME_CATEGORIES) == expected


def test_nothing_active_is_an_empty_body() -> None:
    assert hfc_out.realtime([]) == b""
    assert hfc_out.realtime([incident("שדרות", late=True)]) == b""
    assert hfc.parse(hfc_out.realtime([]), ISSUED) == []


def test_realtime_is_the_newest_alert_with_every_area_under_its_title() -> None:
    body = hfc_out.realtime([
        incident("שדרות"), incident("אשקלון", issued_at=ISSUED + 5000),
        incident("מטולה", category="hostile_aircraft", title="חדירת כלי טיס עוין",
                 issued_at=ISSUED + 1000)])
    document = json.loads(body.decode("utf-8-sig"))
    assert document == {"id": str(ISSUED + 5000), "cat": "1", "title": "ירי רקטות וטילים",
                        "data": ["אשקלון", "שדרות"], "desc": ""}
    followed = hfc.parse(body, ISSUED)  # alertflow's own follower reads it as the real feed
    assert {(a.category, a.names[0][0]) for a in followed} == {("missiles", "אשקלון"),
                                                               ("missiles", "שדרות")}
    assert json.loads(b"\xef\xbb\xbf".decode("utf-8-sig") + body.decode()) == document


def test_history_lists_every_open_newest_first_in_israel_time() -> None:
    events = [{"kind": "open", **incident("שדרות")},
              {"kind": "close", **incident("שדרות")},
              {"kind": "open", **incident("מטולה", category="hostile_aircraft",
                                          title="חדירת כלי טיס עוין", issued_at=ISSUED + 60_000)}]
    body = hfc_out.history(events)
    assert json.loads(body) == [
        {"alertDate": "2025-11-27 23:47:40", "title": "חדירת כלי טיס עוין", "data": "מטולה",
         "category": 2},
        {"alertDate": "2025-11-27 23:46:40", "title": "ירי רקטות וטילים", "data": "שדרות",
         "category": 1}]
    followed = hfc.parse(body, 0)
    assert [(a.category, a.issued_at) for a in followed] == [
        ("hostile_aircraft", ISSUED + 60_000), ("missiles", ISSUED)]


def test_history_lists_an_all_clear_as_the_feed_does_and_reads_back_as_one() -> None:
    ended = ISSUED + 120_000
    events = [{"kind": "open", **incident("שדרות")},
              {"kind": "open", **incident("מטולה")},
              {"kind": "close", "reason": "expired", **incident("מטולה", issued_at=None),
               "ends_at": ISSUED + 60_000},
              {"kind": "close", "reason": "cancelled", **incident("שדרות", issued_at=ended,
                                                                title=None),
               "type": "ירי רקטות וטילים", "ends_at": ended}]
    document = json.loads(hfc_out.history(events))
    assert document[0] == {"alertDate": "2025-11-27 23:48:40", "data": "שדרות", "category": 13,
                           "title": "ירי רקטות וטילים - האירוע הסתיים"}
    assert [entry["data"] for entry in document] == ["שדרות", "מטולה", "שדרות"]
    # alertflow's own follower, like the feed's consumers, reads it as an all-clear for the area.
    followed = hfc.parse(hfc_out.history(events), 0)
    first = followed[0]
    assert (first.kind, first.category, first.names[0][0]) == ("cancel", "all_clear", "שדרות")
