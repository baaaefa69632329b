"""CAP 1.2 out: every window's message validates against the OASIS schema, an early close is a
Cancel naming its Alert, and the Atom feed lists the open windows."""

from __future__ import annotations

from typing import Any

import pytest
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


def window(category: str = "missiles", **extra: Any) -> dict[str, Any]:
    return {"incident_id": "42", "location": "אשקלון", "category": category,
            "type": "ירי רקטות וטילים", "title": "ירי רקטות וטילים", "instructions": None,
            "started_at": STARTED, "ends_at": STARTED + 600_000, "issued_at": STARTED, **extra}


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_category_validates(category: str) -> None:
    body = cap_out.alert(window(category, instructions="היכנסו למרחב המוגן"))
    assert_valid_cap(body)
    root = fromstring(body)
    assert root.findtext(f"{CAP}msgType") == "Alert"
    assert root.findtext(f"{CAP}status") == ("Exercise" if category == "drill" else "Actual")
    assert root.findtext(f"{CAP}info/{CAP}area/{CAP}areaDesc") == "אשקלון"
    assert root.findtext(f"{CAP}info/{CAP}parameter/{CAP}value") == category


def test_an_early_close_is_a_cancel_referencing_the_alert() -> None:
    opened = fromstring(cap_out.alert(window()))
    body = cap_out.cancel({**window(), "kind": "close", "reason": "cancelled",
                           "ends_at": STARTED + 60_000})
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
    catalog = load_catalog()
    area = catalog.get("אשקלון")
    assert area is not None
    body = cap_out.alert(window(names=dict(area.names)))
    assert_valid_cap(body)
    infos = fromstring(body).findall(f"{CAP}info")
    assert [i.findtext(f"{CAP}language") for i in infos] == ["he-IL", "en-US", "ru-RU", "ar"]
    assert [i.findtext(f"{CAP}area/{CAP}areaDesc") for i in infos] == [
        area.names[lang] for lang in ("he", "en", "ru", "ar")]
    assert {i.findtext(f"{CAP}area/{CAP}geocode/{CAP}value") for i in infos} == {"אשקלון"}
    # A CAP consumer (alertflow's own listener here) reads the translations as one alert.
    [alert] = cap.parse(body, cap12(), AreaIndex.of(catalog)).alerts
    assert alert.optional_names[0] == ("אשקלון", "/alert/info[1]/area[1]/geocode[1]/value")
