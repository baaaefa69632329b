"""Shapes to catalog areas: every area whose point lies inside a CAP polygon or circle.

CAP 1.2 writes a polygon as space-separated `lat,lon` pairs (first = last, at least four) and a
circle as `lat,lon radius_km`. shapely's STRtree over the catalog's points answers "which areas
are inside" without testing all 1,340 of them; a circle is its bounding box from the tree, then
great-circle distance, so it stays a circle at any latitude.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import shapely
from shapely import STRtree

from alertflow.domain.locations import Catalog

MAX_POINTS: Final = 10_000  # a country's outline needs far fewer; beyond it is abuse
MAX_RADIUS_KM: Final = 1_000.0
EARTH_RADIUS_KM: Final = 6_371.0088
_KM_PER_DEGREE: Final = math.pi * EARTH_RADIUS_KM / 180


class ShapeError(ValueError):
    """A polygon or circle that is not one; the message says why."""


def _pair(text: str) -> tuple[float, float]:
    lat_text, sep, lon_text = text.partition(",")
    if not sep:
        raise ShapeError(f"expected 'lat,lon', got {text[:40]!r}")
    try:
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        raise ShapeError(f"expected numbers in 'lat,lon', got {text[:40]!r}") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or math.isnan(lat) or math.isnan(lon):
        raise ShapeError(f"coordinates out of range: {text[:40]!r}")
    return lat, lon


def parse_polygon(text: str) -> shapely.Geometry:
    pairs = text.split()
    if len(pairs) > MAX_POINTS:
        raise ShapeError(f"more than {MAX_POINTS} points")
    points = [_pair(pair) for pair in pairs]
    if len(points) < 4:
        raise ShapeError("a polygon needs at least four 'lat,lon' points (first = last)")
    if points[0] != points[-1]:
        raise ShapeError("a polygon's first and last points must be the same")
    polygon = shapely.Polygon([(lon, lat) for lat, lon in points])
    # A self-intersecting outline still encloses what its sender meant.
    return polygon if polygon.is_valid else shapely.make_valid(polygon)


def parse_circle(text: str) -> tuple[float, float, float]:
    center, _, radius_text = text.strip().partition(" ")
    lat, lon = _pair(center)
    try:
        radius = float(radius_text)
    except ValueError:
        raise ShapeError(f"expected 'lat,lon radius_km', got {text[:60]!r}") from None
    if not 0 <= radius <= MAX_RADIUS_KM:
        raise ShapeError(f"radius must be 0…{MAX_RADIUS_KM:g} km")
    return lat, lon, radius


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half = (math.sin((phi2 - phi1) / 2) ** 2
            + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(half)))


@dataclass(frozen=True, slots=True)
class AreaIndex:
    """The catalog's area points in a spatial index."""

    ids: tuple[str, ...]
    points: tuple[tuple[float, float], ...]  # (lat, lon) per id
    tree: STRtree

    @classmethod
    def of(cls, catalog: Catalog) -> AreaIndex:
        ids = tuple(catalog.areas)
        points = tuple((catalog.areas[i].lat, catalog.areas[i].lng) for i in ids)
        return cls(ids, points, STRtree(shapely.points([(lon, lat) for lat, lon in points])))

    def in_polygon(self, text: str) -> list[str]:
        polygon = parse_polygon(text)
        hits = self.tree.query(polygon, predicate="intersects")  # boundary counts as inside
        return [self.ids[i] for i in sorted(hits)]

    def in_circle(self, text: str) -> list[str]:
        lat, lon, radius = parse_circle(text)
        dlat = radius / _KM_PER_DEGREE
        dlon = radius / max(1e-6, _KM_PER_DEGREE * math.cos(math.radians(lat)))
        box = shapely.box(lon - dlon, lat - dlat, lon + dlon, lat + dlat)
        return [
            self.ids[i] for i in sorted(self.tree.query(box))
            if _distance_km(lat, lon, *self.points[i]) <= radius
        ]
