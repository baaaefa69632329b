"""Build the dashboard's alert regions: each catalogue area's real outline, simplified, offline.

Input: the bundled catalogue (alertflow/data/areas-il-2026.json), whose records carry each
area's `polygon` ([[lat, lng], …], the Home Front Command's outline). shapely (GEOS) simplifies
them as one coverage, so two neighbours keep one shared border (no slivers, no overlaps, no
point that simplification moves into two areas or none), then every ring is quantised and
packed; the page decodes and draws them, and finds "where I am" in them on the device.

    python scripts/build_map_regions.py

Output (committed): alertflow/dashboard/geo/regions.json,
`{precision: 10000, regions: {id: [ring, …]}}`. A ring is [lng, lat] pairs in units of 1e-4°
(about 10 m), without the closing point, written in the Encoded Polyline Algorithm Format
(deltas from the previous point, zigzag, 5-bit groups as the characters 63–126; x = lng first).
geo.js decodes it. Every area keeps a region, and the area's own point (its dot on the map,
`lat`/`lng`) stays inside it: the build stops otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "alertflow/data/areas-il-2026.json"
OUT = ROOT / "alertflow/dashboard/geo/regions.json"
# Visvalingam-Whyatt over the coverage: removes corners whose triangle is under ~50 m on a
# side. Measured on the 2026 outlines: median deviation 21 m, 99th percentile 73 m (GPS is
# good to 5-20 m; the map's deepest zoom shows ~5 m a pixel); 70,164 points become ~34,000.
TOLERANCE = 0.0005  # degrees
PRECISION = 10_000  # quantum 1e-4 degree: ~11 m north-south, ~9.5 m east-west here


def polygonal(shape: Any) -> Any:
    """The polygons of a shape (make_valid may add stray lines and points)."""
    if isinstance(shape, (Polygon, MultiPolygon)):
        return shape
    parts = [g for g in getattr(shape, "geoms", []) if isinstance(g, (Polygon, MultiPolygon))]
    return shapely.union_all(parts)


def outline(record: dict[str, Any]) -> Any:
    shape = Polygon([(lng, lat) for lat, lng in record["polygon"]])
    return shape if shape.is_valid else polygonal(shapely.make_valid(shape))


def quantised_rings(shape: Any) -> list[list[tuple[int, int]]]:
    rings = []
    for part in getattr(shape, "geoms", [shape]):
        if not isinstance(part, Polygon) or part.is_empty:
            continue
        for ring in (part.exterior, *part.interiors):
            points: list[tuple[int, int]] = []
            for x, y in ring.coords:
                q = (round(x * PRECISION), round(y * PRECISION))
                if not points or points[-1] != q:
                    points.append(q)
            if len(points) > 1 and points[0] == points[-1]:
                points.pop()  # the closing point is implied
            if len(points) >= 3:
                rings.append(points)
    return rings


def encode_number(value: int) -> str:
    value = ~(value << 1) if value < 0 else value << 1
    chars = []
    while value >= 0x20:
        chars.append(chr((0x20 | (value & 0x1F)) + 63))
        value >>= 5
    chars.append(chr(value + 63))
    return "".join(chars)


def encode_ring(points: list[tuple[int, int]]) -> str:
    out, px, py = [], 0, 0
    for x, y in points:
        out += [encode_number(x - px), encode_number(y - py)]
        px, py = x, y
    return "".join(out)


def contains(rings: list[list[tuple[int, int]]], x: float, y: float) -> bool:
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


def main() -> None:
    records = [r for r in json.loads(CATALOG.read_text()) if r.get("zone") and r.get("polygon")]
    shapes = [outline(r) for r in records]
    simplified = shapely.coverage_simplify(shapes, TOLERANCE)
    regions: dict[str, list[str]] = {}
    kept_whole = []
    points = 0
    for record, original, shape in zip(records, shapes, simplified, strict=True):
        rings = quantised_rings(shape)
        centre = (record["lng"] * PRECISION, record["lat"] * PRECISION)
        if not rings or not contains(rings, *centre):
            # A small area simplification would lose, or move off its own point: kept as drawn.
            rings = quantised_rings(original)
            kept_whole.append(record["id"])
        if not rings or not contains(rings, *centre):
            raise SystemExit(f"{record['id']}: its point {record['lat']}, {record['lng']} "
                             "is outside its own outline")
        points += sum(len(r) for r in rings)
        regions[record["id"]] = [encode_ring(r) for r in rings]
    raw = sum(len(r["polygon"]) for r in records)
    if len(regions) != len(records):
        raise SystemExit("an area has no region")
    OUT.write_text(json.dumps({
        "source": "outlines of alertflow/data/areas-il-2026.json, coverage-simplified "
                  f"(tolerance {TOLERANCE}°) by scripts/build_map_regions.py",
        "precision": PRECISION,
        "encoding": "per ring: Encoded Polyline Algorithm Format, [lng, lat] x precision, "
                    "open (no closing point)",
        "regions": regions,
    }, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"{OUT}: {len(regions)} of {len(records)} areas, {points} of {raw} points "
          f"({len(kept_whole)} kept unsimplified: {', '.join(kept_whole) or 'none'}), "
          f"{OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
