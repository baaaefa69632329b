"""The authority's published lists as `alertflow catalog build` reads them, made from a catalog.

`published_lists(records)` turns catalog records back into the four inputs: the area list in
pikud-haoref-api's `cities.json` shape (with its leading "select all" entry), the outlines
{id: [[lat, lng], ...]}, the shelter times {id: seconds} and the districts {id: district}.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from alertflow.catalog import BUNDLED_FILE

LANGUAGES = ("en", "ru", "ar")
SELECT_ALL: dict[str, Any] = {
    "id": 0, "name": "בחר הכל", "name_en": "Select All", "name_ru": "Выбрать все",
    "name_ar": "اختر الكل", "zone": "", "zone_en": "", "zone_ru": "", "zone_ar": "",
    "time": "all", "time_en": "", "time_ru": "", "time_ar": "", "countdown": 0, "lat": 0,
    "lng": 0, "value": "all",
}
# What the catalog file holds (and the build writes); a bundled file may carry more.
FIELDS = ("id", "hfc_code", "name", "zone", "district", "shelter_seconds", "lat", "lng",
          "polygon", "former_names")


def bundled_records() -> list[dict[str, Any]]:
    text = resources.files("alertflow").joinpath(BUNDLED_FILE).read_text("utf-8")
    records: list[dict[str, Any]] = json.loads(text)
    return records


def in_file_format(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: record[key] for key in FIELDS if key in record} for record in records]


def city_entry(record: dict[str, Any], countdown: int | None = None) -> dict[str, Any]:
    """One area as cities.json lists it."""
    entry: dict[str, Any] = {"id": record["hfc_code"], "name": record["name"]["he"]}
    entry.update({f"name_{lang}": record["name"][lang] for lang in LANGUAGES
                  if lang in record["name"]})
    entry["zone"] = record["zone"]["he"]
    entry.update({f"zone_{lang}": record["zone"][lang] for lang in LANGUAGES
                  if lang in record["zone"]})
    seconds = record["shelter_seconds"] if countdown is None else countdown
    entry.update({"time": f"{seconds} שניות", "countdown": seconds, "lat": record["lat"],
                  "lng": record["lng"], "value": record["id"]})
    return entry


def published_lists(records: list[dict[str, Any]]) -> dict[str, Any]:
    """{"areas": [...], "outlines": {...}, "shelter": {...}, "districts": {...}}.

    The list's countdown is set one step off (the shelter times must win over it)."""
    areas = [r for r in records if r.get("zone")]
    return {
        "areas": [SELECT_ALL, *(city_entry(r, countdown=r["shelter_seconds"] + 15)
                                for r in areas)],
        "outlines": {r["id"]: r["polygon"] for r in areas},
        "shelter": {r["id"]: r["shelter_seconds"] for r in areas},
        "districts": {r["id"]: r["district"] for r in areas},
    }
