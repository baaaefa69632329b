"""A new location catalog from the authority's published lists, and what changed against the old.

`alertflow catalog build` (alertflow/catalog_build.py reads the files) hands this module the
parsed JSON of:
- the area list, shaped like the pikud-haoref-api project's `cities.json`: one object per area
  with `id` (the area's numeric code), `name` (Hebrew), `name_en`, `name_ru`, `name_ar`, `zone`,
  `zone_en`, `zone_ru`, `zone_ar`, `countdown` (seconds to shelter), `lat`, `lng` and `value`
  (the name the national feed uses, which is the area's id here; `name` when absent). Its
  leading "select all" entry (`value` "all", code 0) is not an area and is skipped;
- optionally, current shelter times {area id: seconds}, which win over the list's `countdown`;
- the outlines {area id: [[lat, lng], ...]} (the oref_alert project's shape);
- optionally, districts {area id: district}; without them an area keeps its old district;
- the catalog in use, in the catalog file format (alertflow/catalog.py).

The result is a catalog in that same format, sorted by id, with the nationwide records (which
name no place: an alert for them concerns every area) kept as the old catalog has them.

Matching old and new areas: the same id is the same area (its code may have changed); then
an old area whose code a new id carries was renamed. The old id, and any old name no area has
today, go into the successor's `former_names`, after the former names it already had; a former
name that is now another area's name is dropped, since a current name always wins. An area
that is gone (merged into another, or split under new codes) keeps resolving only when the
operator names its successors {old id: [new ids]}: they take its names the same way.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from alertflow.domain.text import compact

LANGUAGES = ("he", "en", "ru", "ar")
# The records that mean the whole country (no zone, no code, no outline), as the 2026 list has
# them; used when the old catalog lacks them.
NATIONWIDE: tuple[dict[str, Any], ...] = tuple(
    {"id": name, "name": {"he": name}, "zone": None, "district": None, "shelter_seconds": 0,
     "lat": 31.7781, "lng": 35.2164, "polygon": None}
    for name in ("ברחבי הארץ", "כל הארץ")
)
NATIONWIDE_IDS = frozenset(record["id"] for record in NATIONWIDE)
# The catalog file's fields, in the order they are written.
FIELDS = ("id", "hfc_code", "name", "zone", "district", "shelter_seconds", "lat", "lng",
          "polygon", "former_names")
# How far (degrees, about 2 km) an area's position may lie outside its outline's bounding box.
POSITION_MARGIN = 0.02


class InputError(ValueError):
    """An input that is not what it should be; the message says where (entry, key) and why."""


class BuildError(ValueError):
    """The lists parse but do not make a catalog (an area without outline or shelter time)."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True, slots=True)
class ListedArea:
    """One area of the authority's list."""

    id: str
    code: int
    names: Mapping[str, str]
    zone_names: Mapping[str, str]
    countdown: int | None
    lat: float | None
    lng: float | None


@dataclass(frozen=True, slots=True)
class AreaList:
    areas: tuple[ListedArea, ...]
    skipped: tuple[str, ...] = ()  # entries that are not areas, by name


@dataclass(frozen=True, slots=True)
class Changes:
    """What a new catalog changes for the areas (the nationwide records are left out)."""

    new: tuple[tuple[str, int | None], ...] = ()           # (id, code)
    gone: tuple[tuple[str, int | None], ...] = ()          # (id, code)
    succeeded: tuple[tuple[str, tuple[str, ...]], ...] = ()  # gone, names kept: (old, new ids)
    renamed: tuple[tuple[str, str, int], ...] = ()         # (old id, new id, code)
    shelter: tuple[tuple[str, int | None, int], ...] = ()  # (id, old s, new s)
    zone: tuple[tuple[str, str | None, str | None], ...] = ()  # (id, old zone, new zone)
    code: tuple[tuple[str, int | None, int], ...] = ()     # (id, old code, new code)
    names: tuple[tuple[str, str, str, str], ...] = ()      # (id, language, old, new)

    @property
    def empty(self) -> bool:
        return not any((self.new, self.gone, self.succeeded, self.renamed, self.shelter,
                        self.zone, self.code, self.names))


@dataclass(frozen=True, slots=True)
class Build:
    records: list[dict[str, Any]]
    changes: Changes
    areas: int  # records that are areas (not nationwide)
    previous_areas: int
    skipped: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())


# --- parsing ------------------------------------------------------------------------------------

def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _seconds(value: object) -> int | None:
    """A whole number of seconds >= 0 (a float such as 90.0 counts), else None."""
    if _is_int(value):
        return value if value >= 0 else None  # type: ignore[operator,return-value]
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    return None


def parse_area_list(data: object) -> AreaList:
    """The authority's area list (pikud-haoref-api `cities.json` shape)."""
    if not isinstance(data, list):
        raise InputError(f"expected a JSON list of areas, got {type(data).__name__}")
    areas: list[ListedArea] = []
    skipped: list[str] = []
    by_id: dict[str, int] = {}
    by_code: dict[int, str] = {}
    for index, entry in enumerate(data):
        where = f"entry {index}"
        if not isinstance(entry, dict):
            raise InputError(f"{where}: expected an object, got {type(entry).__name__}")
        name = _text(entry.get("name"))
        value = _text(entry.get("value"))
        code = entry.get("id")
        if value == "all" or code == 0:
            skipped.append(name or value or where)  # "select all": not an area
            continue
        area_id = value or name
        if area_id is None:
            raise InputError(f"{where}: no 'name' (the area's Hebrew name)")
        where = f"{where} ({area_id})"
        if area_id in NATIONWIDE_IDS:
            skipped.append(area_id)  # kept from the catalog as it is
            continue
        if isinstance(code, str) and code.strip().isdigit():
            code = int(code)
        if not _is_int(code) or code <= 0:  # type: ignore[operator]
            raise InputError(f"{where}: 'id' (the area's numeric code) must be a whole number "
                             f"above 0, got {code!r}")
        assert isinstance(code, int)
        zone = _text(entry.get("zone"))
        if zone is None:
            raise InputError(f"{where}: no 'zone'")
        names = {"he": name or area_id}
        zones = {"he": zone}
        for language in LANGUAGES[1:]:
            for key, into in ((f"name_{language}", names), (f"zone_{language}", zones)):
                given = entry.get(key)
                if given is not None and not isinstance(given, str):
                    raise InputError(f"{where}: {key!r} must be text, got {given!r}")
                if _text(given):
                    into[language] = given.strip()  # type: ignore[union-attr]
        countdown: int | None = None
        if entry.get("countdown") is not None:
            countdown = _seconds(entry["countdown"])
            if countdown is None:
                raise InputError(f"{where}: 'countdown' must be a whole number of seconds >= 0, "
                                 f"got {entry['countdown']!r}")
        position = []
        for key, low, high in (("lat", -90.0, 90.0), ("lng", -180.0, 180.0)):
            raw = entry.get(key)
            number = _number(raw) if raw is not None else None
            if raw is not None and (number is None or not low <= number <= high):
                raise InputError(f"{where}: {key!r} must be a number in [{low:g}, {high:g}], "
                                 f"got {raw!r}")
            position.append(number)
        lat, lng = position
        if lat == 0 and lng == 0:  # the list's "not geocoded"
            lat = lng = None
        if area_id in by_id:
            raise InputError(f"{where}: the same area as entry {by_id[area_id]}")
        if code in by_code:
            raise InputError(f"{where}: code {code} is also {by_code[code]!r}'s")
        by_id[area_id] = index
        by_code[code] = area_id
        areas.append(ListedArea(area_id, code, names, zones, countdown, lat, lng))
    if not areas:
        raise InputError("no areas in the list")
    return AreaList(tuple(areas), tuple(skipped))


def _object(data: object, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InputError(f"expected a JSON object {{area id: {what}}}, got {type(data).__name__}")
    return data


def parse_shelter(data: object) -> dict[str, int]:
    """Shelter times: {area id: seconds}."""
    times: dict[str, int] = {}
    for area_id, value in _object(data, "seconds").items():
        seconds = _seconds(value)
        if seconds is None:
            raise InputError(f"{area_id!r}: expected a whole number of seconds >= 0, "
                             f"got {value!r}")
        times[area_id] = seconds
    return times


def parse_outlines(data: object) -> dict[str, list[list[float]]]:
    """Outlines: {area id: [[lat, lng], ...]}, at least three points each."""
    outlines: dict[str, list[list[float]]] = {}
    for area_id, ring in _object(data, "[[lat, lng], ...]").items():
        if not isinstance(ring, list) or len(ring) < 3:
            raise InputError(f"{area_id!r}: expected a list of at least 3 [lat, lng] points")
        points = []
        for index, point in enumerate(ring):
            pair = ([_number(v) for v in point]
                    if isinstance(point, list) and len(point) == 2 else [None])
            if (None in pair or not -90 <= pair[0] <= 90  # type: ignore[operator]
                    or not -180 <= pair[1] <= 180):  # type: ignore[operator]
                raise InputError(f"{area_id!r}, point {index}: expected [lat, lng], "
                                 f"got {point!r}")
            points.append(point)  # as given: the numbers are written back unchanged
        outlines[area_id] = points
    return outlines


def parse_districts(data: object) -> dict[str, str | None]:
    """Districts: {area id: district (Hebrew) or null}."""
    districts: dict[str, str | None] = {}
    for area_id, value in _object(data, "district").items():
        if value is not None and not isinstance(value, str):
            raise InputError(f"{area_id!r}: expected the district's name or null, got {value!r}")
        districts[area_id] = _text(value)
    return districts


def parse_successors(data: object) -> dict[str, list[str]]:
    """Successors of gone areas: {old id: new id, or [new ids]}."""
    successors: dict[str, list[str]] = {}
    for old_id, value in _object(data, "new id or [new ids]").items():
        new_ids = [value] if isinstance(value, str) else value
        if (not isinstance(new_ids, list) or not new_ids
                or not all(isinstance(n, str) and n for n in new_ids)):
            raise InputError(f"{old_id!r}: expected an area id or a list of them, got {value!r}")
        successors[old_id] = new_ids
    return successors


def parse_catalog(data: object) -> list[dict[str, Any]]:
    """A catalog file: the checks the diff relies on (an id each, once; an int code if any)."""
    if not isinstance(data, list):
        raise InputError(f"expected a JSON list of catalog records, got {type(data).__name__}")
    seen: set[str] = set()
    for index, record in enumerate(data):
        if not isinstance(record, dict) or not isinstance(record.get("id"), str):
            raise InputError(f"record {index}: expected an object with a text 'id'")
        where = f"record {index} ({record['id']})"
        if record["id"] in seen:
            raise InputError(f"{where}: a second record with this id")
        seen.add(record["id"])
        code = record.get("hfc_code")
        if code is not None and not _is_int(code):
            raise InputError(f"{where}: 'hfc_code' must be a whole number, got {code!r}")
        former = record.get("former_names", [])
        if not isinstance(former, list) or not all(isinstance(n, str) for n in former):
            raise InputError(f"{where}: 'former_names' must be a list of names")
    return data


# --- building -----------------------------------------------------------------------------------

def _zone_of(record: Mapping[str, Any]) -> str | None:
    zone = record.get("zone")
    if isinstance(zone, Mapping):
        return zone.get("he") or next(iter(zone.values()), None)
    return zone if isinstance(zone, str) else None


def _names_of(record: Mapping[str, Any]) -> dict[str, str]:
    names = record.get("name")
    return {k: v for k, v in names.items() if isinstance(v, str)} if isinstance(
        names, Mapping) else {}


def _project(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record with the catalog file's fields only, in their order."""
    return {key: record[key] for key in FIELDS if key in record}


def _inside_box(lat: float, lng: float, ring: Sequence[Sequence[float]]) -> bool:
    lats = [p[0] for p in ring]
    lngs = [p[1] for p in ring]
    return (min(lats) - POSITION_MARGIN <= lat <= max(lats) + POSITION_MARGIN
            and min(lngs) - POSITION_MARGIN <= lng <= max(lngs) + POSITION_MARGIN)


def _former_names(area: ListedArea, sources: Sequence[tuple[Mapping[str, Any], bool]],
                  owners: Mapping[str, set[str]], warnings: list[str]) -> list[str]:
    """An area's former names from the old areas it succeeds, `sources` (record, whether its
    id is old): the former names they had, then their old ids, then their old names (any
    language) that no area has today.

    `owners`: compact key of every current id and name → the areas it names.
    """
    names: list[str] = []

    def taken(name: str) -> str | None:
        """Another area whose current name `name` is (a current name wins), else None."""
        holders = owners.get(compact(name), set())
        return None if not holders or area.id in holders else min(holders)

    for previous, _ in sources:
        for name in previous.get("former_names") or ():
            holder = taken(name)
            if holder is not None:
                warnings.append(f"{area.id}: former name {name!r} dropped: it is {holder}'s "
                                "now")
            elif name not in names:
                names.append(name)
    own = {compact(name) for name in names}
    for previous, old_id in sources:
        olds = [str(previous["id"])] if old_id else []
        old_names = _names_of(previous)
        olds += [old_names[language] for language in LANGUAGES
                 if old_names.get(language) not in (None, area.names.get(language))]
        for name in olds:
            key = compact(name)
            if old_id and name == previous["id"]:  # the old id, always (unless another's)
                if name in names:
                    continue
            elif key in own or key in owners:  # it still names this area, or names another
                continue
            holder = taken(name)
            if holder is not None:
                warnings.append(f"{area.id}: the old id {name!r} is {holder}'s name now; "
                                "not kept")
                continue
            names.append(name)
            own.add(key)
    return names


def build_catalog(listed: AreaList, outlines: Mapping[str, list[list[float]]],
                  previous: Iterable[Mapping[str, Any]],
                  shelter: Mapping[str, int] | None = None,
                  districts: Mapping[str, str | None] | None = None,
                  allow_missing_outlines: bool = False,
                  successors: Mapping[str, Sequence[str]] | None = None) -> Build:
    """The new catalog's records and what they change against `previous`.

    `successors`: old id of an area that is gone → the areas that now cover it (a merge, or a
    split under new codes); its names become theirs."""
    old = [r for r in previous if r["id"] not in NATIONWIDE_IDS]
    old_nationwide = {r["id"]: r for r in previous if r["id"] in NATIONWIDE_IDS}
    old_by_id = {r["id"]: r for r in old}
    old_by_code = {r["hfc_code"]: r for r in old if r.get("hfc_code") is not None}
    listed_ids = {area.id for area in listed.areas}
    warnings: list[str] = []
    problems: list[str] = []

    # Match: same id first, then the same code under a new id (a rename).
    match: dict[str, Mapping[str, Any]] = {}
    renamed: list[tuple[str, str, int]] = []
    for area in listed.areas:
        if area.id in old_by_id:
            match[area.id] = old_by_id[area.id]
    claimed = {r["id"] for r in match.values()}
    for area in listed.areas:
        if area.id in match:
            continue
        before = old_by_code.get(area.code)
        if before is not None and before["id"] not in claimed and before["id"] not in listed_ids:
            match[area.id] = before
            claimed.add(before["id"])
            renamed.append((before["id"], area.id, area.code))

    succeeded: list[tuple[str, tuple[str, ...]]] = []
    inherits: dict[str, list[Mapping[str, Any]]] = {}
    for old_id, new_ids in (successors or {}).items():
        if old_id not in old_by_id:
            problems.append(f"successors: {old_id!r} is no area of the catalog in use")
        elif old_id in claimed:
            problems.append(f"successors: {old_id!r} is not gone (it is in the list, or was "
                            "renamed)")
        elif not new_ids or not set(new_ids) <= listed_ids:
            unknown = sorted(set(new_ids) - listed_ids) or ["(none given)"]
            problems.append(f"successors of {old_id!r}: no such area in the list: "
                            f"{', '.join(unknown)}")
        else:
            succeeded.append((old_id, tuple(new_ids)))
            for new_id in new_ids:
                inherits.setdefault(new_id, []).append(old_by_id[old_id])

    owners: dict[str, set[str]] = {}
    for area in listed.areas:
        for name in (area.id, *area.names.values()):
            owners.setdefault(compact(name), set()).add(area.id)

    missing_outline: list[str] = []
    missing_shelter: list[str] = []
    outside: list[str] = []
    records: list[dict[str, Any]] = []
    for area in listed.areas:
        before = match.get(area.id)
        ring = outlines.get(area.id)
        if ring is None:
            missing_outline.append(area.id)
        seconds = shelter.get(area.id, area.countdown) if shelter is not None else area.countdown
        if seconds is None:
            missing_shelter.append(area.id)
        lat, lng = area.lat, area.lng
        if lat is None or lng is None:
            if ring is None:
                problems.append(f"{area.id}: no position (lat, lng) and no outline")
                continue
            lat = round((min(p[0] for p in ring) + max(p[0] for p in ring)) / 2, 6)
            lng = round((min(p[1] for p in ring) + max(p[1] for p in ring)) / 2, 6)
            warnings.append(f"{area.id}: no position in the list; the middle of its outline")
        elif ring is not None and not _inside_box(lat, lng, ring):
            outside.append(area.id)
        if districts is not None:
            district = districts.get(area.id)
        else:
            district = before.get("district") if before is not None else None
        record: dict[str, Any] = {
            "id": area.id, "hfc_code": area.code, "name": dict(area.names),
            "zone": dict(area.zone_names), "district": district, "shelter_seconds": seconds,
            "lat": lat, "lng": lng, "polygon": ring,
        }
        sources = [(before, before["id"] != area.id)] if before is not None else []
        sources += [(gone, True) for gone in inherits.get(area.id, ())]
        former = _former_names(area, sources, owners, warnings)
        if former:
            record["former_names"] = former
        records.append(record)

    if missing_outline and not allow_missing_outlines:
        problems.append(f"{len(missing_outline)} areas have no outline (an area without one "
                        f"cannot be selected by shape): {', '.join(missing_outline)}")
    elif missing_outline:
        warnings.append(f"{len(missing_outline)} areas have no outline and cannot be selected "
                        f"by shape: {', '.join(missing_outline)}")
    if missing_shelter:
        problems.append(f"{len(missing_shelter)} areas have no shelter time (no 'countdown' "
                        f"in the list and none in the shelter times): "
                        f"{', '.join(missing_shelter)}")
    checked = sum(1 for a in listed.areas if a.lat is not None and a.id in outlines)
    if outside and len(outside) * 2 > checked:
        problems.append(f"{len(outside)} of {checked} areas lie outside their outlines: are the "
                        "outlines [lng, lat] instead of [lat, lng]?")
    else:
        warnings.extend(f"{area_id}: its position lies outside its outline" for area_id in outside)
    if problems:
        raise BuildError(problems)

    for label, given in (("outline", outlines), ("shelter time", shelter or {}),
                         ("district", districts or {})):
        unused = sorted(set(given) - listed_ids - NATIONWIDE_IDS)
        if unused:
            warnings.append(f"{len(unused)} {label}s name no area of the list, ignored: "
                            f"{', '.join(unused)}")

    nationwide = [_project(old_nationwide.get(r["id"], r)) for r in NATIONWIDE]
    records = sorted([*records, *nationwide], key=lambda r: str(r["id"]))
    return Build(records, diff(old, records, renamed, succeeded), areas=len(listed.areas),
                 previous_areas=len(old), skipped=listed.skipped, warnings=tuple(warnings))


def diff(old: Iterable[Mapping[str, Any]], new: Iterable[Mapping[str, Any]],
         renamed: Sequence[tuple[str, str, int]],
         succeeded: Sequence[tuple[str, tuple[str, ...]]] = ()) -> Changes:
    """What `new` changes against `old`, given the renames (old id, new id, code) found and the
    gone areas whose names successors took (old id, new ids)."""
    old_by_id = {r["id"]: r for r in old if r["id"] not in NATIONWIDE_IDS}
    new_by_id = {r["id"]: r for r in new if r["id"] not in NATIONWIDE_IDS}
    successor = {old_id: new_id for old_id, new_id, _ in renamed}
    predecessor = {new_id: old_id for old_id, new_id, _ in renamed}
    shelter: list[tuple[str, int | None, int]] = []
    zone: list[tuple[str, str | None, str | None]] = []
    code: list[tuple[str, int | None, int]] = []
    names: list[tuple[str, str, str, str]] = []
    for new_id, record in new_by_id.items():
        before = old_by_id.get(predecessor.get(new_id, new_id))
        if before is None:
            continue
        if before.get("shelter_seconds") != record["shelter_seconds"]:
            shelter.append((new_id, before.get("shelter_seconds"), record["shelter_seconds"]))
        if _zone_of(before) != _zone_of(record):
            zone.append((new_id, _zone_of(before), _zone_of(record)))
        if new_id not in predecessor:
            if before.get("hfc_code") != record.get("hfc_code"):
                code.append((new_id, before.get("hfc_code"), record["hfc_code"]))
            old_names, new_names = _names_of(before), _names_of(record)
            for language in sorted(set(old_names) | set(new_names)):
                if old_names.get(language) != new_names.get(language):
                    names.append((new_id, language, old_names.get(language, ""),
                                  new_names.get(language, "")))
    return Changes(
        new=tuple((i, r.get("hfc_code")) for i, r in sorted(new_by_id.items())
                  if i not in old_by_id and i not in predecessor),
        gone=tuple((i, r.get("hfc_code")) for i, r in sorted(old_by_id.items())
                   if i not in new_by_id and i not in successor
                   and i not in dict(succeeded)),
        succeeded=tuple(sorted(succeeded)),
        renamed=tuple(sorted(renamed)), shelter=tuple(shelter), zone=tuple(zone),
        code=tuple(code), names=tuple(names),
    )


# --- the report ---------------------------------------------------------------------------------

def _code(code: int | None) -> str:
    return f" (code {code})" if code is not None else ""


def report_lines(build: Build) -> list[str]:
    """The report for people: counts, then every change, then the warnings."""
    c = build.changes
    sections: list[tuple[str, list[str]]] = [
        ("new", [f"  + {i}{_code(code)}" for i, code in c.new]),
        ("gone", [f"  - {i}{_code(code)}" for i, code in c.gone]),
        ("merged or split", [f"  {old} → {', '.join(new)}" for old, new in c.succeeded]),
        ("renamed", [f"  {old} → {new}{_code(code)}" for old, new, code in c.renamed]),
        ("shelter time changed", [f"  {i}: {a} s → {b} s" for i, a, b in c.shelter]),
        ("zone changed", [f"  {i}: {a} → {b}" for i, a, b in c.zone]),
        ("code changed", [f"  {i}: {a} → {b}" for i, a, b in c.code]),
        ("name changed", [f"  {i} [{lang}]: {a or '(none)'} → {b or '(none)'}"
                          for i, lang, a, b in c.names]),
    ]
    lines = [f"{build.areas} areas (and {len(NATIONWIDE)} nationwide records), "
             f"against {build.previous_areas} areas before"]
    lines.append("no changes" if c.empty else ", ".join(
        f"{len(items)} {title}" for title, items in sections if items))
    for title, items in sections:
        if items:
            lines.append(f"{title}: {len(items)}")
            lines.extend(items)
        if title == "gone" and items:
            lines.append("  (their names stop resolving; if other areas now cover one, name "
                         "them with --successors)")
    if build.skipped:
        lines.append(f"skipped (not areas): {', '.join(build.skipped)}")
    if build.warnings:
        lines.append(f"warnings: {len(build.warnings)}")
        lines.extend(f"  ! {warning}" for warning in build.warnings)
    return lines


def report_json(build: Build) -> dict[str, Any]:
    """The report for programs."""
    c = build.changes
    changes: dict[str, list[dict[str, Any]]] = {
        "new": [{"id": i, "hfc_code": code} for i, code in c.new],
        "gone": [{"id": i, "hfc_code": code} for i, code in c.gone],
        "succeeded": [{"from": a, "to": list(b)} for a, b in c.succeeded],
        "renamed": [{"from": a, "to": b, "hfc_code": code} for a, b, code in c.renamed],
        "shelter_changed": [{"id": i, "from": a, "to": b} for i, a, b in c.shelter],
        "zone_changed": [{"id": i, "from": a, "to": b} for i, a, b in c.zone],
        "code_changed": [{"id": i, "from": a, "to": b} for i, a, b in c.code],
        "name_changed": [{"id": i, "language": lang, "from": a, "to": b}
                         for i, lang, a, b in c.names],
    }
    return {
        "areas": build.areas, "previous_areas": build.previous_areas,
        "counts": {key: len(items) for key, items in changes.items()},
        **changes,
        "skipped": list(build.skipped), "warnings": list(build.warnings),
    }
