"""`alertflow catalog build` as an operator runs it: the real CLI on the published lists.

The lists are made from the bundled catalog (tests/catalog_lists.py), so building from them
must give the bundled catalog back; then they change the way the authority changes them (an
area renamed under its code, a shelter time, an area gone, one added) and the report must say
exactly that, and the catalog it writes must load and still know the old name.
"""

from __future__ import annotations

import copy
import gzip
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from alertflow.catalog import load_catalog
from tests.catalog_lists import bundled_records, in_file_format, published_lists

pytestmark = pytest.mark.e2e

ALERTFLOW = str(Path(sys.executable).parent / "alertflow")
RENAMED = ("אבו סנאן", "אבו סנאן המערבית")  # code 1470 in the 2026 list
SHELTER = ("אבו גוש", 60)
GONE = "תרום"
NEW_ID = "כפר הניסוי"
NEW_CODE = 99_999
EMPTY_COUNTS = {"new": 0, "gone": 0, "succeeded": 0, "renamed": 0, "shelter_changed": 0,
                "zone_changed": 0, "code_changed": 0, "name_changed": 0}


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "ALERTFLOW_LOCATIONS"}
    return subprocess.run([ALERTFLOW, "catalog", "build", *args], capture_output=True,
                          text=True, timeout=120, env={**environment, **(env or {})},
                          check=False)


def write_lists(directory: Path, lists: dict[str, Any]) -> list[str]:
    """The lists as files, and the build's arguments naming them."""
    directory.mkdir(exist_ok=True)
    args = []
    for name, data in lists.items():
        path = directory / f"{name}.json"
        path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
        args += [f"--{name}", str(path)]
    return args


def changed_lists(bundled: list[dict[str, Any]]) -> dict[str, Any]:
    """The lists after the authority renamed, retimed, dropped and added one area each."""
    records = {r["id"]: copy.deepcopy(r) for r in bundled if r.get("zone")}
    renamed = records.pop(RENAMED[0])
    renamed["id"] = renamed["name"]["he"] = RENAMED[1]
    records[RENAMED[1]] = renamed
    records[SHELTER[0]]["shelter_seconds"] = SHELTER[1]
    del records[GONE]
    template = records[SHELTER[0]]
    lat, lng = 31.7, 35.05
    records[NEW_ID] = {**copy.deepcopy(template), "id": NEW_ID, "hfc_code": NEW_CODE,
                       "name": {"he": NEW_ID, "en": "Kfar HaNisuy", "ru": "Кфар а-Нисуй",
                                "ar": "كفار هنسوي"},
                       "lat": lat, "lng": lng,
                       "polygon": [[lat - 0.005, lng - 0.005], [lat - 0.005, lng + 0.005],
                                   [lat + 0.005, lng + 0.005], [lat + 0.005, lng - 0.005]]}
    return published_lists(list(records.values()))


@pytest.fixture(scope="module")
def bundled() -> list[dict[str, Any]]:
    return bundled_records()


def test_the_published_lists_of_the_bundled_catalog_build_it_again(
        tmp_path: Path, bundled: list[dict[str, Any]]) -> None:
    args = write_lists(tmp_path / "lists", published_lists(bundled))
    out, report = tmp_path / "catalog.json", tmp_path / "report.json"
    done = run(*args, "-o", str(out), "--report-json", str(report))
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text("utf-8")) == in_file_format(bundled)
    assert "no changes" in done.stdout and f"wrote {out}" in done.stdout
    written = json.loads(report.read_text("utf-8"))
    assert written["counts"] == EMPTY_COUNTS
    assert written["against"].startswith("the bundled catalog")
    assert written["areas"] == written["previous_areas"] == len(bundled) - 2
    # Compressed when asked: the same bytes inside.
    done = run(*args, "-o", str(tmp_path / "catalog.json.gz"))
    assert done.returncode == 0, done.stderr
    assert gzip.decompress((tmp_path / "catalog.json.gz").read_bytes()) == out.read_bytes()


def oref_alert_files(directory: Path, lists: dict[str, Any]) -> list[str]:
    """The outlines, shelter times and districts as the oref_alert project ships them."""
    directory.mkdir(exist_ok=True)
    with zipfile.ZipFile(directory / "area_to_polygon.json.zip", "w",
                         zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("area_to_polygon.json", json.dumps(lists["outlines"]))
    for name, variable, key in (
            ("area_to_migun_time", "AREA_TO_MIGUN_TIME: dict[str, int]", "shelter"),
            ("area_to_district", "AREA_TO_DISTRICT: dict[str, str]", "districts")):
        (directory / f"{name}.py").write_text(
            f'"""GENERATED FILE. DO NOT EDIT MANUALLY."""\n\n{variable} = {lists[key]!r}\n',
            "utf-8")
    (directory / "cities.json").write_text(json.dumps(lists["areas"]), "utf-8")
    return ["--areas", str(directory / "cities.json"),
            "--outlines", str(directory / "area_to_polygon.json.zip"),
            "--shelter", str(directory / "area_to_migun_time.py"),
            "--districts", str(directory / "area_to_district.py")]


def test_oref_alerts_own_files_are_read_as_they_are(
        tmp_path: Path, bundled: list[dict[str, Any]]) -> None:
    args = oref_alert_files(tmp_path / "lists", published_lists(bundled))
    done = run(*args, "-o", str(tmp_path / "catalog.json"))
    assert done.returncode == 0, done.stderr
    assert "no changes" in done.stdout
    assert json.loads((tmp_path / "catalog.json").read_text("utf-8")) == in_file_format(bundled)


def test_a_compressed_catalog_loads_as_locations(
        tmp_path: Path, bundled: list[dict[str, Any]]) -> None:
    # A ConfigMap holds at most 1 MiB: the catalog (about 2 MB) goes there compressed.
    args = write_lists(tmp_path / "lists", published_lists(bundled))
    assert run(*args, "-o", str(tmp_path / "areas.json.gz")).returncode == 0
    assert (tmp_path / "areas.json.gz").stat().st_size < 1_000_000
    catalog = load_catalog(str(tmp_path / "areas.json.gz"))
    assert len(catalog) == len(bundled) - 2


def test_the_report_lists_exactly_what_the_authority_changed(
        tmp_path: Path, bundled: list[dict[str, Any]]) -> None:
    args = write_lists(tmp_path / "lists", changed_lists(bundled))
    out, report = tmp_path / "catalog.json", tmp_path / "report.json"
    done = run(*args, "-o", str(out), "--report-json", str(report))
    assert done.returncode == 0, done.stderr
    old_seconds = next(r["shelter_seconds"] for r in bundled if r["id"] == SHELTER[0])
    gone_code = next(r["hfc_code"] for r in bundled if r["id"] == GONE)
    written = json.loads(report.read_text("utf-8"))
    assert written["counts"] == {**EMPTY_COUNTS, "new": 1, "gone": 1, "renamed": 1,
                                 "shelter_changed": 1}
    assert written["new"] == [{"id": NEW_ID, "hfc_code": NEW_CODE}]
    assert written["gone"] == [{"id": GONE, "hfc_code": gone_code}]
    assert written["renamed"] == [{"from": RENAMED[0], "to": RENAMED[1], "hfc_code": 1470}]
    assert written["shelter_changed"] == [{"id": SHELTER[0], "from": old_seconds,
                                           "to": SHELTER[1]}]
    assert written["warnings"] == []
    for line in ("1 new, 1 gone, 1 renamed, 1 shelter time changed",
                 f"  + {NEW_ID} (code {NEW_CODE})", f"  - {GONE} (code {gone_code})",
                 f"  {RENAMED[0]} → {RENAMED[1]} (code 1470)",
                 f"  {SHELTER[0]}: {old_seconds} s → {SHELTER[1]} s"):
        assert line in done.stdout.splitlines(), done.stdout

    catalog = load_catalog(str(out))
    assert catalog.resolve_name(RENAMED[0]).areas == (RENAMED[1],)
    assert catalog.resolve_name(RENAMED[1]).areas == (RENAMED[1],)
    assert catalog.get(SHELTER[0]).shelter_seconds == SHELTER[1]  # type: ignore[union-attr]
    assert catalog.get(GONE) is None and catalog.get(NEW_ID) is not None
    record = next(r for r in json.loads(out.read_text("utf-8")) if r["id"] == RENAMED[1])
    assert RENAMED[0] in record["former_names"]

    # Built again against that catalog (as ALERTFLOW_LOCATIONS names it): nothing changes, and
    # the old id stays a former name.
    done = run(*args, "-o", str(tmp_path / "again.json"),
               env={"ALERTFLOW_LOCATIONS": str(out)})
    assert done.returncode == 0, done.stderr
    assert "no changes" in done.stdout and f"compared with {out}" in done.stdout
    assert (tmp_path / "again.json").read_bytes() == out.read_bytes()


def test_a_gone_areas_successors_take_its_name(
        tmp_path: Path, bundled: list[dict[str, Any]]) -> None:
    args = write_lists(tmp_path / "lists", changed_lists(bundled))
    (tmp_path / "successors.json").write_text(json.dumps({GONE: [NEW_ID]}), "utf-8")
    out = tmp_path / "catalog.json"
    done = run(*args, "--successors", str(tmp_path / "successors.json"), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "merged or split: 1" in done.stdout
    assert f"  {GONE} → {NEW_ID}" in done.stdout.splitlines()
    assert "\ngone:" not in done.stdout
    assert load_catalog(str(out)).resolve_name(GONE).areas == (NEW_ID,)


def test_against_no_catalog_every_area_is_new_and_the_nationwide_records_are_the_bundled(
        tmp_path: Path, bundled: list[dict[str, Any]]) -> None:
    args = write_lists(tmp_path / "lists", published_lists(bundled))
    out, report = tmp_path / "catalog.json", tmp_path / "report.json"
    done = run(*args, "--against", "none", "-o", str(out), "--report-json", str(report))
    assert done.returncode == 0, done.stderr
    assert json.loads(report.read_text("utf-8"))["counts"] == {
        **EMPTY_COUNTS, "new": len(bundled) - 2}
    nationwide = [r for r in json.loads(out.read_text("utf-8")) if not r["zone"]]
    assert nationwide == [r for r in in_file_format(bundled) if not r["zone"]]


def test_an_area_without_outline_stops_the_build_and_writes_nothing(
        tmp_path: Path, bundled: list[dict[str, Any]]) -> None:
    lists = published_lists(bundled)
    del lists["outlines"][SHELTER[0]]
    args = write_lists(tmp_path / "lists", lists)
    out = tmp_path / "catalog.json"
    done = run(*args, "-o", str(out))
    assert done.returncode == 1
    assert f"1 areas have no outline (an area without one cannot be selected by shape): " \
           f"{SHELTER[0]}" in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()
    done = run(*args, "-o", str(out), "--allow-missing-outlines")
    assert done.returncode == 0, done.stderr
    assert "1 areas have no outline and cannot be selected by shape" in done.stdout


@pytest.mark.parametrize(("which", "content", "problem"), [
    ("outlines", b'{"\xd7\x90": [[1, 2], [1, 3]', "not JSON: Expecting ',' delimiter at line 1"),
    ("outlines", b"\xff\xfe{}", "not UTF-8 text"),
    ("areas", b"\x1f\x8b\x08\x00garbage", "not a readable gzip or zip file"),
    ("shelter.py", b"AREA_TO_MIGUN_TIME = dict(a=1)\n",
     "its assignment is not a literal (a dict, list, text, numbers)"),
    ("districts.py", b"A = {}\nB = {}\n", "expected one top-level assignment, found 2"),
    ("areas", json.dumps([{"id": "x", "name": "א", "zone": "z"}]).encode(),
     "entry 0 (א): 'id' (the area's numeric code) must be a whole number above 0, got 'x'"),
    ("shelter", b'{"\xd7\x90": "soon"}', "'א': expected a whole number of seconds >= 0"),
    ("against", b"[{}]", "record 0: expected an object with a text 'id'"),
    ("districts", None, "cannot read: No such file or directory"),
    ("successors", b'{"\xd7\x90": 5}', "'א': expected an area id or a list of them, got 5"),
])
def test_a_malformed_input_names_the_file_and_the_problem(
        tmp_path: Path, bundled: list[dict[str, Any]], which: str, content: bytes | None,
        problem: str) -> None:
    args = write_lists(tmp_path / "lists", published_lists(bundled[:50]))
    which, _, suffix = which.partition(".")
    bad = tmp_path / f"bad-{which}.{suffix or 'json'}"
    if content is not None:
        bad.write_bytes(content)
    if f"--{which}" in args:
        args[args.index(f"--{which}") + 1] = str(bad)
    else:
        args += [f"--{which}", str(bad)]
    done = run(*args, "-o", str(tmp_path / "catalog.json"))
    assert done.returncode == 2
    assert f"alertflow catalog build: --{which} {bad}: {problem}" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert not (tmp_path / "catalog.json").exists()

