"""Which events a client wants: everything, or some areas and zones."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from alertflow.domain.locations import Catalog

MAX_LOCATIONS = 2_000
MAX_ZONES = 100


@dataclass(frozen=True, slots=True)
class Subscription:
    everything: bool = True
    locations: frozenset[str] = frozenset()
    zones: frozenset[str] = frozenset()

    def wants(self, event: Mapping[str, Any]) -> bool:
        return (
            self.everything
            or event.get("location") in self.locations
            or event.get("zone") in self.zones
        )

    def without(self, other: Subscription) -> Subscription:
        if other.everything:
            return Subscription(everything=False)
        return Subscription(
            everything=False,
            locations=self.locations - other.locations,
            zones=self.zones - other.zones,
        )


@dataclass(frozen=True, slots=True)
class SubscriptionError(Exception):
    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"error": self.reason, "field": self.field}


def _names(data: Mapping[str, Any], key: str, limit: int) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise SubscriptionError(key, f"{key} must be a list of names")
    if len(value) > limit:
        raise SubscriptionError(key, f"at most {limit} {key} per request")
    return value


def parse_subscription(data: Any, catalog: Catalog, base: Subscription | None) -> Subscription:
    """`{"all": true}` or `{"locations": [...], "zones": [...]}` added to `base`.

    With `base=None` the result holds only what `data` names; an empty request means all.
    Names resolve through the catalog as sources' names do (an area, a city's areas, a zone's,
    an alias, a close spelling); with an empty catalog, names are taken as ids.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SubscriptionError("$", "expected an object: {all} or {locations, zones}")
    unknown_keys = set(data) - {"all", "locations", "zones"}
    if unknown_keys:
        raise SubscriptionError(sorted(unknown_keys)[0], "unknown field")
    if "all" in data and data["all"] is not True:
        raise SubscriptionError("all", "all must be true when given")
    locations, zones = set(), set()
    for name in _names(data, "locations", MAX_LOCATIONS):
        if not len(catalog):
            locations.add(name)
            continue
        # As sources name places: a city's name subscribes to all of its areas.
        resolved = catalog.resolve_name(name)
        if not resolved.found:
            raise SubscriptionError("locations", f"{resolved.how} location {name!r}")
        locations.update(resolved.areas)
    for name in _names(data, "zones", MAX_ZONES):
        zone = catalog.resolve_zone(name) if len(catalog) else name
        if zone is None:
            areas = catalog.former_zone_areas(name)
            if not areas:
                raise SubscriptionError("zones", f"unknown zone {name!r}")
            locations.update(areas)
            continue
        zones.add(zone)
    if len(locations) > MAX_LOCATIONS:
        raise SubscriptionError("locations", f"at most {MAX_LOCATIONS} locations in all")
    if data.get("all") or (base is None and not locations and not zones):
        return Subscription(everything=True)
    if base is None or base.everything:
        # Adding areas to "everything" would change nothing, so naming areas narrows to them.
        return Subscription(everything=False, locations=frozenset(locations),
                            zones=frozenset(zones))
    # The total is bounded too: each request is, but repeated ones would add up (without a
    # catalog any name is taken as an id), and a client's subscription lives in memory.
    merged_locations, merged_zones = base.locations | locations, base.zones | zones
    if len(merged_locations) > MAX_LOCATIONS:
        raise SubscriptionError("locations", f"at most {MAX_LOCATIONS} locations in all")
    if len(merged_zones) > MAX_ZONES:
        raise SubscriptionError("zones", f"at most {MAX_ZONES} zones in all")
    return Subscription(everything=False, locations=merged_locations, zones=merged_zones)
