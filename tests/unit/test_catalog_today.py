"""The bundled catalog is today's map: every area of the 2026 list resolves by its own names,
every id and name of the 2020 list resolves to the area(s) that cover that place today, and the
feed's names for the whole country mean every area.

`tests/data/locations-2020.json` is the 2020 list alertflow shipped before (ids, names and
positions), kept here so the successors can be checked against where the old areas were.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from alertflow.catalog import load_catalog
from alertflow.domain.locations import Catalog
from alertflow.domain.text import spelling

CATALOG = load_catalog()
OLD: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).parent.parent / "data/locations-2020.json").read_text("utf-8"))
KM_PER_DEGREE = 111.2
# The farthest a 2020 area's position lies from the outline of a successor: four remote sites
# the 2026 list dropped are alerted with the nearest area (scripts/build_catalog.py, REVIEWED).
FARTHEST_SUCCESSOR_KM = 12.0


def _km_to_outline(area_id: str, lat: float, lng: float) -> float:
    """Distance from a point to an area's outline vertices or inside (0): enough for a bound."""
    import shapely
    import shapely.ops

    area = CATALOG.areas[area_id]
    polygon = shapely.Polygon([(p_lng, p_lat) for p_lat, p_lng in area.outline])
    scale = math.cos(math.radians(lat))
    point = shapely.Point(lng, lat)
    if polygon.buffer(0).covers(point):
        return 0.0
    nearest = shapely.ops.nearest_points(polygon.buffer(0), point)[0]
    return math.hypot(nearest.y - lat, (nearest.x - lng) * scale) * KM_PER_DEGREE


def test_the_catalog_is_the_2026_list() -> None:
    assert len(CATALOG) == 1_449
    assert len(CATALOG.zones) == 30
    assert CATALOG.country_names == ["ברחבי הארץ", "כל הארץ"]
    assert all(len(area.outline) >= 3 for area in CATALOG.areas.values())
    assert len({area.hfc_code for area in CATALOG.areas.values()}) == 1_449


@pytest.mark.parametrize(("name", "area_id", "shelter"), [
    ("שריגים - לי-און", "שריגים - לי-און", 60),
    ("Srigim (Li-On)", "שריגים - לי-און", 60),  # the 2020 English name
    ("בית הברכה", "בית הברכה", 90),
    ("עכו - רמות ים", "עכו - רמות ים", 45),
    ("אבו-גוש", "אבו גוש", 90),
    ("Abu Ghosh", "אבו גוש", 90),
])
def test_areas_the_2020_list_lacked_or_named_otherwise(name: str, area_id: str,
                                                       shelter: int) -> None:
    resolved = CATALOG.resolve_name(name)
    assert resolved.areas == (area_id,)
    assert CATALOG.areas[area_id].shelter_seconds == shelter


def test_every_area_resolves_by_its_hebrew_id_and_its_english_name() -> None:
    english_owners: dict[str, set[str]] = {}
    for area in CATALOG.areas.values():
        english_owners.setdefault(spelling(area.names["en"]), set()).add(area.id)
    unresolved = []
    for area in CATALOG.areas.values():
        if CATALOG.resolve_name(area.id).areas != (area.id,):
            unresolved.append(area.id)
        if CATALOG.resolve_name(area.names["en"]).areas != (area.id,):
            unresolved.append(area.names["en"])
    assert unresolved == []
    assert {k: v for k, v in english_owners.items() if len(v) > 1} == {}


def test_every_2020_id_and_name_resolves_to_the_areas_that_cover_it_today() -> None:
    """A 2020 name that is no name of today's resolves (as a former name, a city, an alias, a
    close spelling) to areas that lie where the 2020 area was."""
    wrong = []
    for old_id, old in OLD.items():
        for name in dict.fromkeys([old_id, *old["name"].values()]):
            resolved = CATALOG.resolve_name(name)
            if CATALOG._exact(name).how in ("area", "ambiguous"):
                # Today's name of an area (or of several, then never guessed) means that
                # area, wherever the 2020 list put it: it wins over what 2020 called so.
                continue
            if not resolved.found:
                wrong.append((name, "unresolved"))
                continue
            if old_id in CATALOG.areas:  # the same id today: its old names follow it
                if old_id not in resolved.areas:
                    wrong.append((name, resolved.areas, "not", old_id))
                continue
            if len(resolved.areas) > 12:
                # Only a 2020 name that is a zone's name today ("דן" aside, which the review
                # maps to its kibbutz) may mean more than a city's areas.
                if resolved.how != "zone":
                    wrong.append((name, resolved.how, len(resolved.areas)))
                continue
            nearest = min(_km_to_outline(a, old["lat"], old["lng"]) for a in resolved.areas)
            if nearest > FARTHEST_SUCCESSOR_KM:
                wrong.append((name, resolved.areas, round(nearest, 1)))
    assert wrong == []


def test_every_2020_id_resolves_to_its_successor_and_not_as_a_guess() -> None:
    # The 2020 ids are what senders and saved subscriptions hold: each must resolve by a rule
    # (today's name, a city, a former name), never by fuzzy matching that a new area could move.
    guessed = {old_id: CATALOG.resolve_name(old_id).how for old_id in OLD
               if CATALOG.resolve_name(old_id).how not in ("area", "city", "former")}
    assert guessed == {}


def test_a_former_name_never_shadows_a_current_name() -> None:
    for area in CATALOG.areas.values():
        for name in area.former_names:
            resolved = CATALOG.resolve_name(name)
            assert area.id in resolved.areas, (name, area.id, resolved)
            assert resolved.how in ("area", "former"), (name, resolved)


@pytest.mark.parametrize("name", ["ברחבי הארץ", "כל הארץ", "Throughout the country",
                                  "Nationwide", "По всей стране", "في جميع أنحاء البلاد",
                                  "  כל   הארץ "])
def test_the_whole_country_is_every_area(name: str) -> None:
    resolved = CATALOG.resolve_name(" ".join(name.split()))
    assert resolved.how == "country"
    assert set(resolved.areas) == set(CATALOG.areas)


@pytest.mark.parametrize("name", ["כל הארצ", "ברחבי הארש", "Nationwid", "כל הארץ והים"])
def test_a_misspelling_of_the_whole_country_is_no_guess(name: str) -> None:
    # Ringing every area of the country needs its name as written (folded), not a close one.
    assert CATALOG.resolve_name(name).how != "country"


def test_a_catalog_file_without_country_records_has_no_whole_country() -> None:
    small = Catalog.from_records([
        {"id": "Alpha", "name": {"en": "Alpha"}, "zone": {"en": "Z"}, "shelter_seconds": 15,
         "lat": 31.0, "lng": 34.0}])
    assert small.resolve_name("כל הארץ").found is False
    assert small.areas["Alpha"].outline == ()


@pytest.mark.parametrize("zone", ["חפר", "Hefer", "גולן", "הקריות", "Hakrayot"])
def test_a_subscription_to_a_2020_zone_keeps_its_places(zone: str) -> None:
    # Zones were regrouped (33 → 30): a saved subscription to a zone that is gone follows the
    # areas that cover its 2020 areas today, for clients and phones alike.
    import base64

    from alertflow.domain.push import parse_push_subscription
    from alertflow.domain.subscriptions import parse_subscription

    old_areas = [old_id for old_id, old in OLD.items() if zone in old["zone"].values()]
    assert old_areas, zone
    subscription = parse_subscription({"zones": [zone]}, CATALOG, None)
    assert subscription.zones == frozenset()
    for old_id in old_areas:
        assert set(CATALOG.resolve_name(old_id).areas) <= subscription.locations, old_id
    keys = {"p256dh": base64.urlsafe_b64encode(b"\x04" + b"\x11" * 64).decode().rstrip("="),
            "auth": base64.urlsafe_b64encode(b"\x22" * 16).decode().rstrip("=")}
    push = parse_push_subscription({
        "subscription": {"endpoint": "https://fcm.googleapis.com/fcm/send/x", "keys": keys},
        "zones": [zone]}, CATALOG)
    assert push.locations == subscription.locations and push.zones == frozenset()


def test_a_zone_of_today_is_still_a_zone() -> None:
    from alertflow.domain.subscriptions import parse_subscription

    assert CATALOG.former_zone_areas("Upper Galilee") == ()
    assert parse_subscription({"zones": ["Upper Galilee"]}, CATALOG, None).zones == {"גליל עליון"}
