"""Plain arithmetic to check shapes against: each outline on its own (no index) and
great-circle distances by the haversine formula."""

from __future__ import annotations

import itertools
import math

import shapely

from alertflow.domain.locations import Area, Catalog


def outlines(catalog: Catalog) -> dict[str, shapely.Geometry]:
    """Each area's outline as GEOS makes it valid (x = longitude)."""
    return {area.id: shapely.make_valid(shapely.Polygon([(lng, lat) for lat, lng in area.outline]))
            for area in catalog.areas.values()}


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def distance_to_outline_km(area: Area, lat: float, lon: float, outline: shapely.Geometry
                           ) -> float:
    """Great-circle distance from a point to an area's outline: 0 inside, else to its edges,
    each walked in steps of at most ~10 m (edges are straight in latitude/longitude)."""
    if outline.covers(shapely.Point(lon, lat)):
        return 0.0
    ring = [*area.outline, area.outline[0]]
    best = math.inf
    for (lat1, lon1), (lat2, lon2) in itertools.pairwise(ring):
        steps = max(1, int(haversine_km(lat1, lon1, lat2, lon2) / 0.01))
        for k in range(steps + 1):
            t = k / steps
            best = min(best, haversine_km(lat, lon, lat1 + t * (lat2 - lat1),
                                          lon1 + t * (lon2 - lon1)))
    return best
