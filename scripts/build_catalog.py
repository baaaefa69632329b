"""Builds the bundled catalog (alertflow/data/areas-il-2026.json) from the 2026 area list and the
2020 list it replaces, giving each of today's areas the 2020 names that now mean it.

Run once when either list changes, then review the printed table and commit both files:

    git show 7406384:alertflow/data/locations-il.json > /tmp/locations-il-2020.json
    .venv/bin/python scripts/build_catalog.py ../shared/data/areas-il-2026.json \
        /tmp/locations-il-2020.json

(the 2020 list as alertflow shipped it until 2026-12, with the cut names written out in full).

A 2020 area's successors are, in this order: the areas REVIEWED names for it; today's area
with the same id or the same name written differently ("אבו-גוש" → "אבו גוש"); the areas its
name means today when one of them covers (or lies within 2 km of) its 2020 position (a split
city's parts, "Sderot" in "Sderot, Ibim"); else the area whose outline covers its position;
else the nearest outline within 3 km. Anything else stops the build: add it to REVIEWED.
Each successor gets the 2020 id and the 2020 names in every language as `former_names`, and the
names of its 2020 zone when that zone is gone and its name means nothing today,
except a name that already means that area today, or means another area (or several) today:
a current name always wins.
"""

from __future__ import annotations

import json
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import shapely

from alertflow.catalog import load_aliases
from alertflow.domain.locations import Catalog
from alertflow.domain.text import compact

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "alertflow/data/areas-il-2026.json"
KM_PER_DEGREE = 111.2

# Reviewed by hand (2026-12-08): 2020 areas that were merged, split or renamed beyond what the
# rules above find, or that they would map wrongly. Each maps to today's areas that cover it.
REVIEWED: dict[str, list[str]] = {
    # Merged into one area of today, or split into several.
    "ירושלים - מזרח, מרכז ומערב": ["ירושלים - מזרח", "ירושלים - מרכז", "ירושלים - מערב"],
    "ירושלים - צפון ואלונים": ["ירושלים - צפון"],
    "חיפה - מפרץ והקריות": ["חיפה - מפרץ", "חיפה - קריית חיים ושמואל"],
    "פרדס חנה": ["פרדס חנה כרכור"],
    "כרכור": ["פרדס חנה כרכור"],
    "קדימה": ["קדימה צורן"],
    "צורן": ["קדימה צורן"],
    "אשדות יעקב איחוד": ["אשדות יעקב"],
    "אשדות יעקב מאוחד": ["אשדות יעקב"],
    # The position in the 2020 list is rough; the name says which part it was.
    "אבו-תלול והפזורה": ["אבו תלול"],
    "ירושלים - רובע דרום": ["ירושלים - דרום"],
    "הר כמון - מזרח": ["כמון - כמאנה מזרחית"],
    "הר כמון - מערב": ["מכמנים - כמאנה מערבית"],
    # "דן" was kibbutz Dan; today it is also a zone's name.
    "דן": ["קיבוץ דן"],
    # Renamed.
    "נצרת עילית": ["נוף הגליל"],
    # Remote sites the list dropped: the nearest area of today, which now alerts them.
    "בית סוהר נפחא": ["מצפה רמון"],
    "חוות ערנדל": ["יהל"],
    "כושי רמון": ["פארן"],
    "עבדת": ["שאנטי במדבר"],
}


# Names the 2026 list cut short, glued together or mixed up, written out (tests/unit/test_catalog_names.py
# checks the whole file for such faults).
NAME_FIXES: dict[tuple[str, str], str] = {
    ("אשדוד - ח,ט,י,יג,יד,טז", "en"): "Ashdod - Het, Tet, Yod, Yod Gimmel, Yod Dalet, Tet Zayin",
    ("רמלה", "ar"): "الرملة",
    ("תחנת רכבת ראש העין", "ar"): "محطة القطار رأس العين",
    ("חיפה - קריית חיים ושמואל", "ru"): "Хайфа - Кирьят Хаим и Кирьят Шмуэль",
    # The list gives Kfar Malal (Sharon) the English name of Kafr Misr (Lower Galilee).
    ("כפר מל''ל", "en"): "Kfar Malal",
    # Written unlike the city's other areas, so "Ashdod" did not name them all.
    ("אשדוד -יא,יב,טו,יז,מרינה,סיטי", "en"):
        "Ashdod - Yod Alef, Yod Bet, Tet Vav, Yod Zayin, Marina, City",
    ("אשדוד -יא,יב,טו,יז,מרינה,סיטי", "ru"):
        "Ашдод - йуд алеф, йуд бет, тет вав, йуд заин, марина, сити",
}


def corrected(areas: list[dict[str, Any]]) -> None:
    """Each zone gets the spelling most of its areas use in each language (the list spells some
    zones several ways, and once gives a Judea farm the Beit She'an Valley's names); the names
    in NAME_FIXES are written out."""
    spellings: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for record in areas:
        for language, name in record["zone"].items():
            spellings[(record["zone"]["he"], language)][name] += 1
    for record in areas:
        zone = record["zone"]["he"]
        record["zone"] = {language: spellings[(zone, language)].most_common(1)[0][0]
                          for language in record["zone"]}
        for (area_id, language), name in NAME_FIXES.items():
            if record["id"] == area_id:
                record["name"] = {**record["name"], language: name}


def _km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    return math.hypot(lat1 - lat2, (lng1 - lng2) * math.cos(math.radians(lat1))) * KM_PER_DEGREE


def main(new_path: str, old_path: str) -> int:
    new = json.loads(Path(new_path).read_text("utf-8"))
    old = json.loads(Path(old_path).read_text("utf-8"))
    areas = [r for r in new if r.get("polygon")]
    corrected(areas)
    by_id = {r["id"]: r for r in new}
    # With the aliases: a name an alias gives a meaning today is no former name either.
    catalog = Catalog.from_records(areas, aliases=load_aliases())
    outlines = {r["id"]: shapely.Polygon([(lng, lat) for lat, lng in r["polygon"]]).buffer(0)
                for r in areas}
    tree_ids = list(outlines)
    tree = shapely.STRtree(list(outlines.values()))

    def covering(lat: float, lng: float) -> list[str]:
        point = shapely.Point(lng, lat)
        return [tree_ids[i] for i in tree.query(point, predicate="intersects")]

    def distance_km(area_id: str, lat: float, lng: float) -> float:
        degrees = outlines[area_id].distance(shapely.Point(lng, lat))
        return degrees * KM_PER_DEGREE

    def nearest(lat: float, lng: float) -> tuple[str, float]:
        index = tree.nearest(shapely.Point(lng, lat))
        area_id = tree_ids[int(index)]
        return area_id, distance_km(area_id, lat, lng)

    successors: dict[str, list[str]] = {}
    how: dict[str, str] = {}
    stuck = []
    for record in old:
        old_id, lat, lng = record["id"], record["lat"], record["lng"]
        if REVIEWED.get(old_id):
            successors[old_id], how[old_id] = REVIEWED[old_id], "reviewed"
            continue
        if old_id in by_id:
            successors[old_id], how[old_id] = [old_id], "same id"
            continue
        found = None
        for name in (old_id, record["name"]["en"]):
            resolved = catalog.resolve_name(name)
            if resolved.found and resolved.how in ("area", "city", "fuzzy", "alias") and any(
                    distance_km(a, lat, lng) <= 2.0 for a in resolved.areas):
                found = list(resolved.areas), f"name ({resolved.how})"
                break
        if found is None:
            cover = covering(lat, lng)
            if cover:
                found = sorted(cover), "outline covers position"
            else:
                area_id, km = nearest(lat, lng)
                if km <= 3.0:
                    found = [area_id], f"nearest outline, {km:.1f} km"
        if found is None:
            stuck.append(old_id)
            continue
        successors[old_id], how[old_id] = found
    if stuck:
        print("no successor found (add to REVIEWED):", *stuck, sep="\n  ", file=sys.stderr)
        return 1

    former: dict[str, list[str]] = {r["id"]: [] for r in areas}
    skipped = []
    for record in old:
        targets = successors[record["id"]]
        names = dict.fromkeys([record["id"], *record["name"].values()])
        for name in names:
            now = catalog._exact(name)  # today's names only: a close spelling is no claim
            if now.how == "area" and set(now.areas) == set(targets):
                continue  # already means that area today
            if now.how in ("area", "ambiguous"):
                skipped.append((name, record["id"], ", ".join(now.areas) or "several areas"))
                continue  # a current name of another area (or of several) wins
            for target in targets:
                if compact(name) not in {compact(n) for n in former[target]}:
                    former[target].append(name)

    # A 2020 zone that is no zone today (חפר, גולן, הקריות…) names its 2020 areas' successors, so
    # that a saved subscription to it keeps its areas; only a name with no meaning today.
    zone_areas: dict[str, set[str]] = defaultdict(set)
    zone_names: dict[str, set[str]] = defaultdict(set)
    for record in old:
        zone = record["zone"]["he"]
        zone_areas[zone].update(successors[record["id"]])
        zone_names[zone].update(record["zone"].values())
    for zone, targets in zone_areas.items():
        if catalog.resolve_zone(zone) is not None:
            continue
        for name in sorted(zone_names[zone]):
            if catalog._exact(name).how != "unknown":
                skipped.append((name, f"zone {zone}", "a place or group"))
                continue
            for target in sorted(targets):
                if compact(name) not in {compact(n) for n in former[target]}:
                    former[target].append(name)
        print(f"zone {zone} (gone) → its {len(targets)} areas' successors")

    records = []
    for record in new:
        out = dict(record)
        if former.get(record["id"]):
            out["former_names"] = former[record["id"]]
        records.append(out)
    OUT.write_text(json.dumps(records, ensure_ascii=False, separators=(",", ":")) + "\n", "utf-8")

    for record in old:
        if how[record["id"]] != "same id":
            print(f"{record['id']} ({record['name']['en']}) → "
                  f"{', '.join(successors[record['id']])}   [{how[record['id']]}]")
    for name, old_id, now_id in skipped:
        print(f"not carried: {name!r} (of 2020's {old_id}) names {now_id} today")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
