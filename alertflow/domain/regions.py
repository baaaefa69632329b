"""The dashboard's map data that derives from a catalog: each area's region and the country.

Regions: every area's outline, simplified as one coverage by shapely (GEOS), so two neighbours
keep one shared border (no slivers, no overlaps, no point that simplification moves into two
areas or none), then quantised and packed; the page decodes and draws them (geo.js) and finds
"where I am" in them on the device. `{precision: 10000, regions: {id: [ring, …]}}`: a ring is
[lng, lat] pairs in units of 1e-4° (about 10 m), without the closing point, in the Encoded
Polyline Algorithm Format (deltas from the previous point, zigzag, 5-bit groups as the
characters 63–126; x = lng first).

An area keeps a region only if its own point (its dot on the map, `lat`/`lng`) lies inside it:
an area simplification would lose, or move off its point, keeps its outline unsimplified, and
one whose point is outside even that (or whose outline is no polygon) gets no region, and is
listed in `Regions.dropped` with the reason: the map draws it as a dot, "where I am" cannot
find it, and the caller says so. An area the catalog gives no outline has no region either
(not dropped: there is nothing to draw).

The country: where the alert areas lie, the union of every outline grown by `COUNTRY_REACH`
with the country's own outline (Natural Earth's, given by the caller). Not drawn: "where I am"
calls a position outside it "outside the country" (GPS jamming puts phones in Beirut) rather
than "between areas". Pure: the caller reads the catalog and the country's outline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import shapely

from alertflow.domain.locations import Area, Catalog

# Visvalingam-Whyatt over the coverage: removes corners whose triangle is under ~50 m on a
# side. Measured on the 2026 outlines: median deviation 21 m, 99th percentile 73 m (GPS is
# good to 5-20 m; the map's deepest zoom shows ~5 m a pixel); 70,164 points become ~34,000.
TOLERANCE: Final = 0.0005  # degrees
PRECISION: Final = 10_000  # quantum 1e-4 degree: ~11 m north-south, ~9.5 m east-west here
COUNTRY_REACH: Final = 0.03  # degrees (~3 km): around an area is still the country
COUNTRY_TOLERANCE: Final = 0.002  # degrees (~200 m), as the map's land (build_map_outline.py)
ENCODING: Final = ("per ring: Encoded Polyline Algorithm Format, [lng, lat] x precision, "
                   "open (no closing point)")

Ring = list[tuple[int, int]]


@dataclass(frozen=True, slots=True)
class Regions:
    regions: dict[str, list[str]]  # area id → its encoded rings, in catalog order
    kept_whole: tuple[str, ...]  # areas drawn unsimplified (simplification lost their point)
    dropped: tuple[tuple[str, str], ...]  # (area id, why it has no region)
    points: int  # points kept
    source_points: int  # points of the catalog's outlines


def _polygonal(shape: Any) -> Any:
    """A valid shape's polygons (make_valid may add stray lines and points); may be empty."""
    if not shape.is_valid:
        shape = shapely.make_valid(shape)
    parts = [p for p in shapely.get_parts(shape) if p.geom_type in ("Polygon", "MultiPolygon")]
    if len(parts) == 1:
        return parts[0]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _outline(area: Area) -> Any:
    return _polygonal(shapely.Polygon([(lng, lat) for lat, lng in area.outline]))


def _quantised_rings(shape: Any) -> list[Ring]:
    rings = []
    for part in shapely.get_parts(shape):
        if part.geom_type != "Polygon" or part.is_empty:
            continue
        for ring in (part.exterior, *part.interiors):
            points: Ring = []
            for x, y in ring.coords:
                q = (round(x * PRECISION), round(y * PRECISION))
                if not points or points[-1] != q:
                    points.append(q)
            if len(points) > 1 and points[0] == points[-1]:
                points.pop()  # the closing point is implied
            if len(points) >= 3:
                rings.append(points)
    return rings


def _encode_number(value: int) -> str:
    value = ~(value << 1) if value < 0 else value << 1
    chars = []
    while value >= 0x20:
        chars.append(chr((0x20 | (value & 0x1F)) + 63))
        value >>= 5
    chars.append(chr(value + 63))
    return "".join(chars)


def encode_ring(points: Ring) -> str:
    out, px, py = [], 0, 0
    for x, y in points:
        out += [_encode_number(x - px), _encode_number(y - py)]
        px, py = x, y
    return "".join(out)


def decode_ring(text: str) -> Ring:
    """The inverse of `encode_ring` (as geo.js decodes a ring)."""
    values, value, shift = [], 0, 0
    for char in text:
        chunk = ord(char) - 63
        value |= (chunk & 0x1F) << shift
        shift += 5
        if chunk < 0x20:
            values.append(~(value >> 1) if value & 1 else value >> 1)
            value, shift = 0, 0
    points, x, y = [], 0, 0
    for dx, dy in zip(values[::2], values[1::2], strict=True):
        x, y = x + dx, y + dy
        points.append((x, y))
    return points


def contains(rings: Sequence[Ring], x: float, y: float) -> bool:
    """Even-odd rule over every ring, as geo.js tests a point."""
    inside = False
    for ring in rings:
        j = len(ring) - 1
        for i, (xi, yi) in enumerate(ring):
            xj, yj = ring[j]
            if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
                inside = not inside
            j = i
    return inside


def build_regions(catalog: Catalog) -> Regions:
    """Every outlined area's region (see the module's docstring for which areas have none)."""
    areas = [area for area in catalog.areas.values() if len(area.outline) >= 3]
    shapes = [_outline(area) for area in areas]
    simplified = shapely.coverage_simplify(shapes, TOLERANCE) if shapes else []
    regions: dict[str, list[str]] = {}
    kept_whole, dropped = [], []
    points = 0
    for area, original, shape in zip(areas, shapes, simplified, strict=True):
        centre = (area.lng * PRECISION, area.lat * PRECISION)
        rings = _quantised_rings(shape)
        if not rings or not contains(rings, *centre):
            # A small area simplification would lose, or move off its own point: kept as drawn.
            rings = _quantised_rings(original)
            if rings and contains(rings, *centre):
                kept_whole.append(area.id)
        if not rings:
            dropped.append((area.id, "its outline is not a polygon"))
            continue
        if not contains(rings, *centre):
            dropped.append((area.id, f"its point {area.lat}, {area.lng} is outside its own "
                                     "outline"))
            continue
        points += sum(len(r) for r in rings)
        regions[area.id] = [encode_ring(r) for r in rings]
    return Regions(regions, tuple(kept_whole), tuple(dropped), points,
                   sum(len(a.outline) for a in areas))


def country_rings(catalog: Catalog, home: Sequence[Sequence[Sequence[Sequence[float]]]]
                  ) -> list[list[list[float]]]:
    """The country's rings ([[lng, lat], …], closed, 3 decimals; holes are rings too: the page
    tests a point by the even-odd rule): `home`, the country's own outline as polygons (each
    its rings of [lng, lat], the exterior first), with every area's outline grown by
    `COUNTRY_REACH`."""
    parts = [shapely.Polygon(polygon[0], polygon[1:]) for polygon in home if polygon]
    parts += [_outline(area).buffer(COUNTRY_REACH)
              for area in catalog.areas.values() if len(area.outline) >= 3]
    country = shapely.union_all([_polygonal(p) for p in parts]).simplify(COUNTRY_TOLERANCE)
    return [[[round(x, 3), round(y, 3)] for x, y in ring.coords]
            for polygon in shapely.get_parts(country) if polygon.geom_type == "Polygon"
            for ring in (polygon.exterior, *polygon.interiors) if len(ring.coords) > 3]


def regions_document(regions: Regions, source: str,
                     country: list[list[list[float]]] | None = None) -> dict[str, Any]:
    """The map's regions as the page reads them (geo.js `AreaIndex.fromJSON`), with the country
    (as geo/outline.json carried it) when given."""
    document: dict[str, Any] = {"source": source, "precision": PRECISION, "encoding": ENCODING,
                                "regions": regions.regions}
    if country is not None:
        document["country"] = country
    return document
