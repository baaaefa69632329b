"""The location catalog: alert areas with names, zone, time-to-shelter and coordinates.

A place name, as people write it, resolves (`Catalog.resolve_name`) to:
- one area, by any of its names in any language, ignoring case, spacing, hyphens,
  apostrophes, geresh and gershayim;
- every area of a city the catalog splits ("Tel Aviv" → its four "תל אביב - …" areas), or the
  area a name shares with others ("Sderot" → "Sderot, Ibim");
- every area of a zone, by any of the zone's names;
- the area (or areas) that now cover a place an older list named ("אבו-גוש", "Nazareth Illit"):
  each record's `former_names`, generated once from the older list and reviewed;
- every area, for a name of the whole country ("ברחבי הארץ", "כל הארץ"): the catalog's records
  that have no zone;
- what an alias names (an exonym or spelling the catalog lacks: "عسقلان" → Ashkelon);
- failing all of these, the one name it is a close spelling of ("Ashqelon"), when it is closer
  to that name than any other area's name is (so a real name never lands on another area).
A name that fits two places equally is ambiguous and resolves to nothing: guessing the wrong town
is worse than marking the name unknown. Every index is built once, at load; fuzzy matching runs
only when no exact key matched, and each answer is cached.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from rapidfuzz import fuzz, process

from alertflow.domain.text import compact, spelling

How = Literal["area", "city", "zone", "former", "country", "alias", "fuzzy", "unknown",
              "ambiguous"]

# Fuzzy matching: a candidate must score at least this (rapidfuzz ratio, 0-100, on the compact
# keys), beat every other place by MARGIN, and be closer to the query than to any other area's
# name. Short keys are left out: one letter changes a short name into another.
FUZZY_MIN_SCORE = 85.0
FUZZY_MARGIN = 4.0
FUZZY_MIN_LENGTH = 4
FUZZY_MAX_LENGTH = 80
_CACHE_LIMIT = 20_000

# A split city's areas are named "<city> - <part>"; some translations put the spaces unevenly.
_CITY_PART = re.compile(r"\s+[-\u2013\u2014]\s*|\s*[-\u2013\u2014]\s+")
_LIST_SEPARATOR = re.compile(r"[,\u060c]")


@dataclass(frozen=True, slots=True)
class Area:
    id: str
    names: Mapping[str, str]
    zone: str
    zone_names: Mapping[str, str]
    shelter_seconds: int
    lat: float
    lng: float
    # The area's outline as (lat, lng) points, a ring; empty for a catalog of points only.
    outline: tuple[tuple[float, float], ...] = ()
    hfc_code: int | None = None
    district: str | None = None
    former_names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a name resolved to: area ids (empty when unknown or ambiguous) and how."""

    areas: tuple[str, ...]
    how: How

    @property
    def found(self) -> bool:
        return bool(self.areas)


UNKNOWN = Resolution((), "unknown")
AMBIGUOUS = Resolution((), "ambiguous")


def _key(name: str) -> str:
    return compact(name)


def _city_prefix(name: str) -> str | None:
    match = _CITY_PART.search(name)
    return name[:match.start()] if match and match.start() > 0 else None


@dataclass(slots=True)
class Catalog:
    """Areas by id, with lookups from every way of naming them."""

    areas: dict[str, Area] = field(default_factory=dict)
    zones: dict[str, Mapping[str, str]] = field(default_factory=dict)
    # key → area id; None when several areas share the name. `_by_spelling` keeps apostrophes
    # and is looked up first, so places that differ only by one stay apart (גת, ג'ת).
    _by_spelling: dict[str, str | None] = field(default_factory=dict)
    _by_name: dict[str, str | None] = field(default_factory=dict)
    _zones_by_name: dict[str, str] = field(default_factory=dict)
    # key → what the key means beyond one area's own name (city, shared part, zone, alias).
    _groups: dict[str, Resolution] = field(default_factory=dict)
    # The names of the whole country (records without a zone), as written.
    country_names: list[str] = field(default_factory=list)
    _fuzzy_keys: list[str] = field(default_factory=list)
    _fuzzy_targets: list[Resolution] = field(default_factory=list)
    _isolation: dict[str, float] = field(default_factory=dict)
    _cache: dict[str, Resolution] = field(default_factory=dict)

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]],
                     aliases: Mapping[str, Iterable[str]] | None = None) -> Catalog:
        """`aliases`: a catalog name (area, city or zone) → other names for the same place."""
        catalog = cls()
        for record in records:
            if not record.get("zone"):
                # Not a place: a name of the whole country, which means every area.
                catalog.country_names.extend(dict.fromkeys(
                    [str(record["id"]), *record.get("name", {}).values()]))
                continue
            zone_names = dict(record["zone"])
            code = record.get("hfc_code")
            area = Area(
                id=str(record["id"]),
                names=dict(record["name"]),
                zone=str(zone_names.get("he") or next(iter(zone_names.values()))),
                zone_names=zone_names,
                shelter_seconds=int(record["shelter_seconds"]),
                lat=float(record["lat"]),
                lng=float(record["lng"]),
                outline=tuple((float(lat), float(lng)) for lat, lng in record.get("polygon") or ()),
                hfc_code=None if code is None else int(code),
                district=record.get("district") or None,
                former_names=tuple(record.get("former_names") or ()),
            )
            catalog.areas[area.id] = area
            catalog.zones[area.zone] = zone_names
        catalog._index_names()
        catalog._index_groups()
        catalog._index_former_and_country()
        for target, names in (aliases or {}).items():
            resolved = catalog._exact(target)
            if not resolved.found:
                continue  # an alias for a place this catalog does not have
            for name in names:
                key = _key(name)
                existing = catalog._groups.get(key)
                # A name of an area or a city wins over an alias; an alias over a zone's name
                # (the zone "Haifa" is more than the city: "حيفا" means the city).
                if key and key not in catalog._by_name and (existing is None
                                                             or existing.how == "zone"):
                    how: How = "country" if resolved.how == "country" else "alias"
                    catalog._groups[key] = Resolution(resolved.areas, how)
        catalog._index_fuzzy()
        return catalog

    def _index_names(self) -> None:
        for index, fold in ((self._by_spelling, spelling), (self._by_name, _key)):
            owners: dict[str, set[str]] = defaultdict(set)
            for area in self.areas.values():
                for name in (area.id, *area.names.values()):
                    owners[fold(name)].add(area.id)
            for key, ids in owners.items():
                index[key] = next(iter(ids)) if len(ids) == 1 else None
            for area_id in self.areas:  # an id wins over another area's name
                if index[fold(area_id)] is None:
                    index[fold(area_id)] = area_id
        for area in self.areas.values():
            for name in area.zone_names.values():
                self._zones_by_name[_key(name)] = area.zone
        for zone_id in self.zones:
            self._zones_by_name[_key(zone_id)] = zone_id

    def _index_groups(self) -> None:
        # Split cities: the areas whose id is "<city> - <part>", grouped by city. Each language's
        # city name counts only when every area of the group agrees on it.
        cities: dict[str, list[Area]] = defaultdict(list)
        for area in self.areas.values():
            prefix = _city_prefix(area.id)
            if prefix is not None:
                cities[_key(prefix)].append(area)
        groups: dict[str, set[str]] = defaultdict(set)
        for members in cities.values():
            ids = {area.id for area in members}
            main = _city_prefix(members[0].id) or ""
            if main in self.areas:  # the city proper is an area too ("עכו" beside its zone)
                ids.add(main)
            languages = set().union(*(area.names for area in members))
            for language in languages:
                prefixes = {_key(_city_prefix(area.names.get(language, "")) or "")
                            for area in members}
                if len(prefixes) == 1 and "" not in prefixes:
                    groups[prefixes.pop()] |= ids
            groups[_key(_city_prefix(members[0].id) or "")] |= ids
        # Areas that list several places ("Sderot, Ibim"): each place names the area.
        parts: dict[str, set[str]] = defaultdict(set)
        for area in self.areas.values():
            if _city_prefix(area.id) is not None:
                continue
            for name in area.names.values():
                pieces = _LIST_SEPARATOR.split(name)
                if len(pieces) > 1:
                    for piece in pieces:
                        key = _key(piece)
                        if len(key) >= 2:
                            parts[key].add(area.id)
        zone_areas: dict[str, list[str]] = defaultdict(list)
        for area in self.areas.values():
            zone_areas[area.zone].append(area.id)
        # An area's own name wins over a city, a part or a zone of the same name.
        for key, zone in self._zones_by_name.items():
            if key not in self._by_name:
                self._groups[key] = Resolution(tuple(zone_areas[zone]), "zone")
        for key, ids in parts.items():
            if key not in self._by_name:
                self._groups[key] = (Resolution(tuple(sorted(ids)), "area") if len(ids) == 1
                                     else AMBIGUOUS)
        for key, ids in groups.items():
            if key and key not in self._by_name:
                self._groups[key] = Resolution(tuple(sorted(ids)), "city")

    def _index_former_and_country(self) -> None:
        # A former name means what it meant (its successors), ahead of a zone, city or part
        # that has the name today ("דן" was kibbutz Dan; today a zone is called so too); an
        # area's current name still wins.
        former: dict[str, set[str]] = defaultdict(set)
        for area in self.areas.values():
            for name in area.former_names:
                former[_key(name)].add(area.id)
        for key, ids in former.items():
            if key and key not in self._by_name:
                self._groups[key] = Resolution(tuple(sorted(ids)), "former")
        everywhere = Resolution(tuple(self.areas), "country")
        for name in self.country_names:
            key = _key(name)
            if key and key not in self._by_name:
                self._groups[key] = everywhere

    def _index_fuzzy(self) -> None:
        targets: dict[str, Resolution] = {}
        for key, area_id in self._by_name.items():
            if area_id is not None:
                targets[key] = Resolution((area_id,), "fuzzy")
        for key, group in self._groups.items():
            # The whole country only by its name: a misspelling must not ring every area.
            if group.found and group.how != "country":
                targets[key] = Resolution(group.areas, "fuzzy")
        eligible = {k: t for k, t in targets.items()
                    if FUZZY_MIN_LENGTH <= len(k) <= FUZZY_MAX_LENGTH}
        self._fuzzy_keys = list(eligible)
        self._fuzzy_targets = list(eligible.values())

    @classmethod
    def empty(cls) -> Catalog:
        return cls()

    def _exact(self, name: str) -> Resolution:
        area_id = self._by_spelling.get(spelling(name))
        if area_id:
            return Resolution((area_id,), "area")
        key = _key(name)
        area_id = self._by_name.get(key, "")
        if area_id:
            return Resolution((area_id,), "area")
        if area_id is None:
            return AMBIGUOUS
        return self._groups.get(key, UNKNOWN)

    def _isolated_by(self, index: int) -> float:
        """How close the nearest other place's name comes to candidate `index` (0-100)."""
        key = self._fuzzy_keys[index]
        cached = self._isolation.get(key)
        if cached is None:
            own = set(self._fuzzy_targets[index].areas)
            cached = 0.0
            for _, score, other in process.extract(
                    key, self._fuzzy_keys, scorer=fuzz.ratio, limit=None,
                    score_cutoff=FUZZY_MIN_SCORE - FUZZY_MARGIN):
                if other != index and own.isdisjoint(self._fuzzy_targets[other].areas):
                    cached = max(cached, score)
            self._isolation[key] = cached
        return cached

    def _fuzzy(self, key: str, exclude: frozenset[str] = frozenset()) -> Resolution:
        if not FUZZY_MIN_LENGTH <= len(key) <= FUZZY_MAX_LENGTH or not self._fuzzy_keys:
            return UNKNOWN
        found = [
            (score, index) for _, score, index in process.extract(
                key, self._fuzzy_keys, scorer=fuzz.ratio, limit=None,
                score_cutoff=FUZZY_MIN_SCORE - FUZZY_MARGIN)
            if exclude.isdisjoint(self._fuzzy_targets[index].areas)
        ]
        if not found:
            return UNKNOWN
        found.sort(reverse=True)
        best_score, best = found[0]
        if best_score < FUZZY_MIN_SCORE:
            return UNKNOWN
        target = self._fuzzy_targets[best]
        for score, index in found[1:]:
            if score < best_score - FUZZY_MARGIN:
                break
            if set(self._fuzzy_targets[index].areas).isdisjoint(target.areas):
                return AMBIGUOUS  # as close to another place
        if best_score <= self._isolated_by(best):
            return AMBIGUOUS  # another real place's name is at least as close to the candidate
        return target

    def resolve_name(self, name: str) -> Resolution:
        """Every area `name` stands for, and how it was found."""
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        resolved = self._exact(name)
        if resolved is UNKNOWN:
            resolved = self._fuzzy(_key(name))
        if len(self._cache) < _CACHE_LIMIT:
            self._cache[name] = resolved
        return resolved

    def resolve(self, name: str) -> str | None:
        """The id of the one area called `name` (exactly, in any language, or by a former name
        that now means that one area), else None."""
        if name in self.areas:
            return name
        resolved = self._exact(name)
        single = resolved.how == "area" or (resolved.how == "former" and len(resolved.areas) == 1)
        return resolved.areas[0] if single else None

    def resolve_zone(self, name: str) -> str | None:
        return self._zones_by_name.get(_key(name))

    def former_zone_areas(self, name: str) -> tuple[str, ...]:
        """The areas that now cover a zone of an older list that is no zone today ("חפר"), so
        a subscription saved with it keeps its places; empty for any other name."""
        if self.resolve_zone(name) is not None:
            return ()
        resolved = self.resolve_name(name)
        return resolved.areas if resolved.how == "former" else ()

    def get(self, area_id: str) -> Area | None:
        return self.areas.get(area_id)

    def __len__(self) -> int:
        return len(self.areas)
