"""The dashboard's map data of the catalog a process runs with: each area's region and the
country (alertflow/domain/regions.py), as `GET /v1/locations/regions.json` serves them.

Built from the catalog the notifier loaded (`--locations` / ALERTFLOW_LOCATIONS), so a catalog
refreshed without a release is drawn, and found by "use my location", as it is alerted. The
land and borders around it do not depend on the catalog: they stay a static file of the page
(geo/outline.json, scripts/build_map_outline.py).

    python -m alertflow.map_data [LOCATIONS] > regions.json

prints the document for a catalog (the bundled one by default), and says on stderr what the
build dropped.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
from dataclasses import dataclass
from importlib import resources
from typing import Any

from alertflow.domain.locations import Catalog
from alertflow.domain.regions import (
    TOLERANCE,
    Regions,
    build_regions,
    country_rings,
    regions_document,
)

COUNTRY_FILE = "data/country-il.json"  # Natural Earth's Israel (scripts/build_map_outline.py)


def load_country() -> list[Any]:
    text = resources.files("alertflow").joinpath(COUNTRY_FILE).read_text("utf-8")
    country: list[Any] = json.loads(text)["country"]
    return country


@dataclass(frozen=True, slots=True)
class MapData:
    regions: Regions
    body: bytes  # the JSON document
    compressed: bytes  # the same, gzip
    etag: str  # weak: the same for both encodings


def build_map_data(catalog: Catalog) -> MapData:
    regions = build_regions(catalog)
    document = regions_document(
        regions, f"the outlines of the catalog the notifier runs with, coverage-simplified "
                 f"(tolerance {TOLERANCE}°) by alertflow/domain/regions.py",
        country_rings(catalog, load_country()))
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    return MapData(regions, body, gzip.compress(body, compresslevel=9, mtime=0),
                   f'W/"{hashlib.sha256(body).hexdigest()[:32]}"')


def main(argv: list[str]) -> None:
    from alertflow.catalog import BUNDLED, load_catalog

    data = build_map_data(load_catalog(argv[0] if argv else BUNDLED))
    for area, why in data.regions.dropped:
        print(f"{area}: no region: {why}", file=sys.stderr)
    sys.stdout.buffer.write(data.body + b"\n")


if __name__ == "__main__":
    main(sys.argv[1:])
