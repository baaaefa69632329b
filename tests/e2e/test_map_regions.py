"""`GET /v1/locations/regions.json`: the map's regions and country, built by the real notifier
from the catalog it runs with (`--locations`), so that an area a refresh adds is drawn and found
by "use my location" as it is alerted."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shapely

from alertflow.domain.regions import PRECISION, contains, decode_ring
from tests.conftest import free_port
from tests.support import Role, forget_run, wait_ready

BUNDLED = Path(__file__).resolve().parents[2] / "alertflow/data/areas-il-2026.json"
NEW = "מצפה הים"  # an area the refresh adds: a platform off Tel Aviv, in no other's outline
NEW_POLYGON = [[32.10, 34.60], [32.10, 34.64], [32.13, 34.64], [32.13, 34.60], [32.10, 34.60]]
ASTRAY = "נקודה תועה"  # its point is outside its own outline: dropped, the rest still served
ASTRAY_POLYGON = [[32.20, 34.60], [32.20, 34.64], [32.23, 34.64], [32.23, 34.60], [32.20, 34.60]]


def record(name: str, lat: float, lng: float, polygon: list[list[float]]) -> dict[str, Any]:
    return {"id": name, "name": {"he": name, "en": name}, "zone": {"he": "דן", "en": "Dan"},
            "shelter_seconds": 90, "lat": lat, "lng": lng, "polygon": polygon}


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Role]]:
    from tests.conftest import AMQP_URL, REDIS_URL, require_service

    require_service("Redis", REDIS_URL, 6379)
    directory = tmp_path_factory.mktemp("refreshed")
    records = json.loads(BUNDLED.read_text("utf-8"))
    records += [record(NEW, 32.115, 34.62, NEW_POLYGON), record(ASTRAY, 32.3, 34.62,
                                                                ASTRAY_POLYGON)]
    catalog = directory / "areas.json.gz"  # as the ConfigMap holds it
    catalog.write_bytes(gzip.compress(json.dumps(records, ensure_ascii=False).encode()))
    port = free_port()
    role = Role("notifier", ["notify", "--redis-url", REDIS_URL, "--key-prefix", f"map{port}",
                             "--port", str(port), "--locations", str(catalog),
                             "--log-format", "json"], directory)
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, role)
    yield url, role
    role.terminate()
    forget_run(AMQP_URL, REDIS_URL, f"map{port}")


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, \
                response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def test_the_map_follows_the_catalog_the_notifier_runs_with(
        refreshed: tuple[str, Role]) -> None:
    url, role = refreshed
    status, headers, body = get(url + "/v1/locations/regions.json",
                                {"Accept-Encoding": "gzip"})
    assert status == 200, body[:200]
    assert headers["content-encoding"] == "gzip" and "Accept-Encoding" in headers["vary"]
    assert headers["cache-control"] == "public, max-age=3600"
    document = json.loads(gzip.decompress(body))
    assert document["precision"] == PRECISION
    listed = [area["id"] for area in json.loads(get(url + "/v1/locations")[2])]
    assert NEW in listed and ASTRAY in listed

    # The new area is drawn and found by its own point; the stray one is left out, and said.
    rings = [decode_ring(ring) for ring in document["regions"][NEW]]
    assert contains(rings, 34.62 * PRECISION, 32.115 * PRECISION)
    assert list(document["regions"]) == [i for i in listed if i != ASTRAY]
    lines = [json.loads(line) for line in role.log().splitlines() if line.startswith("{")]
    assert any(line.get("event") == "map region dropped" and line.get("area") == ASTRAY
               for line in lines), role.log()[-2000:]
    # The country holds it too: "use my location" there is not "outside the country".
    country = shapely.union_all([shapely.Polygon(r) for r in document["country"]])
    assert country.contains(shapely.Point(34.62, 32.115))

    # Unchanged while the process runs: revalidated by its ETag, and the same uncompressed.
    status, again, _ = get(url + "/v1/locations/regions.json",
                           {"If-None-Match": headers["etag"]})
    assert status == 304 and again["etag"] == headers["etag"]
    status, plain_headers, plain = get(url + "/v1/locations/regions.json",
                                       {"Accept-Encoding": "identity"})
    assert status == 200 and "content-encoding" not in plain_headers
    assert json.loads(plain) == document
