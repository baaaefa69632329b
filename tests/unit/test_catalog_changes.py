"""Building a catalog from the authority's lists and what it changes (alertflow.domain
.catalog_changes): matching by id then by code, former names, outlines, the report."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from alertflow.domain import catalog_changes as cc
from alertflow.domain.locations import Catalog
from tests.catalog_lists import (
    SELECT_ALL,
    bundled_records,
    city_entry,
    in_file_format,
    published_lists,
)


def ring(lat: float, lng: float) -> list[list[float]]:
    return [[lat - 0.01, lng - 0.01], [lat - 0.01, lng + 0.01], [lat + 0.01, lng + 0.01],
            [lat + 0.01, lng - 0.01], [lat - 0.01, lng - 0.01]]


def record(area_id: str, code: int, en: str, zone: str = "גליל עליון", seconds: int = 30,
           lat: float = 32.9, lng: float = 35.2, **extra: Any) -> dict[str, Any]:
    return {"id": area_id, "hfc_code": code,
            "name": {"he": area_id, "en": en, "ru": en + " (ru)", "ar": en + " (ar)"},
            "zone": {"he": zone, "en": zone + " (en)", "ru": zone + " (ru)", "ar": zone + " (ar)"},
            "district": "מחוז", "shelter_seconds": seconds, "lat": lat, "lng": lng,
            "polygon": ring(lat, lng), **extra}


OLD = [
    record("אבו סנאן", 1470, "Abu Snan", former_names=["אבו-סנאן"]),
    # A nationwide record as an older file might have it (its own position).
    {"id": "ברחבי הארץ", "name": {"he": "ברחבי הארץ"}, "zone": None, "district": None,
     "shelter_seconds": 0, "lat": 31.5, "lng": 35.0, "polygon": None},
    record("גשר הזיו", 200, "Gesher HaZiv", lat=33.0),
    record("דפנה", 300, "Dafna", zone="קו העימות", seconds=0, lat=33.2),
]


def lists(records: list[dict[str, Any]]) -> tuple[cc.AreaList, dict[str, Any], dict[str, int]]:
    published = published_lists(records)
    return (cc.parse_area_list(published["areas"]), cc.parse_outlines(published["outlines"]),
            cc.parse_shelter(published["shelter"]))


def build(records: list[dict[str, Any]], previous: list[dict[str, Any]] = OLD,
          **options: Any) -> cc.Build:
    areas, outlines, shelter = lists(records)
    options.setdefault("shelter", shelter)
    return cc.build_catalog(areas, outlines, previous, **options)


def by_id(result: cc.Build) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in result.records}


def test_the_same_lists_rebuild_the_catalog_and_change_nothing() -> None:
    result = build(OLD)
    # The nationwide record the old catalog lacks is added.
    expected = sorted([*OLD, cc.NATIONWIDE[1]], key=lambda r: str(r["id"]))
    assert result.records == in_file_format(expected)
    assert result.changes.empty and result.changes == cc.Changes()
    assert (result.areas, result.previous_areas, result.skipped) == (3, 3, ("בחר הכל",))
    assert result.warnings == ()
    assert cc.report_lines(result)[1] == "no changes"


def test_the_bundled_catalog_round_trips_through_its_published_lists() -> None:
    bundled = bundled_records()
    result = build(bundled, previous=bundled,
                   districts=published_lists(bundled)["districts"])
    assert result.records == in_file_format(bundled)
    assert result.changes.empty, cc.report_lines(result)


def test_a_rename_keeps_the_code_and_the_old_id_resolves_to_the_new() -> None:
    new = copy.deepcopy(OLD)
    new[0] = record("אבו סנאן החדשה", 1470, "Abu Snan New")
    result = build(new)
    assert result.changes.renamed == (("אבו סנאן", "אבו סנאן החדשה", 1470),)
    assert (result.changes.new, result.changes.gone) == ((), ())
    successor = by_id(result)["אבו סנאן החדשה"]
    # What it was called before comes first, then the old id, then old names no area has.
    assert successor["former_names"] == ["אבו-סנאן", "אבו סנאן", "Abu Snan", "Abu Snan (ru)",
                                         "Abu Snan (ar)"]
    catalog = Catalog.from_records(result.records)
    for old_name in ("אבו סנאן", "אבו-סנאן", "Abu Snan"):
        assert catalog.resolve_name(old_name).areas == ("אבו סנאן החדשה",), old_name


def test_the_same_id_with_another_code_is_the_same_area_not_a_rename() -> None:
    new = copy.deepcopy(OLD)
    new[2]["hfc_code"] = 1470          # גשר הזיו takes אבו סנאן's code
    new[0]["hfc_code"] = 1471
    result = build(new)
    assert result.changes.renamed == ()
    assert result.changes.code == (("אבו סנאן", 1470, 1471), ("גשר הזיו", 200, 1470))


def test_shelter_times_win_over_the_lists_countdown_and_changes_are_reported() -> None:
    new = copy.deepcopy(OLD)
    new[3]["shelter_seconds"] = 15
    new[3]["zone"] = {"he": "גליל עליון", "en": "Upper Galilee"}
    result = build(new)
    assert by_id(result)["דפנה"]["shelter_seconds"] == 15
    assert result.changes.shelter == (("דפנה", 0, 15),)
    assert result.changes.zone == (("דפנה", "קו העימות", "גליל עליון"),)
    # Without shelter times the list's countdown counts (published_lists sets it 15 s later).
    result = build(OLD, shelter=None)
    assert [s for _, _, s in result.changes.shelter] == [45, 45, 15]


def test_new_and_gone_areas() -> None:
    new = [*copy.deepcopy(OLD[:3]), record("כפר חדש", 9999, "Kfar Hadash", lat=31.5)]
    result = build(new)
    assert result.changes.new == (("כפר חדש", 9999),)
    assert result.changes.gone == (("דפנה", 300),)
    assert "former_names" not in by_id(result)["כפר חדש"]
    text = "\n".join(cc.report_lines(result))
    assert "1 new, 1 gone" in text and "  + כפר חדש (code 9999)" in text
    assert "  - דפנה (code 300)" in text
    report = cc.report_json(result)
    assert report["counts"] == {"new": 1, "gone": 1, "succeeded": 0, "renamed": 0,
                                "shelter_changed": 0, "zone_changed": 0, "code_changed": 0,
                                "name_changed": 0}
    assert "name them with --successors" in text


def test_a_gone_area_named_by_its_successors_keeps_resolving() -> None:
    # דפנה merged into גשר הזיו, and split from אבו סנאן: one old area, two successors.
    old = [*copy.deepcopy(OLD), record("ישן", 400, "Yashan", former_names=["ישן מאוד"])]
    new = copy.deepcopy(OLD[:3])
    result = build(new, previous=old, successors={"דפנה": ["גשר הזיו"],
                                                  "ישן": ["גשר הזיו", "אבו סנאן"]})
    assert result.changes.gone == ()
    assert result.changes.succeeded == (("דפנה", ("גשר הזיו",)),
                                        ("ישן", ("גשר הזיו", "אבו סנאן")))
    records = by_id(result)
    assert records["גשר הזיו"]["former_names"] == [
        "ישן מאוד", "דפנה", "Dafna", "Dafna (ru)", "Dafna (ar)", "ישן", "Yashan",
        "Yashan (ru)", "Yashan (ar)"]
    assert records["אבו סנאן"]["former_names"] == [
        "אבו-סנאן", "ישן מאוד", "ישן", "Yashan", "Yashan (ru)", "Yashan (ar)"]
    catalog = Catalog.from_records(result.records)
    assert catalog.resolve_name("Dafna").areas == ("גשר הזיו",)
    assert set(catalog.resolve_name("ישן").areas) == {"גשר הזיו", "אבו סנאן"}
    assert "  ישן → גשר הזיו, אבו סנאן" in cc.report_lines(result)


@pytest.mark.parametrize(("successors", "problem"), [
    ({"נעלם": ["דפנה"]}, "successors: 'נעלם' is no area of the catalog in use"),
    ({"דפנה": ["דפנה"]}, "successors: 'דפנה' is not gone"),
    ({"גשר הזיו": ["אין כזה"]}, "successors of 'גשר הזיו': no such area in the list: אין כזה"),
])
def test_successors_must_be_of_gone_areas_and_in_the_list(
        successors: dict[str, list[str]], problem: str) -> None:
    new = [r for r in copy.deepcopy(OLD) if r["id"] != "גשר הזיו"]
    with pytest.raises(cc.BuildError) as raised:
        build(new, successors=successors)
    assert raised.value.problems == (problem + (" (it is in the list, or was renamed)"
                                                if "not gone" in problem else ""),)


def test_a_changed_translation_is_reported_and_the_old_one_kept_as_a_former_name() -> None:
    new = copy.deepcopy(OLD)
    new[2]["name"]["en"] = "Gesher Haziv"
    result = build(new)
    assert result.changes.names == (("גשר הזיו", "en", "Gesher HaZiv", "Gesher Haziv"),)
    # Differing only in case, the old spelling still resolves: not added.
    assert "former_names" not in by_id(result)["גשר הזיו"]
    new[2]["name"]["en"] = "Bridge of Ziv"
    assert by_id(build(new))["גשר הזיו"]["former_names"] == ["Gesher HaZiv"]


def test_a_former_name_that_another_area_has_today_is_dropped() -> None:
    old = copy.deepcopy(OLD)
    old[0]["former_names"] = ["סנאן", "אבו-סנאן"]
    new = copy.deepcopy(OLD)
    new[2] = record("סנאן", 200, "Gesher HaZiv", lat=33.0)  # now another area's own id
    result = build(new, previous=old)
    assert by_id(result)["אבו סנאן"]["former_names"] == ["אבו-סנאן"]
    assert result.warnings == ("אבו סנאן: former name 'סנאן' dropped: it is סנאן's now",)
    assert Catalog.from_records(result.records).resolve_name("סנאן").areas == ("סנאן",)


def test_nationwide_records_are_kept_as_they_were_or_added() -> None:
    result = build(OLD)
    assert by_id(result)["ברחבי הארץ"] == in_file_format([OLD[1]])[0]
    assert by_id(result)["כל הארץ"] == cc.NATIONWIDE[1]
    # A nationwide name in the list is not an area of its own.
    areas = lists(OLD)[0]
    listed = cc.parse_area_list([{"name": "כל הארץ", "value": "כל הארץ", "id": 5}, SELECT_ALL,
                                 *published_lists(OLD)["areas"][1:]])
    assert listed.skipped == ("כל הארץ", "בחר הכל") and len(listed.areas) == len(areas.areas)


def test_districts_come_from_their_file_else_from_the_old_catalog() -> None:
    new = [*copy.deepcopy(OLD), record("כפר חדש", 9999, "Kfar Hadash", lat=31.5)]
    assert [r["district"] for r in build(new).records if r.get("zone")] == [
        "מחוז", "מחוז", "מחוז", None]
    result = build(new, districts={"דפנה": "גליל עליון", "נעלם": "x"})
    assert by_id(result)["דפנה"]["district"] == "גליל עליון"
    assert by_id(result)["גשר הזיו"]["district"] is None
    assert "1 districts name no area of the list, ignored: נעלם" in result.warnings


def test_an_area_without_outline_stops_the_build_unless_allowed() -> None:
    areas, outlines, shelter = lists(OLD)
    del outlines["דפנה"]
    with pytest.raises(cc.BuildError, match=r"1 areas have no outline .*: דפנה"):
        cc.build_catalog(areas, outlines, OLD, shelter=shelter)
    result = cc.build_catalog(areas, outlines, OLD, shelter=shelter, allow_missing_outlines=True)
    assert by_id(result)["דפנה"]["polygon"] is None
    assert any("no outline" in w and "דפנה" in w for w in result.warnings)


def test_outlines_written_lng_lat_stop_the_build() -> None:
    areas, outlines, shelter = lists(OLD)
    swapped = {k: [[lng, lat] for lat, lng in ring] for k, ring in outlines.items()}
    with pytest.raises(cc.BuildError, match=r"\[lng, lat\] instead of \[lat, lng\]"):
        cc.build_catalog(areas, swapped, OLD, shelter=shelter)
    outlines["דפנה"] = ring(31.0, 35.0)  # one misplaced outline is a warning
    result = cc.build_catalog(areas, outlines, OLD, shelter=shelter)
    assert result.warnings == ("דפנה: its position lies outside its outline",)


def test_no_position_in_the_list_takes_the_middle_of_the_outline() -> None:
    entry = city_entry(OLD[3]) | {"lat": 0, "lng": 0}
    listed = cc.parse_area_list([entry])
    result = cc.build_catalog(listed, {"דפנה": ring(33.2, 35.6)}, [])
    assert (by_id(result)["דפנה"]["lat"], by_id(result)["דפנה"]["lng"]) == (33.2, 35.6)
    assert result.warnings == ("דפנה: no position in the list; the middle of its outline",)
    assert result.changes.new == (("דפנה", 300),)


def test_an_area_without_shelter_time_stops_the_build() -> None:
    entry = city_entry(OLD[3])
    del entry["countdown"]
    with pytest.raises(cc.BuildError, match=r"no shelter time.*: דפנה"):
        cc.build_catalog(cc.parse_area_list([entry]), {"דפנה": OLD[3]["polygon"]}, [])


@pytest.mark.parametrize(("entries", "message"), [
    ({"a": 1}, "expected a JSON list of areas, got dict"),
    ([], "no areas in the list"),
    ([SELECT_ALL], "no areas in the list"),
    (["x"], "entry 0: expected an object, got str"),
    ([{"id": 5, "zone": "z"}], "entry 0: no 'name'"),
    ([{"id": "five", "name": "א", "zone": "z", "countdown": 0}],
     r"entry 0 \(א\): 'id' \(the area's numeric code\) must be a whole number above 0"),
    ([{"id": 5, "name": "א", "zone": "", "countdown": 0}], r"entry 0 \(א\): no 'zone'"),
    ([{"id": 5, "name": "א", "zone": "z", "countdown": "90s"}], "'countdown' must be a whole"),
    ([{"id": 5, "name": "א", "zone": "z", "lat": 95}], r"'lat' must be a number in \[-90, 90\]"),
    ([{"id": 5, "name": "א", "zone": "z", "name_en": 7}], "'name_en' must be text"),
    ([{"id": 5, "name": "א", "zone": "z"}, {"id": 6, "name": "א", "zone": "z"}],
     r"entry 1 \(א\): the same area as entry 0"),
    ([{"id": 5, "name": "א", "zone": "z"}, {"id": 5, "name": "ב", "zone": "z"}],
     r"entry 1 \(ב\): code 5 is also 'א''s"),
])
def test_a_malformed_area_list_says_which_entry_and_why(entries: Any, message: str) -> None:
    with pytest.raises(cc.InputError, match=message):
        cc.parse_area_list(entries)


@pytest.mark.parametrize(("parse", "data", "message"), [
    (cc.parse_outlines, [], r"expected a JSON object \{area id: \[\[lat, lng\], ...\]\}"),
    (cc.parse_outlines, {"א": [[1, 2]]}, "'א': expected a list of at least 3"),
    (cc.parse_outlines, {"א": [[1, 2], [1, 3], [2, "x"]]}, r"'א', point 2: expected \[lat, lng\]"),
    (cc.parse_shelter, {"א": -1}, "'א': expected a whole number of seconds >= 0, got -1"),
    (cc.parse_shelter, {"א": True}, "'א': expected a whole number of seconds"),
    (cc.parse_districts, {"א": 3}, "'א': expected the district's name or null"),
    (cc.parse_successors, {"א": []}, r"'א': expected an area id or a list of them, got \[\]"),
    (cc.parse_successors, {"א": [3]}, "'א': expected an area id or a list of them"),
    (cc.parse_catalog, {}, "expected a JSON list of catalog records"),
    (cc.parse_catalog, [{"name": "x"}], "record 0: expected an object with a text 'id'"),
    (cc.parse_catalog, [{"id": "א"}, {"id": "א"}], r"record 1 \(א\): a second record"),
    (cc.parse_catalog, [{"id": "א", "hfc_code": "5"}], "'hfc_code' must be a whole number"),
    (cc.parse_catalog, [{"id": "א", "former_names": "ב"}], "'former_names' must be a list"),
])
def test_other_malformed_inputs_say_where(parse: Any, data: Any, message: str) -> None:
    with pytest.raises(cc.InputError, match=message):
        parse(data)
