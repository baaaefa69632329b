"""`GET /v1/locations`: the location catalog, as the dashboard and apps read it;
`GET /v1/locations/at?lat=…&lng=…`: the area(s) whose outline holds a point;
`GET /v1/locations/regions.json`: each area's outline, simplified, and the country, as the
dashboard's map draws them and finds "where I am" in them (alertflow/map_data.py); and
`GET /v1/aliases`: other names for its places (the listener's alias table), for searches."""

from __future__ import annotations

import asyncio
import gzip
import json
import math
import re
import time

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from alertflow.catalog import area_record, catalog_json, load_aliases
from alertflow.domain.geo import AreaIndex
from alertflow.map_data import MapData, build_map_data
from alertflow.notifier.routes.context import RouteContext

log = structlog.get_logger("alertflow.notifier")

# A decimal number as people and programs write one: no "nan", "inf", "0x…" or "1_0".
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_RANGES = {"lat": (-90.0, 90.0), "lng": (-180.0, 180.0)}
# The answer depends only on the catalog; `private`: shared caches keep nobody's position.
_CACHE = {"Cache-Control": "private, max-age=3600"}


def _invalid(field: str, reason: str) -> Response:
    return JSONResponse({"error": "invalid_query", "field": field, "reason": reason},
                        status_code=422)


def _coordinate(request: Request, name: str) -> float | str:
    """The parameter's value, or why it is not one."""
    values = request.query_params.getlist(name)
    low, high = _RANGES[name]
    if len(values) != 1:
        return (f"required: decimal degrees {low:g}…{high:g}" if not values
                else "given more than once")
    text = values[0].strip()
    value = float(text) if _NUMBER.fullmatch(text) else math.nan
    if not low <= value <= high:  # also refuses NaN, and numbers too big for a float
        return f"decimal degrees {low:g}…{high:g}, got {values[0][:40]!r}"
    return value


def routes(context: RouteContext) -> list[BaseRoute]:
    body = catalog_json(context.catalog)  # built once: the catalog does not change at run time
    # The largest download of a first visit (≈ 520 KB, 87 KB compressed): compressed once here,
    # sent to every client that accepts it.
    compressed = gzip.compress(body, compresslevel=9, mtime=0)

    async def get_locations(request: Request) -> Response:
        headers = {"Cache-Control": "public, max-age=3600", "Vary": "Accept-Encoding"}
        if "gzip" in request.headers.get("accept-encoding", "").lower():
            return Response(compressed, media_type="application/json",
                            headers={**headers, "Content-Encoding": "gzip"})
        return Response(body, media_type="application/json", headers=headers)

    # Built on the first question, once per process (~40-150 ms for today's 1,449 outlines):
    # a notifier that is never asked does not pay for it at start-up.
    index: list[AreaIndex] = []

    async def get_at(request: Request) -> Response:
        unknown = sorted(set(request.query_params) - set(_RANGES))
        if unknown:
            return _invalid(unknown[0], "unknown parameter: lat, lng")
        lat, lng = _coordinate(request, "lat"), _coordinate(request, "lng")
        for name, value in (("lat", lat), ("lng", lng)):
            if isinstance(value, str):
                return _invalid(name, value)
        assert isinstance(lat, float) and isinstance(lng, float)
        if not index:
            index.append(AreaIndex.of(context.catalog))
        found = index[0].at(lat, lng)
        if not found:
            return JSONResponse({"error": "not_found", "field": "$",
                                 "reason": f"({lat:g}, {lng:g}) is outside every alert area"},
                                status_code=404, headers=_CACHE)
        records = [area_record(context.catalog.areas[i]) for i in found]
        return Response(json.dumps(records, ensure_ascii=False, separators=(",", ":")),
                        media_type="application/json", headers=_CACHE)

    # Built on the first request, once per process, in a thread (~0.4 s of shapely for today's
    # 1,449 outlines and ~1 s for the country, at best; seconds on a busy machine): a notifier
    # nobody asks does not pay for it, and the event loop keeps serving alerts meanwhile. An
    # area whose region the build would lose (a refreshed catalog's outline that is no polygon,
    # or misses its own point) is logged and left out, drawn as a dot: the map of every other
    # area still works. The bundled catalog's areas all keep theirs (the release's guard:
    # tests/unit/test_map_regions.py).
    map_data: list[MapData] = []
    building = asyncio.Lock()

    async def get_regions(request: Request) -> Response:
        if not map_data:
            async with building:
                if not map_data:
                    started = time.perf_counter()
                    data = await run_in_threadpool(build_map_data, context.catalog)
                    for area, why in data.regions.dropped:
                        log.warning("map region dropped", area=area, reason=why)
                    log.info("map regions built", areas=len(data.regions.regions),
                             dropped=len(data.regions.dropped), bytes=len(data.body),
                             seconds=round(time.perf_counter() - started, 3))
                    map_data.append(data)
        data = map_data[0]
        headers = {"Cache-Control": "public, max-age=3600", "Vary": "Accept-Encoding",
                   "ETag": data.etag}
        tags = {t.strip() for t in request.headers.get("if-none-match", "").split(",")}
        if data.etag in tags or data.etag[2:] in tags or "*" in tags:
            return Response(status_code=304, headers=headers)
        if "gzip" in request.headers.get("accept-encoding", "").lower():
            return Response(data.compressed, media_type="application/json",
                            headers={**headers, "Content-Encoding": "gzip"})
        return Response(data.body, media_type="application/json", headers=headers)

    # The table names places of the bundled catalog: serve the entries this catalog has (an
    # area, a zone, or a split city: the common prefix of its areas' names).
    ids = list(context.catalog.areas)
    zones = {area.zone for area in context.catalog.areas.values()}
    known = {name: names for name, names in load_aliases().items()
             if name in zones or any(i == name or i.startswith(name + " -") for i in ids)}
    aliases = json.dumps({"aliases": known}, ensure_ascii=False).encode()

    async def get_aliases(_request: Request) -> Response:
        return Response(aliases, media_type="application/json",
                        headers={"Cache-Control": "public, max-age=3600"})

    return [Route("/v1/locations", get_locations, methods=["GET"]),
            Route("/v1/locations/at", get_at, methods=["GET"]),
            Route("/v1/locations/regions.json", get_regions, methods=["GET"]),
            Route("/v1/aliases", get_aliases, methods=["GET"])]
