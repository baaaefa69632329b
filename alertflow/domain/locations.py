"""The location catalog: alert areas with names, zone, time-to-shelter and coordinates.

Any name of an area (in any language) resolves to the area's id, so the same place named twice
aggregates into one incident. Zones resolve by any of their names to the zone's id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Area:
    id: str
    names: Mapping[str, str]
    zone: str
    zone_names: Mapping[str, str]
    shelter_seconds: int
    lat: float
    lng: float


def _key(name: str) -> str:
    # Sources differ in case and stray whitespace, never in meaning.
    return " ".join(name.split()).casefold()


@dataclass(slots=True)
class Catalog:
    """Areas by id, with a lookup from every name (and zone name) to the id."""

    areas: dict[str, Area] = field(default_factory=dict)
    _by_name: dict[str, str | None] = field(default_factory=dict)
    _zones_by_name: dict[str, str] = field(default_factory=dict)
    zones: dict[str, Mapping[str, str]] = field(default_factory=dict)

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> Catalog:
        catalog = cls()
        for record in records:
            zone_names = dict(record["zone"])
            area = Area(
                id=str(record["id"]),
                names=dict(record["name"]),
                zone=str(zone_names.get("he") or next(iter(zone_names.values()))),
                zone_names=zone_names,
                shelter_seconds=int(record["shelter_seconds"]),
                lat=float(record["lat"]),
                lng=float(record["lng"]),
            )
            catalog.areas[area.id] = area
            catalog.zones[area.zone] = zone_names
        # Ids win over names; a name shared by several areas resolves to none of them (None),
        # because guessing the wrong town is worse than marking the name unknown.
        for area in catalog.areas.values():
            for name in area.names.values():
                key = _key(name)
                previous = catalog._by_name.get(key, area.id)
                catalog._by_name[key] = area.id if previous == area.id else None
            for name in area.zone_names.values():
                catalog._zones_by_name[_key(name)] = area.zone
        for area_id in catalog.areas:
            catalog._by_name[_key(area_id)] = area_id
        for zone_id in catalog.zones:
            catalog._zones_by_name[_key(zone_id)] = zone_id
        return catalog

    @classmethod
    def empty(cls) -> Catalog:
        return cls()

    def resolve(self, name: str) -> str | None:
        """The id of the area called `name`, or None when unknown or ambiguous."""
        if name in self.areas:
            return name
        return self._by_name.get(_key(name))

    def resolve_zone(self, name: str) -> str | None:
        return self._zones_by_name.get(_key(name))

    def get(self, area_id: str) -> Area | None:
        return self.areas.get(area_id)

    def __len__(self) -> int:
        return len(self.areas)
