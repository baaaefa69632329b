"""The map's regions and country built from a catalog (alertflow/domain/regions.py), as the
notifier serves them at `GET /v1/locations/regions.json` (alertflow/map_data.py)."""

from __future__ import annotations

import json
from typing import Any

import shapely

from alertflow.catalog import load_catalog
from alertflow.domain.locations import Catalog
from alertflow.domain.regions import (
    PRECISION,
    build_regions,
    contains,
    country_rings,
    decode_ring,
    encode_ring,
    regions_document,
)
from alertflow.map_data import build_map_data


def area(name: str, lat: float, lng: float, polygon: list[list[float]] | None) -> dict[str, Any]:
    record: dict[str, Any] = {"id": name, "name": {"he": name}, "zone": {"he": "אזור"},
                              "shelter_seconds": 90, "lat": lat, "lng": lng}
    if polygon is not None:
        record["polygon"] = polygon
    return record


def square(south: float, west: float, size: float, wobble: float = 0.0) -> list[list[float]]:
    """[lat, lng] points of a square; `wobble`: a zigzag of small corners along its east
    side, which simplification removes."""
    east = [[south + size * k / 100, west + size + (wobble if k % 2 else 0)] for k in range(101)]
    return [[south, west], *east, [south + size, west], [south, west]]


# Two neighbours along one wobbly border (the west one's east side is the east one's west
# side), a village whose point is on a spike of its outline narrower than the tolerance, an
# outline that crosses itself, an area whose point lies outside its outline, and one the
# catalog gives no outline.
WEST = square(31.0, 35.0, 0.1, wobble=0.0001)
EAST = [[lat, lng] for lat, lng in reversed(WEST[1:102])] + [[31.0, 35.2], [31.1, 35.2]]
EAST = [*EAST, EAST[0]]
RECORDS = [
    area("מערב", 31.05, 35.05, WEST),
    area("מזרח", 31.05, 35.15, EAST),
    area("כפר", 31.31005, 35.305, [[31.3, 35.3], [31.3, 35.31], [31.31, 35.31], [31.31, 35.3051],
                                    [31.3104, 35.305], [31.31, 35.3049], [31.31, 35.3],
                                    [31.3, 35.3]]),
    area("פרפר", 31.57, 35.05, [[31.4, 35.0], [31.6, 35.1], [31.6, 35.0], [31.4, 35.1],
                               [31.4, 35.0]]),
    area("בחוץ", 32.0, 35.0, square(31.7, 35.0, 0.1)),
    area("נקודה", 31.9, 35.5, None),
    {"id": "כל הארץ", "name": {"he": "כל הארץ"}},  # a name of the whole country, not a place
]


def rings_of(encoded: list[str]) -> list[list[tuple[int, int]]]:
    return [decode_ring(ring) for ring in encoded]


def test_each_area_gets_a_region_that_holds_its_point_and_neighbours_share_a_border() -> None:
    catalog = Catalog.from_records(RECORDS)
    built = build_regions(catalog)
    assert list(built.regions) == ["מערב", "מזרח", "כפר", "פרפר"]
    assert built.dropped == (("בחוץ", "its point 32.0, 35.0 is outside its own outline"),)
    for name, encoded in built.regions.items():
        record = catalog.areas[name]
        assert contains(rings_of(encoded), record.lng * PRECISION, record.lat * PRECISION), name
    # The coverage is simplified as one: the zigzag went, from both sides alike.
    west, east = (rings_of(built.regions[n])[0] for n in ("מערב", "מזרח"))
    assert len(west) < 50 and len(east) < 50  # of 103 each
    assert {p for p in west if p[0] > 35.0 * PRECISION} == {
        p for p in east if p[0] < 35.2 * PRECISION}
    # Simplified, it would lose the spike its point is on: kept as drawn.
    assert built.kept_whole == ("כפר",) and len(rings_of(built.regions["כפר"])[0]) == 7
    # The outline that crosses itself is its two triangles.
    assert len(built.regions["פרפר"]) == 2
    assert built.source_points == sum(len(r.get("polygon", [])) for r in RECORDS[:5])


def test_a_ring_encodes_as_the_encoded_polyline_algorithm_format() -> None:
    # Google's documented example, at its precision (1e5), x first as the page reads it.
    points = [(3850000, -12020000), (4070000, -12095000), (4325200, -12645300)]
    assert encode_ring(points) == "_p~iF~ps|U_ulLnnqC_mqNvxq`@"
    assert decode_ring(encode_ring(points)) == points


def test_the_country_holds_every_area_and_its_own_outline() -> None:
    catalog = Catalog.from_records(RECORDS)
    home = [[[[34.0, 30.0], [34.5, 30.0], [34.5, 30.5], [34.0, 30.5], [34.0, 30.0]]]]
    country = shapely.union_all([shapely.Polygon(r) for r in country_rings(catalog, home)])
    for record in catalog.areas.values():
        if record.outline:  # all of its outline, even where its point is not
            outline = shapely.Polygon([(lng, lat) for lat, lng in record.outline])
            assert country.contains(outline.representative_point()), record.id
    assert country.contains(shapely.Point(34.25, 30.25))
    assert country.contains(shapely.Point(35.22, 31.05))  # within reach of an area
    assert not country.contains(shapely.Point(35.5, 31.9))  # a point-only area: no outline

    document = regions_document(build_regions(catalog), "test", country_rings(catalog, home))
    assert set(document) == {"source", "precision", "encoding", "regions", "country"}
    assert document["precision"] == PRECISION


def test_every_area_of_the_bundled_catalog_keeps_its_region() -> None:
    # The release's guard (what scripts/build_map_regions.py stopped on): at run time an area
    # that would lose its region is logged and left out, so it must not happen to these.
    catalog = load_catalog()
    data = build_map_data(catalog)
    assert data.regions.dropped == ()
    assert list(data.regions.regions) == list(catalog.areas)
    assert data.regions.points < data.regions.source_points / 2
    served = json.loads(data.body)
    assert served["regions"] == data.regions.regions and len(served["country"]) > 0
    country = shapely.union_all([shapely.Polygon(r) for r in served["country"]])
    assert all(country.contains(shapely.Point(a.lng, a.lat)) for a in catalog.areas.values())
    assert not country.contains(shapely.Point(35.5, 33.89))  # Beirut
