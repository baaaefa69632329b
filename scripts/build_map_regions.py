"""Build the dashboard's alert regions: one polygon per catalogue area, offline, at build time.

Each area's region is its Voronoi cell among all the catalogue's points (the land nearer to it
than to any other area), clipped to the bundled country outline. shapely computes the cells
(GEOS); the page only draws paths. Areas that share a point share its cell.

    python scripts/build_map_regions.py   # after scripts/build_map_outline.py

Output (committed): alertflow/dashboard/geo/regions.json, `{regions: {id: [rings]}}` in
[lng, lat] with 3 decimals (about 100 m), simplified so the file stays small.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shapely import voronoi_polygons
from shapely.geometry import MultiPoint, MultiPolygon, Point, Polygon
from shapely.ops import unary_union

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "alertflow/data/locations-il.json"
OUTLINE = ROOT / "alertflow/dashboard/geo/outline.json"
OUT = ROOT / "alertflow/dashboard/geo/regions.json"
TOLERANCE = 0.0015  # degrees (~150 m): cells are a few km across in cities, more elsewhere
REACH = 0.15  # degrees (~15 km): no region reaches farther than this from its point


def rings(shape: Any) -> list[list[list[float]]]:
    polys = shape.geoms if isinstance(shape, MultiPolygon) else [shape]
    out = []
    for p in polys:
        if not isinstance(p, Polygon) or p.is_empty:
            continue
        for r in (p.exterior, *p.interiors):
            coords = [[round(x, 3), round(y, 3)] for x, y in r.coords]
            if len(coords) > 3:
                out.append(coords)
    return out


def main() -> None:
    areas = [a for a in json.loads(CATALOG.read_text())
             if isinstance(a.get("lat"), (int, float)) and isinstance(a.get("lng"), (int, float))]
    outline = json.loads(OUTLINE.read_text())
    land = unary_union([Polygon(r) for r in outline["land"]]).buffer(0)
    by_point: dict[tuple[float, float], list[str]] = {}
    for a in areas:
        by_point.setdefault((a["lng"], a["lat"]), []).append(a["id"])
    points = list(by_point)
    cells = voronoi_polygons(MultiPoint(points), extend_to=land.envelope.buffer(1))
    regions: dict[str, list[list[list[float]]]] = {}
    for cell in cells.geoms:
        inside = [p for p in points if cell.contains(Point(p))]
        if not inside:
            continue
        point = inside[0]
        # Clip to the land, and to a disc so a desert point does not own half the Negev.
        shape = cell.intersection(land).intersection(Point(point).buffer(REACH))
        shape = shape.simplify(TOLERANCE, preserve_topology=True)
        drawn = rings(shape)
        if drawn:
            for area_id in by_point[point]:
                regions[area_id] = drawn
    OUT.write_text(json.dumps({
        "source": "Voronoi cells of alertflow/data/locations-il.json clipped to outline.json",
        "regions": regions,
    }, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"{OUT}: {len(regions)} of {len(areas)} areas, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
