"""Loading the location catalog: the bundled one, a file, or none."""

from __future__ import annotations

import gzip
import json
from importlib import resources
from pathlib import Path
from typing import Any

from alertflow.domain.locations import Area, Catalog

BUNDLED = "bundled"
BUNDLED_FILE = "data/areas-il-2026.json"


def load_aliases() -> dict[str, list[str]]:
    """Other names for catalog places (data/aliases.json): exonyms and common spellings."""
    text = resources.files("alertflow").joinpath("data/aliases.json").read_text("utf-8")
    aliases: dict[str, list[str]] = json.loads(text)["aliases"]
    return aliases


def load_catalog(source: str = BUNDLED) -> Catalog:
    if source == "none":
        return Catalog.empty()
    if source == BUNDLED:
        text = resources.files("alertflow").joinpath(BUNDLED_FILE).read_text("utf-8")
    else:
        raw = Path(source).read_bytes()
        # A refreshed catalog may come gzip-compressed (`catalog build -o x.gz`): a ConfigMap
        # holds 1 MiB, the catalog with its outlines about 2 MB.
        text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8")
    # The aliases name places of the bundled catalog; another catalog uses those it has.
    return Catalog.from_records(json.loads(text), aliases=load_aliases())


def area_record(area: Area) -> dict[str, Any]:
    """One area as `GET /v1/locations` lists it: the file's fields but the outline, which the
    dashboard reads simplified from its own map file."""
    record: dict[str, Any] = {
        "id": area.id, "name": dict(area.names), "zone": dict(area.zone_names),
        "shelter_seconds": area.shelter_seconds, "lat": area.lat, "lng": area.lng}
    if area.hfc_code is not None:
        record["hfc_code"] = area.hfc_code
    if area.district:
        record["district"] = area.district
    if area.former_names:
        record["former_names"] = list(area.former_names)
    return record


def catalog_json(catalog: Catalog) -> bytes:
    """The catalog as clients get it from `GET /v1/locations`."""
    records = [area_record(area) for area in catalog.areas.values()]
    return json.dumps(records, ensure_ascii=False, separators=(",", ":")).encode()
