"""`alertflow bench geo`: what shapes cost, in one process, on the bundled catalog.

No service is involved: this is the listener's own CAP path (`cap.parse` then `to_alerts`, as
`POST /v1/cap` runs them) and `AreaIndex` on its own, each timed in CPU seconds of this
process (`time.process_time`), so the figures hold on a machine shared with other work:

- `cap_per_cpu_s`: CAP 1.2 messages parsed, validated and resolved to alerts per CPU-second,
  with the polygon the ingest bench sends (a box of ±0.0005° around one area's point) and with
  a town-sized one (±0.01°, about 2 km), each over `--messages` messages on seeded areas;
- `index_build_s`: `AreaIndex.of` over the catalog (what each listener pays at start-up);
- `at_per_cpu_s_in_areas` / `_in_box`: point lookups per CPU-second (`AreaIndex.at`, where it
  exists; an index of points has none, so against one the nearest area's point stands in:
  `STRtree.nearest`), over `--points` seeded points inside seeded areas' outlines, and as many
  anywhere in the country's box (mostly outside every area: sea, desert, fields);
- `circles_per_cpu_s`: `<circle>` queries of radius 1-20 km around seeded areas' points.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import shapely

from alertflow.bench.load import _CAP
from alertflow.catalog import load_catalog
from alertflow.domain import cap
from alertflow.domain.alert import IngestRules
from alertflow.domain.geo import AreaIndex
from alertflow.domain.incoming import to_alerts
from alertflow.schemas import cap12

# The country's box (the catalog's outlines lie within it).
SOUTH, NORTH, WEST, EAST = 29.45, 33.35, 34.25, 35.9


_T = TypeVar("_T")


def _per_cpu_s(work: Callable[[_T], object], items: Sequence[_T]) -> float:
    """`work` on each of `items`, per CPU-second of this process."""
    start = time.process_time()
    for item in items:
        work(item)
    return len(items) / max(1e-9, time.process_time() - start)


def _box(lat: float, lng: float, d: float) -> str:
    return " ".join(f"{la:.5f},{lo:.5f}" for la, lo in (
        (lat - d, lng - d), (lat + d, lng - d), (lat + d, lng + d), (lat - d, lng + d),
        (lat - d, lng - d)))


def _inside(outline: Sequence[tuple[float, float]], rng: random.Random) -> tuple[float, float]:
    """A seeded point inside an outline (rejection sampling in its bounding box)."""
    ring = shapely.Polygon([(lng, lat) for lat, lng in outline])
    west, south, east, north = ring.bounds
    while True:
        lat, lng = rng.uniform(south, north), rng.uniform(west, east)
        if ring.contains(shapely.Point(lng, lat)):
            return lat, lng


def run(messages: int = 2_000, points: int = 20_000, seed: int = 4) -> dict[str, Any]:
    catalog = load_catalog()
    start = time.process_time()
    index = AreaIndex.of(catalog)
    build_s = time.process_time() - start
    schema = cap12()
    rng = random.Random(seed)
    areas = [catalog.areas[i] for i in rng.choices(list(catalog.areas), k=messages)]
    rules = IngestRules(max_alerts=100, max_age_s=3_600, max_ahead_s=3_600,
                        strict_locations=False)
    now = datetime.now(UTC).replace(microsecond=0)
    sent = now.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    expires = datetime.fromtimestamp(now.timestamp() + 600, UTC).strftime(
        "%Y-%m-%dT%H:%M:%S+00:00")
    now_ms = int(now.timestamp() * 1000)
    result: dict[str, Any] = {"scenario": "geo", "areas": len(catalog), "seed": seed,
                              "messages": messages, "points": points,
                              "index_build_s": round(build_s, 4)}
    alerts = [0]

    def parse_one(body: bytes) -> None:
        message = cap.parse(body, schema, index)
        alerts[0] += sum(len(alert.locations) for alert in to_alerts(
            list(message.alerts), source="bench", now_ms=now_ms, catalog=catalog, rules=rules))

    for name, half in (("bench_box", 0.0005), ("town_box", 0.01)):
        bodies = [_CAP.format(identifier=f"geo{n}", sent=sent, expires=expires,
                              ring=_box(a.lat, a.lng, half)).encode()
                  for n, a in enumerate(areas)]
        _per_cpu_s(parse_one, bodies[:200])  # warm-up: caches, the schema's first use
        alerts[0] = 0
        result[f"cap_per_cpu_s_{name}"] = round(_per_cpu_s(parse_one, bodies))
        result[f"areas_per_message_{name}"] = round(alerts[0] / messages, 2)
    anywhere = [(rng.uniform(SOUTH, NORTH), rng.uniform(WEST, EAST)) for _ in range(points)]
    inside = [_inside(catalog.areas[i].outline, rng)
              for i in rng.choices(list(catalog.areas), k=points)]
    at = getattr(index, "at", None)
    if at is not None:
        result["at_method"] = "AreaIndex.at (outlines)"
        result["box_points_in_an_area"] = round(
            sum(bool(at(lat, lng)) for lat, lng in anywhere) / points, 3)
    else:
        result["at_method"] = "STRtree.nearest (an index of points has no at())"

        def at(lat: float, lng: float) -> object:
            return index.tree.nearest(shapely.Point(lng, lat))

    result["at_per_cpu_s_in_areas"] = round(_per_cpu_s(lambda p: at(*p), inside))
    result["at_per_cpu_s_in_box"] = round(_per_cpu_s(lambda p: at(*p), anywhere))
    circles = [f"{a.lat:.5f},{a.lng:.5f} {rng.uniform(1, 20):.2f}" for a in areas]
    result["circles_per_cpu_s"] = round(_per_cpu_s(index.in_circle, circles))
    return result
