"""CAP 1.2 out: every window's message validates against the OASIS schema, an early close is a
Cancel naming its Alert, and the Atom feed lists the open windows."""

from __future__ import annotations

from typing import Any

import pytest
import shapely
from defusedxml.ElementTree import fromstring

from alertflow.catalog import load_catalog
from alertflow.domain import cap, cap_out
from alertflow.domain.categories import CATEGORIES
from alertflow.domain.geo import AreaIndex
from alertflow.schemas import cap12
from tests.cap_xsd import assert_valid_cap

CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
ATOM = "{http://www.w3.org/2005/Atom}"
STARTED = 1764280000123
CATALOG = load_catalog()
ASHKELON_SOUTH = "אשקלון - דרום"


def window(category: str = "missiles", **extra: Any) -> dict[str, Any]:
    return {"incident_id": "42", "location": ASHKELON_SOUTH, "category": category,
            "type": "ירי רקטות וטילים", "title": "ירי רקטות וטילים", "instructions": None,
            "started_at": STARTED, "ends_at": STARTED + 600_000, "issued_at": STARTED, **extra}


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_category_validates(category: str) -> None:
    body = cap_out.alert(window(category, instructions="היכנסו למרחב המוגן"), CATALOG)
    assert_valid_cap(body)
    root = fromstring(body)
    assert root.findtext(f"{CAP}msgType") == "Alert"
    assert root.findtext(f"{CAP}status") == ("Exercise" if category == "drill" else "Actual")
    assert root.findtext(f"{CAP}info/{CAP}area/{CAP}areaDesc") == ASHKELON_SOUTH
    assert root.findtext(f"{CAP}info/{CAP}area/{CAP}polygon")
    assert root.findtext(f"{CAP}info/{CAP}parameter/{CAP}value") == category


def test_an_early_close_is_a_cancel_referencing_the_alert() -> None:
    opened = fromstring(cap_out.alert(window(), CATALOG))
    body = cap_out.cancel({**window(), "kind": "close", "reason": "cancelled",
                           "ends_at": STARTED + 60_000}, CATALOG)
    assert_valid_cap(body)
    root = fromstring(body)
    assert root.findtext(f"{CAP}msgType") == "Cancel"
    assert root.findtext(f"{CAP}references") == ",".join(
        opened.findtext(f"{CAP}{tag}") for tag in ("sender", "identifier", "sent"))
    assert root.findtext(f"{CAP}sent") == "2025-11-27T21:47:40+00:00"


def test_the_atom_feed_lists_open_windows_newest_first() -> None:
    feed = fromstring(cap_out.atom([
        window(), window(incident_id="43", started_at=STARTED + 1000, issued_at=None),
        window(incident_id="44", late=True)]))
    links = [e.find(f"{ATOM}link").get("href") for e in feed.iter(f"{ATOM}entry")]
    assert links == ["/v1/cap/43.xml", "/v1/cap/42.xml"]
    assert feed.findtext(f"{ATOM}updated") == "2025-11-27T21:46:41+00:00"
    assert cap_out.atom([]) == cap_out.atom([])  # the same windows, the same bytes


def test_one_info_per_language_of_the_area_read_back_as_one_alert() -> None:
    area = CATALOG.get(ASHKELON_SOUTH)
    assert area is not None
    body = cap_out.alert(window(names=dict(area.names)), CATALOG)
    assert_valid_cap(body)
    infos = fromstring(body).findall(f"{CAP}info")
    assert [i.findtext(f"{CAP}language") for i in infos] == ["he-IL", "en-US", "ru-RU", "ar"]
    assert [i.findtext(f"{CAP}area/{CAP}areaDesc") for i in infos] == [
        area.names[lang] for lang in ("he", "en", "ru", "ar")]
    assert {i.findtext(f"{CAP}area/{CAP}geocode/{CAP}value") for i in infos} == {ASHKELON_SOUTH}
    assert len({i.findtext(f"{CAP}area/{CAP}polygon") for i in infos}) == 1
    # A CAP consumer (alertflow's own listener here) reads the translations as one alert.
    [alert] = cap.parse(body, cap12(), AreaIndex.of(CATALOG)).alerts
    assert alert.optional_names[0] == (ASHKELON_SOUTH, "/alert/info[1]/area[1]/geocode[1]/value")
    assert ASHKELON_SOUTH in alert.area_ids


def polygons(body: bytes) -> list[shapely.Geometry]:
    shapes = []
    for element in fromstring(body).iter(f"{CAP}polygon"):
        pairs = [tuple(float(n) for n in pair.split(",")) for pair in (element.text or "").split()]
        assert len(pairs) >= 4 and pairs[0] == pairs[-1]  # CAP: closed, at least four points
        shapes.append(shapely.Polygon([(lng, lat) for lat, lng in pairs]))
    return shapes


def test_each_area_carries_its_outline_as_a_valid_simplified_polygon() -> None:
    """Google Public Alerts requires a shape per area: every message of every area has the
    area's outline, closed, valid, within 0.0002° (twice that for a vertex GEOS drops at a
    ring's start) of the outline's vertices and smaller than it."""
    for area in CATALOG.areas.values():
        body = cap_out.alert(window(location=area.id, names={"he": area.id}), CATALOG)
        shapes = polygons(body)
        assert shapes and all(shape.is_valid for shape in shapes), area.id
        outline = shapely.make_valid(shapely.Polygon([(lng, lat) for lat, lng in area.outline]))
        kept = shapely.union_all([shape.exterior for shape in shapes])
        assert max(kept.distance(shapely.Point(lng, lat)) for lat, lng in area.outline
                   ) <= 2 * 0.0002, area.id
        assert shapely.union_all(shapes).intersects(outline)
        assert sum(len(shape.exterior.coords) for shape in shapes) <= len(area.outline) + 1
    for area_id in ("אבו גוש", "נהריה", "אדורה"):  # schema checks are slow: a few, one of two parts
        assert_valid_cap(cap_out.alert(window(location=area_id, names={"he": area_id}), CATALOG))
    assert len(polygons(cap_out.alert(window(location="אדורה"), CATALOG))) == 2
    # An area the catalog does not know: no shape, still valid.
    unknown = cap_out.alert(window(location="Nowhere"), CATALOG)
    assert_valid_cap(unknown)
    assert polygons(unknown) == []
