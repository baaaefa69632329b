"""Shapes to areas, checked against plain arithmetic over the whole bundled catalog."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from alertflow.catalog import load_catalog
from alertflow.domain.geo import AreaIndex

CATALOG = load_catalog()
INDEX = AreaIndex.of(CATALOG)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


@settings(max_examples=60, deadline=None)
@given(st.floats(29.4, 33.4), st.floats(34.2, 35.9), st.floats(0.001, 0.6), st.floats(0.001, 0.6))
def test_a_box_holds_exactly_the_areas_whose_point_is_in_it(
    lat: float, lon: float, height: float, width: float
) -> None:
    south, north, west, east = lat, lat + height, lon, lon + width
    ring = f"{south},{west} {north},{west} {north},{east} {south},{east} {south},{west}"
    expected = sorted(area.id for area in CATALOG.areas.values()
                      if south <= area.lat <= north and west <= area.lng <= east)
    assert sorted(INDEX.in_polygon(ring)) == expected


@settings(max_examples=60, deadline=None)
@given(st.floats(29.4, 33.4), st.floats(34.2, 35.9), st.floats(0, 40))
def test_a_circle_holds_exactly_the_areas_within_its_radius(
    lat: float, lon: float, radius: float
) -> None:
    expected = sorted(area.id for area in CATALOG.areas.values()
                      if haversine_km(lat, lon, area.lat, area.lng) <= radius)
    assert sorted(INDEX.in_circle(f"{lat},{lon} {radius}")) == expected


def test_a_self_intersecting_outline_still_covers_what_it_encloses() -> None:
    # A bow tie crossing at (31.53, 34.61): its northern lobe holds Sderot (31.5336, 34.6097).
    bow_tie = "31.50,34.58 31.56,34.64 31.56,34.58 31.50,34.64 31.50,34.58"
    assert "שדרות, איבים" in INDEX.in_polygon(bow_tie)
