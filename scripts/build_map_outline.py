"""Build the dashboard's offline map backdrop: the country, its neighbours' land and the borders.

Inputs: the bundled catalogue's outlines (alertflow/data/areas-il-2026.json) and Natural
Earth's 1:10m countries (public domain) as packaged by the `world-atlas` npm package (ISC),
converted here at build time, never fetched by the page:

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python scripts/build_map_outline.py package/countries-10m.json

Output (committed): alertflow/dashboard/geo/outline.json in [lng, lat] with 3 decimals (about
100 m), cut to a box around today's areas:

- `land`: all land in the box (the neighbours too), `borders`: where two countries meet; the
  map draws both around the areas' own outlines (build_map_regions.py).
- `country`: where the alert areas lie — the union of every area's outline grown by REACH,
  with Natural Earth's Israel. Not drawn: "where I am" (geo.js) calls a position outside it
  "outside the country" (GPS jamming puts phones in Beirut) rather than "between areas".

TopoJSON is decoded here (quantised delta-coded arcs: a dozen lines) and shapely clips and
simplifies; no dependency of the package needs either.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon, box
from shapely.ops import unary_union

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "alertflow/data/areas-il-2026.json"
OUT = ROOT / "alertflow/dashboard/geo/outline.json"
MARGIN = 0.6  # degrees of context around the catalogue's areas
TOLERANCE = 0.002  # degrees (~200 m): finer than any zoom the map offers needs
REACH = 0.03  # degrees (~3 km): around an area is still the country (roads between towns)
COUNTRY = "Israel"  # Natural Earth's name for the country whose areas these are


def arcs_of(topology: dict[str, Any]) -> list[list[tuple[float, float]]]:
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    decoded = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        decoded.append(points)
    return decoded


def ring(arcs: list[list[tuple[float, float]]], indexes: list[int]) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def area_outlines() -> list[Any]:
    shapes = []
    for record in json.loads(CATALOG.read_text()):
        if record.get("zone") and record.get("polygon"):
            shape = Polygon([(lng, lat) for lat, lng in record["polygon"]])
            shapes.append(shape if shape.is_valid else shape.buffer(0))
    return shapes


def main(path: str) -> None:
    topology = json.loads(Path(path).read_text())
    arcs = arcs_of(topology)
    areas = area_outlines()
    west, south, east, north = shapely.union_all(areas).bounds
    frame = box(west - MARGIN, south - MARGIN, east + MARGIN, north + MARGIN)
    countries = []
    home = None
    for geometry in topology["objects"]["countries"]["geometries"]:
        polygons = ([geometry["arcs"]] if geometry["type"] == "Polygon"
                    else geometry["arcs"] if geometry["type"] == "MultiPolygon" else [])
        parts = [Polygon(ring(arcs, p[0]), [r for h in p[1:] if len(r := ring(arcs, h)) > 3])
                 for p in polygons if len(ring(arcs, p[0])) > 3]
        shape = MultiPolygon(parts).buffer(0)
        if shape.intersects(frame):
            countries.append(shape.intersection(frame))
            if geometry.get("properties", {}).get("name") == COUNTRY:
                home = shape
    if home is None:
        raise SystemExit(f"{path}: no country named {COUNTRY!r}")
    land = unary_union(countries).simplify(TOLERANCE)
    country = unary_union([home, *(a.buffer(REACH) for a in areas)]).simplify(TOLERANCE)
    # Borders: where two countries' outlines meet (not the coast).
    edges = [a.boundary.intersection(b.boundary) for i, a in enumerate(countries)
             for b in countries[i + 1:]]
    borders = shapely.line_merge(unary_union([e for e in edges if not e.is_empty]))
    borders = borders.simplify(TOLERANCE)

    def rings(shape: Any) -> list[list[list[float]]]:
        polys = shape.geoms if isinstance(shape, MultiPolygon) else [shape]
        return [[[round(x, 3), round(y, 3)] for x, y in r.coords]
                for p in polys for r in (p.exterior, *p.interiors) if len(r.coords) > 3]

    def lines(shape: Any) -> list[list[list[float]]]:
        parts = shape.geoms if isinstance(shape, MultiLineString) else [shape]
        return [[[round(x, 3), round(y, 3)] for x, y in part.coords]
                for part in parts if isinstance(part, LineString) and len(part.coords) > 1]

    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps({
        "source": "Natural Earth 1:10m countries (public domain), via world-atlas 2.0.2 (ISC); "
                  f"country: {COUNTRY} there and {REACH}° around the outlines of "
                  "alertflow/data/areas-il-2026.json",
        "country": rings(country), "land": rings(land), "borders": lines(borders),
    }, separators=(",", ":")) + "\n")
    print(f"{OUT}: {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main(sys.argv[1])
