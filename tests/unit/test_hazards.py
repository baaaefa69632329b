"""The hazard table (domain/hazards.py) and what an all-clear ends, as the listener files it."""

from __future__ import annotations

import json
import time

import pytest

from alertflow.domain.alert import parse_v1
from alertflow.domain.categories import CATEGORIES
from alertflow.domain.hazards import (
    FEED_ALL_CLEAR_ENDS,
    HAZARDS,
    WINDOWS,
    hazard_of,
    hazards_ended,
)
from alertflow.domain.locations import Catalog
from alertflow.settings import DEFAULT_SETTINGS


def test_every_category_but_all_clear_shares_exactly_one_hazards_window() -> None:
    listed = [category for categories in WINDOWS.values() for category in categories]
    assert sorted(listed) == sorted(c for c in CATEGORIES if c != "all_clear")
    assert set(WINDOWS) == set(HAZARDS)
    # An early warning becomes the rocket window it warned of; a drill is never the real thing.
    assert hazard_of("early_warning") == hazard_of("missiles") == hazard_of("hostile_aircraft")
    assert hazard_of("drill") not in {hazard_of(c) for c in CATEGORIES if c != "drill"}
    assert len({hazard_of(c) for c in ("missiles", "earthquake", "tsunami", "hazmat")}) == 4


@pytest.mark.parametrize(("category", "type_", "ended"), [
    ("all_clear", "ירי רקטות וטילים - האירוע הסתיים", FEED_ALL_CLEAR_ENDS),  # the feed's
    ("all_clear", "All clear", FEED_ALL_CLEAR_ENDS),  # a bare all-clear: the feed's meaning
    ("all_clear", "Cancel", FEED_ALL_CLEAR_ENDS),
    ("all_clear", "Earthquake", ("earthquake",)),  # {"kind": "cancel", "type": "Earthquake"}
    ("earthquake", "All clear", ("earthquake",)),  # a category the source named wins
    ("missiles", "missiles", ("aerial",)),
    ("drill", "Drill over", ("drill",)),
])
def test_an_all_clear_ends_the_hazard_it_names_else_what_the_feeds_ends(
        category: str, type_: str, ended: tuple[str, ...]) -> None:
    assert hazards_ended(category, type_) == ended


def test_the_feeds_event_ended_never_ends_an_earthquake_or_a_tsunami() -> None:
    assert set(FEED_ALL_CLEAR_ENDS) == {"aerial", "infiltration"}


def test_the_listener_keeps_the_category_a_cancel_names() -> None:
    now = int(time.time() * 1000)

    def queued(body: dict[str, object]) -> tuple[str, str]:
        (alert,) = parse_v1(json.dumps(body).encode(), source="s", now_ms=now,
                            catalog=Catalog.empty(), rules=DEFAULT_SETTINGS.ingest_rules())
        return alert.kind, alert.category

    base = {"location": "Somewhere",
            "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now / 1000))}
    assert queued({**base, "kind": "cancel", "type": "All clear", "category": "earthquake"}) == (
        "cancel", "earthquake")
    assert queued({**base, "kind": "cancel", "type": "All clear"}) == ("cancel", "all_clear")
    assert queued({**base, "type": "האירוע הסתיים"}) == ("cancel", "all_clear")
    assert queued({**base, "kind": "cancel", "type": "whatever"}) == ("cancel", "all_clear")
