"""Shapes to catalog areas, by the areas' outlines.

CAP 1.2 writes a polygon as space-separated `lat,lon` pairs (first = last, at least four) and a
circle as `lat,lon radius_km`. `AreaIndex` holds every area's outline (a point for an area the
catalog gives none) in a shapely STRtree, so a query tests only the few areas near the shape:

- a polygon selects every area whose outline it overlaps (their interiors meet: a polygon
  drawn exactly along a town's border does not select the neighbours it only touches; an area
  known by its point alone counts on the boundary); a self-intersecting polygon still
  encloses what its sender meant (`make_valid`);
- a circle selects every area whose outline comes within its radius, measured on the sphere:
  the tree gives the areas in the circle's bounding box (split at the antimeridian), and those
  inside a polygon inscribed well within the circle; the other outlines are measured at once
  on a plane scaled at the centre's latitude, whose distances are within a known factor of the
  sphere's (`_stretch`); only an outline within that factor of the radius is measured
  exactly, its edges cut to `SEGMENT_DEG`, in an azimuthal equidistant projection around the
  centre (distance from the centre there is great-circle distance). So a circle stays a circle
  at any latitude;
- `at(lat, lng)` gives the areas whose outline contains the point, boundary included (two
  areas share a border, so a point on it is in both).

The catalog's outlines are repaired once, at load: an invalid ring becomes its valid polygonal
parts. A polygon's coordinates are taken as given (no wrapping): one whose longitudes jump
from 179 to -179 spans the globe the long way; a circle wraps (it is one around its centre).
Anything that is not a shape raises `ShapeError` naming why; nothing else escapes a query.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import shapely
from shapely import STRtree
from shapely.errors import GEOSException

from alertflow.domain.locations import Area, Catalog

MAX_POINTS: Final = 10_000  # a country's outline needs far fewer; beyond it is abuse
MAX_RADIUS_KM: Final = 1_000.0
EARTH_RADIUS_KM: Final = 6_371.0088
_KM_PER_DEGREE: Final = math.pi * EARTH_RADIUS_KM / 180
# CAP out's outlines: Douglas-Peucker at 0.0002° (≈22 m north-south, ≈19 m east-west here),
# topology kept: the bundled outlines' 70,164 points become 34,837 (a ring of 24 on average),
# and no vertex left out lies more than 0.00032° (≈35 m) from the ring kept.
CAP_TOLERANCE_DEG: Final = 0.0002

# A circle measures an outline projected around its centre, where an edge of the outline bends
# (a parallel is a curve there): cut to 0.005° (~500 m), an edge stays within a few
# centimetres of its chord anywhere south of 85°.
SEGMENT_DEG: Final = 0.005

LatLng = tuple[float, float]


class ShapeError(ValueError):
    """A polygon or circle that is not one; the message says why."""


def _pair(text: str) -> LatLng:
    lat_text, sep, lon_text = text.partition(",")
    if not sep:
        raise ShapeError(f"expected 'lat,lon', got {text[:40]!r}")
    try:
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        raise ShapeError(f"expected numbers in 'lat,lon', got {text[:40]!r}") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):  # also refuses NaN and infinities
        raise ShapeError(f"coordinates out of range: {text[:40]!r}")
    return lat, lon


def _polygonal(geometry: shapely.Geometry) -> shapely.Geometry:
    """A geometry made valid, keeping its polygonal parts when it has any (make_valid leaves
    stray lines and points beside the polygons of a ring that crosses itself)."""
    if geometry.is_valid:
        return geometry
    valid = shapely.make_valid(geometry)
    parts = [part for part in shapely.get_parts(valid)
             if part.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return valid  # degenerate (a line or a point): still a place a shape can meet
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)


def parse_polygon(text: str) -> shapely.Geometry:
    """A CAP `<polygon>` as a valid shapely geometry (x = longitude, y = latitude)."""
    pairs = text.split()
    if len(pairs) > MAX_POINTS:
        raise ShapeError(f"more than {MAX_POINTS} points")
    points = [_pair(pair) for pair in pairs]
    if len(points) < 4:
        raise ShapeError("a polygon needs at least four 'lat,lon' points (first = last)")
    if points[0] != points[-1]:
        raise ShapeError("a polygon's first and last points must be the same")
    try:
        # A self-intersecting outline still encloses what its sender meant.
        return _polygonal(shapely.Polygon([(lon, lat) for lat, lon in points]))
    except (GEOSException, ValueError) as exc:  # not expected for finite in-range points
        raise ShapeError(f"not a polygon: {exc}") from None


def parse_circle(text: str) -> tuple[float, float, float]:
    center, _, radius_text = text.strip().partition(" ")
    lat, lon = _pair(center)
    try:
        radius = float(radius_text)
    except ValueError:
        raise ShapeError(f"expected 'lat,lon radius_km', got {text[:60]!r}") from None
    if not 0 <= radius <= MAX_RADIUS_KM:  # also refuses NaN
        raise ShapeError(f"radius must be 0…{MAX_RADIUS_KM:g} km")
    return lat, lon, radius


def _central_angle(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle angle in radians (haversine: accurate at small distances)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half = (math.sin((phi2 - phi1) / 2) ** 2
            + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * math.asin(min(1.0, math.sqrt(half)))


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return EARTH_RADIUS_KM * _central_angle(lat1, lon1, lat2, lon2)


def _projector(lat0: float, lon0: float
               ) -> Callable[[Iterable[Sequence[float]]], list[tuple[float, float]]]:
    """(lng, lat) rows → azimuthal equidistant (x, y) in km around (lat0, lon0): each point's
    distance from the origin there is its great-circle distance from (lat0, lon0)."""
    phi0 = math.radians(lat0)
    sin0, cos0 = math.sin(phi0), math.cos(phi0)
    radians, sin, cos, atan2, asin, sqrt = (math.radians, math.sin, math.cos, math.atan2,
                                            math.asin, math.sqrt)

    def project(coordinates: Iterable[Sequence[float]]) -> list[tuple[float, float]]:
        out = []
        for lon, lat in coordinates:
            phi, dlon = radians(lat), radians(lon - lon0)
            cos_phi, sin_phi, cos_dlon = cos(phi), sin(phi), cos(dlon)
            half = sin((phi - phi0) / 2) ** 2 + cos0 * cos_phi * sin(dlon / 2) ** 2
            distance = 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(half)))
            azimuth = atan2(sin(dlon) * cos_phi, cos0 * sin_phi - sin0 * cos_phi * cos_dlon)
            out.append((distance * sin(azimuth), distance * cos(azimuth)))
        return out

    return project


def _stretch(lat: float, radius_km: float) -> float:
    """How far apart, as a factor, great-circle distances from a point at `lat` and the
    distances of a plane scaled at `lat` (x = longitude × cos lat) can be within `radius_km`
    of it: the plane's east-west scale is off by cos lat / cos φ at latitude φ, and a path
    that short stays within radius / R of `lat`. Infinite when that band reaches a pole."""
    band = radius_km / EARTH_RADIUS_KM
    phi = math.radians(lat)
    low, high = phi - band, phi + band
    if low <= -math.pi / 2 or high >= math.pi / 2:
        return math.inf
    cos0 = math.cos(phi)
    widest = 1.0 if low <= 0 <= high else max(math.cos(low), math.cos(high))
    narrowest = min(math.cos(low), math.cos(high))
    return max(widest / cos0, cos0 / narrowest) * 1.000001  # and a rounding margin


def _circle_boxes(lat: float, lon: float, radius_km: float) -> list[shapely.Geometry]:
    """Longitude/latitude boxes that together hold the circle (two across the antimeridian)."""
    angle = radius_km / EARTH_RADIUS_KM
    dlat = math.degrees(angle)
    south, north = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    cos_lat = math.cos(math.radians(lat))
    if north >= 90 or south <= -90 or math.sin(angle) >= cos_lat:
        return [shapely.box(-180, south, 180, north)]  # the circle holds a pole
    # The widest point of a spherical circle is poleward of its centre: asin, not a ratio.
    dlon = math.degrees(math.asin(math.sin(angle) / cos_lat))
    west, east = lon - dlon, lon + dlon
    boxes = [shapely.box(max(-180.0, west), south, min(180.0, east), north)]
    if west < -180:
        boxes.append(shapely.box(west + 360, south, 180, north))
    if east > 180:
        boxes.append(shapely.box(-180, south, east - 360, north))
    return boxes


def _ring_shape(outline: Sequence[LatLng]) -> shapely.Geometry:
    return _polygonal(shapely.polygons([(lng, lat) for lat, lng in outline]))


def outline_shape(area: Area) -> shapely.Geometry:
    """An area's outline as a valid geometry (x = longitude), or its point when it has none."""
    if len(area.outline) >= 3:
        return _ring_shape(area.outline)
    return shapely.Point(area.lng, area.lat)


def cap_rings(outline: Sequence[LatLng], tolerance: float = CAP_TOLERANCE_DEG
              ) -> list[list[LatLng]]:
    """An outline as CAP `<polygon>` rings, (lat, lng), closed (first = last), simplified
    within `tolerance` degrees (topology kept, so each ring stays valid): one ring per part,
    outer rings only (a CAP polygon has no holes). Empty for fewer than three points."""
    if len(outline) < 3:
        return []
    shape = _ring_shape(outline)
    simpler = shapely.simplify(shape, tolerance, preserve_topology=True)
    if not simpler.is_valid or simpler.is_empty:
        simpler = shape
    rings = []
    for part in shapely.get_parts(simpler):
        if part.geom_type != "Polygon":
            continue
        ring = [(round(y, 6), round(x, 6)) for x, y in part.exterior.coords]
        if len(ring) >= 4 and ring[0] == ring[-1]:
            rings.append(ring)
    return rings


@dataclass(frozen=True, slots=True, eq=False)
class AreaIndex:
    """The catalog's area outlines in a spatial index."""

    ids: tuple[str, ...]
    points: tuple[LatLng, ...]  # (lat, lng) per id: each area's own point
    shapes: tuple[shapely.Geometry, ...]  # per id: the outline (x = lng), or the point
    # per id: the same with no edge longer than SEGMENT_DEG, so that an edge stays (nearly)
    # straight once projected around a circle's centre
    dense: tuple[shapely.Geometry, ...]
    tree: STRtree

    @classmethod
    def of(cls, catalog: Catalog) -> AreaIndex:
        ids = tuple(catalog.areas)
        areas = [catalog.areas[i] for i in ids]
        shapes = tuple(outline_shape(area) for area in areas)
        dense = tuple(shapely.segmentize(shape, SEGMENT_DEG) for shape in shapes)
        return cls(ids, tuple((a.lat, a.lng) for a in areas), shapes, dense, STRtree(shapes))

    def in_polygon(self, text: str) -> list[str]:
        polygon = parse_polygon(text)
        hits = self.tree.query(polygon, predicate="intersects")  # boundary counts as inside
        if polygon.area > 0:
            # An outline the polygon only touches (a town's border drawn exactly along it
            # meets each neighbour's) is not under it: the interiors must meet. An area known
            # by its point alone still counts on the boundary.
            touching = shapely.touches(self.tree.geometries.take(hits), polygon)
            hits = [i for i, touch in zip(hits, touching, strict=True)
                    if not touch or self.shapes[i].geom_type == "Point"]
        return [self.ids[i] for i in sorted(hits)]

    def in_circle(self, text: str) -> list[str]:
        lat, lon, radius = parse_circle(text)
        candidates: set[int] = set()
        for box in _circle_boxes(lat, lon, radius):
            candidates.update(int(i) for i in self.tree.query(box))
        # First on a plane scaled at the centre's latitude (in C, every candidate at once),
        # whose distances are within a factor `stretch` of the sphere's there: only an outline
        # within that factor of the radius is then measured exactly, projected around the
        # centre. Longitudes are taken the short way round from the centre's.
        stretch = _stretch(lat, radius)
        scale = (_KM_PER_DEGREE * math.cos(math.radians(lat)), _KM_PER_DEGREE)
        # Outlines inside a polygon inscribed in the plane's circle of radius / stretch are in
        # the sphere's circle: the tree finds those in C, and only the rest are measured.
        inside = self._inside(lat, lon, radius / stretch, scale)
        found = list(inside)
        by_shift: dict[float, list[int]] = {}
        for i in candidates - inside:
            offset = self.points[i][1] - lon
            by_shift.setdefault(360.0 if offset < -180 else -360.0 if offset > 180 else 0.0,
                                []).append(i)
        origin = shapely.Point(0, 0)
        project = _projector(lat, lon)
        for shift, group in by_shift.items():
            moved = (-lon + shift, -lat)
            planes = shapely.distance(origin, shapely.transform(
                [self.shapes[i] for i in group], lambda xy, m=moved: (xy + m) * scale))
            for i, plane in zip(group, planes, strict=True):
                if plane * stretch <= radius or (plane <= radius * stretch and shapely.distance(
                        origin, shapely.transform(self.dense[i], project)) <= radius):
                    found.append(i)
        return [self.ids[i] for i in sorted(found)]

    def _inside(self, lat: float, lon: float, plane_km: float, scale: tuple[float, float]
                ) -> set[int]:
        """The areas inside a 32-gon inscribed in the circle of `plane_km` around (lat, lon) on
        the plane scaled at `lat` (none when that circle would cross a pole or ±180°)."""
        if not (math.isfinite(plane_km) and scale[0] > 0):
            return set()
        dlon, dlat = plane_km / scale[0], plane_km / scale[1]
        if not (-90 < lat - dlat < lat + dlat < 90 and -180 < lon - dlon < lon + dlon < 180):
            return set()
        polygon = shapely.Polygon([
            (lon + dlon * math.cos(k * math.pi / 16), lat + dlat * math.sin(k * math.pi / 16))
            for k in range(32)])
        return {int(i) for i in self.tree.query(polygon, predicate="contains")}

    def at(self, lat: float, lng: float) -> list[str]:
        """The areas whose outline holds the point (boundary included), in catalog order."""
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):  # also refuses NaN
            raise ShapeError(f"coordinates out of range: {lat!r},{lng!r}")
        hits = self.tree.query(shapely.Point(lng, lat), predicate="intersects")
        return [self.ids[i] for i in sorted(hits)]
