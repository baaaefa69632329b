"""Shapes to areas by their outlines, checked against brute force over the whole bundled
catalog (every outline tested, no index) and plain spherical arithmetic."""

from __future__ import annotations

import math
from typing import Any

import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from alertflow.catalog import load_catalog
from alertflow.domain.geo import AreaIndex, ShapeError, cap_rings, parse_polygon
from alertflow.domain.locations import Area, Catalog
from tests.geo_reference import distance_to_outline_km, haversine_km, outlines

CATALOG = load_catalog()
INDEX = AreaIndex.of(CATALOG)
OUTLINES = outlines(CATALOG)


def outline_distance_km(area: Area, lat: float, lon: float) -> float:
    return distance_to_outline_km(area, lat, lon, OUTLINES[area.id])


def box(south: float, west: float, north: float, east: float) -> str:
    return f"{south},{west} {north},{west} {north},{east} {south},{east} {south},{west}"


@settings(max_examples=60, deadline=None)
@given(st.floats(29.4, 33.4), st.floats(34.2, 35.9), st.floats(0.001, 0.6), st.floats(0.001, 0.6))
def test_a_box_holds_exactly_the_areas_whose_outline_it_meets(
    lat: float, lon: float, height: float, width: float
) -> None:
    south, north, west, east = lat, lat + height, lon, lon + width
    shape = shapely.box(west, south, east, north)
    expected = sorted(i for i, outline in OUTLINES.items()
                      if outline.intersects(shape) and not outline.touches(shape))
    assert sorted(INDEX.in_polygon(box(south, west, north, east))) == expected


def test_a_polygon_drawn_along_a_towns_border_selects_that_town_alone() -> None:
    # Abu Gosh shares borders with three neighbours: its own outline, sent back as a CAP
    # polygon, overlaps only Abu Gosh; the neighbours it merely touches are not under it.
    ring = [*CATALOG.areas["אבו גוש"].outline]
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    assert INDEX.in_polygon(" ".join(f"{lat},{lng}" for lat, lng in ring)) == ["אבו גוש"]


@settings(max_examples=40, deadline=None)
@given(st.floats(29.4, 33.4), st.floats(34.2, 35.9), st.floats(0, 15))
def test_a_circle_holds_exactly_the_areas_whose_outline_comes_within_its_radius(
    lat: float, lon: float, radius: float
) -> None:
    near = [area for area in CATALOG.areas.values()
            if haversine_km(lat, lon, area.lat, area.lng) <= radius + 10]  # outlines reach < 9 km
    distances = {area.id: outline_distance_km(area, lat, lon) for area in near}
    assume(all(abs(d - radius) > 0.02 for d in distances.values()))  # clear of the 10 m steps
    expected = sorted(i for i, d in distances.items() if d <= radius)
    assert sorted(INDEX.in_circle(f"{lat},{lon} {radius}")) == expected


def square(area_id: str, lat: float, lng: float, half: float) -> dict[str, Any]:
    """An area `half` degrees of latitude either side of its point, as wide in kilometres."""
    wide = half / math.cos(math.radians(lat))
    return {"id": area_id, "name": {"en": area_id}, "zone": {"en": "Far"}, "shelter_seconds": 0,
            "lat": lat, "lng": lng, "polygon": [[lat - half, lng - wide], [lat + half, lng - wide],
                                                [lat + half, lng + wide], [lat - half, lng + wide]]}


def test_a_circle_is_a_circle_far_north_and_across_the_antimeridian() -> None:
    """At 70°N a degree of longitude is 38 km: 100 km east is 2.6°, 100 km north 0.9°. A
    circle must reach the outline of an area that far east, or north, or just across ±180°,
    as soon as its radius passes the great-circle distance to that outline, not before; each
    area's own point lies 20 km farther, so only the outline can be what the circle reaches."""
    east = math.degrees(100 / 6371.0088 / math.cos(math.radians(70)))
    north = math.degrees(100 / 6371.0088)
    half = math.degrees(20 / 6371.0088)  # 20 km north-south
    for record, (lat, lng) in (
            (square("east", 70, 10 + east + half / math.cos(math.radians(70)), half), (70, 10)),
            (square("north", 70 + north + half, 10, half), (70, 10)),
            (square("across", 10, 179.8, half), (10, -179.95))):
        catalog = Catalog.from_records([record])
        index, area = AreaIndex.of(catalog), catalog.areas[record["id"]]
        edge = distance_to_outline_km(area, lat, lng, outlines(catalog)[area.id])
        assert haversine_km(lat, lng, area.lat, area.lng) > edge + 10
        assert index.in_circle(f"{lat},{lng} {edge + 0.05}") == [area.id], area.id
        assert index.in_circle(f"{lat},{lng} {edge - 0.05}") == [], area.id


def test_a_self_intersecting_outline_still_covers_what_it_encloses() -> None:
    # A bow tie crossing at Sderot's point: one lobe over Sderot's west, the other over the
    # fields north-east of it (Or HaNer), none of it over Gevim or Nir Am.
    lat, lng = CATALOG.areas["שדרות, איבים"].lat, CATALOG.areas["שדרות, איבים"].lng
    bow_tie = (f"{lat - 0.01},{lng - 0.01} {lat + 0.01},{lng + 0.01} "
               f"{lat + 0.01},{lng - 0.01} {lat - 0.01},{lng + 0.01} {lat - 0.01},{lng - 0.01}")
    assert not shapely.Polygon([(float(p.split(",")[1]), float(p.split(",")[0]))
                                for p in bow_tie.split()]).is_valid
    found = INDEX.in_polygon(bow_tie)
    assert "שדרות, איבים" in found
    assert found == sorted(i for i, o in OUTLINES.items() if o.intersects(parse_polygon(bow_tie)))


def test_a_point_on_a_shared_border_is_in_both_areas_and_the_sea_in_none() -> None:
    south, north = CATALOG.areas["אשקלון - דרום"], CATALOG.areas["אשקלון - צפון"]
    shared = sorted(set(south.outline) & set(north.outline))[0]
    assert INDEX.at(*shared) == sorted(["אשקלון - דרום", "אשקלון - צפון"])
    assert INDEX.at(31.7, 34.3) == []  # the sea off Ashkelon
    for lat, lng in ((91, 35), (31, -181), (math.nan, 35), (31, math.inf)):
        with pytest.raises(ShapeError):
            INDEX.at(lat, lng)


def test_cap_rings_stay_closed_valid_and_within_the_tolerance() -> None:
    points = 0
    for area in CATALOG.areas.values():
        rings = cap_rings(area.outline)
        assert rings, area.id
        for ring in rings:
            assert ring[0] == ring[-1] and len(ring) >= 4
            polygon = shapely.Polygon([(lng, lat) for lat, lng in ring])
            assert polygon.is_valid, area.id
            points += len(ring)
        # Douglas-Peucker leaves out only vertices near the ring kept: within its tolerance of
        # the segment that replaced them, and GEOS may then drop a ring's start point too.
        kept = shapely.union_all([shapely.LinearRing([(lng, lat) for lat, lng in ring])
                                  for ring in rings])
        assert max(kept.distance(shapely.Point(lng, lat)) for lat, lng in area.outline
                   ) <= 2 * 0.0002, area.id
    assert points < 0.6 * sum(len(area.outline) for area in CATALOG.areas.values())
