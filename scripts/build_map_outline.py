"""Build the dashboard's offline map backdrop: its neighbours' land and the borders, and the
country's own outline.

Input: Natural Earth's 1:10m countries (public domain) as packaged by the `world-atlas` npm
package (ISC), converted here at build time, never fetched by the page; and the bundled
catalogue's outlines (alertflow/data/areas-il-2026.json), for the box the map shows:

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python scripts/build_map_outline.py package/countries-10m.json

Outputs (committed), [lng, lat]:

- alertflow/dashboard/geo/outline.json, 3 decimals (about 100 m), cut to a box around today's
  areas: `land`, all land in the box (the neighbours too), and `borders`, where two countries
  meet; the map draws both around the areas' own outlines.
- alertflow/data/country-il.json: `country`, Natural Earth's Israel as polygons (rings, the
  exterior first), 4 decimals. Not drawn: the notifier joins it with the outlines of the
  catalog it runs with (alertflow/domain/regions.py, served with the regions by
  `GET /v1/locations/regions.json`) into where the alert areas lie, and "where I am" calls a
  position outside that "outside the country" (GPS jamming puts phones in Beirut).

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
COUNTRY_OUT = ROOT / "alertflow/data/country-il.json"
MARGIN = 0.6  # degrees of context around the catalogue's areas
TOLERANCE = 0.002  # degrees (~200 m): finer than any zoom the map offers needs
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
        "source": "Natural Earth 1:10m countries (public domain), via world-atlas 2.0.2 (ISC)",
        "land": rings(land), "borders": lines(borders),
    }, separators=(",", ":")) + "\n")
    COUNTRY_OUT.write_text(json.dumps({
        "source": f"Natural Earth 1:10m countries (public domain), via world-atlas 2.0.2 (ISC): "
                  f"{COUNTRY}, by scripts/build_map_outline.py",
        "country": [[[[round(x, 4), round(y, 4)] for x, y in r.coords]
                     for r in (p.exterior, *p.interiors)]
                    for p in (home.geoms if isinstance(home, MultiPolygon) else [home])],
    }, separators=(",", ":")) + "\n")
    for out in (OUT, COUNTRY_OUT):
        print(f"{out}: {out.stat().st_size} bytes")


if __name__ == "__main__":
    main(sys.argv[1])
