"""`GET /v1/locations/at`: the area(s) whose outline holds a point, from the real notifier (and
`alertflow dev`); 404 outside every area, 422 naming a bad parameter."""

from __future__ import annotations

import gzip
import json
from typing import Any

import aiohttp
import shapely

from alertflow.catalog import area_record, load_catalog
from tests.e2e.conftest import Pipeline
from tests.geo_reference import haversine_km, outlines

CATALOG = load_catalog()
NAHARIYA = "נהריה"
# Inside Nahariya's outline near its south-western corner: 3.4 km from Nahariya's point and
# 1.1 km from Shavei Zion's, the nearest area point.
FAR_INSIDE = (32.98946, 35.08274)


async def get_at(pipeline: Pipeline, query: list[tuple[str, str]]) -> tuple[int, Any, str]:
    async with aiohttp.ClientSession() as session, session.get(
            pipeline.notifier_urls[0] + "/v1/locations/at", params=query) as response:
        return (response.status, await response.json(),
                response.headers.get("Cache-Control", ""))


async def test_a_point_resolves_to_the_areas_whose_outline_holds_it(pipeline: Pipeline) -> None:
    lat, lng = FAR_INSIDE
    nahariya = CATALOG.areas[NAHARIYA]
    assert outlines(CATALOG)[NAHARIYA].contains(shapely.Point(lng, lat))
    nearest = min(CATALOG.areas.values(), key=lambda a: haversine_km(lat, lng, a.lat, a.lng))
    assert nearest.id == "שבי ציון" and haversine_km(lat, lng, nahariya.lat, nahariya.lng) > 3
    status, body, cache = await get_at(pipeline, [("lat", str(lat)), ("lng", str(lng))])
    assert status == 200, body
    assert body == [area_record(nahariya)]
    assert cache == "private, max-age=3600"

    # A point of the border Ashkelon's two halves share is in both.
    south, north = CATALOG.areas["אשקלון - דרום"], CATALOG.areas["אשקלון - צפון"]
    border = sorted(set(south.outline) & set(north.outline))[0]
    status, body, _ = await get_at(pipeline, [("lat", str(border[0])), ("lng", str(border[1]))])
    assert status == 200 and body == [area_record(south), area_record(north)]

    status, body, _ = await get_at(pipeline, [("lat", "31.7"), ("lng", "34.3")])  # the sea
    assert status == 404 and "outside every alert area" in body["reason"], body


async def test_a_bad_point_is_a_422_naming_the_parameter(pipeline: Pipeline) -> None:
    for query, field in (([("lng", "35")], "lat"),
                         ([("lat", "32")], "lng"),
                         ([("lat", "north"), ("lng", "35")], "lat"),
                         ([("lat", "nan"), ("lng", "35")], "lat"),
                         ([("lat", "32"), ("lng", "inf")], "lng"),
                         ([("lat", "32"), ("lng", "-Infinity")], "lng"),
                         ([("lat", "1e999"), ("lng", "35")], "lat"),
                         ([("lat", "90.5"), ("lng", "35")], "lat"),
                         ([("lat", "32"), ("lng", "180.01")], "lng"),
                         ([("lat", "32"), ("lng", "")], "lng"),
                         ([("lat", "32"), ("lat", "33"), ("lng", "35")], "lat"),
                         ([("lat", "32"), ("lng", "35"), ("radius", "1")], "radius")):
        status, body, _ = await get_at(pipeline, query)
        assert status == 422 and body["field"] == field and body["reason"], (query, body)


async def test_the_catalog_is_sent_compressed_to_clients_that_accept_it(
        pipeline: Pipeline) -> None:
    url = pipeline.notifier_urls[0] + "/v1/locations"
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        async with session.get(url, headers={"Accept-Encoding": "gzip"}) as response:
            assert response.headers["Content-Encoding"] == "gzip"
            assert "Accept-Encoding" in response.headers["Vary"]
            compressed = await response.read()
        async with session.get(url, headers={"Accept-Encoding": "identity"}) as response:
            assert "Content-Encoding" not in response.headers
            plain = await response.read()
    assert gzip.decompress(compressed) == plain and len(compressed) < len(plain) / 4
    assert [record["id"] for record in json.loads(plain)] == list(CATALOG.areas)
