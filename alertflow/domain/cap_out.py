"""OASIS CAP 1.2 out: one message per alert window, and an Atom feed of the open windows.

A window's message (`alert(incident)`) is `msgType` Alert; when the window closes early (an
all-clear: a `close` with `reason: cancelled`) its message becomes `cancel(close)`, `msgType`
Cancel, whose `<references>` names the Alert (`sender,identifier,sent`) so a CAP consumer
withdraws it. Times are CAP's `YYYY-MM-DDThh:mm:ss+00:00` (the schema allows no `Z` and no
fractions). Built with ElementTree (writing only: nothing here parses untrusted XML).

Each `<area>` carries the area's outline as `<polygon>` (Google Public Alerts requires a shape
per area), simplified by Douglas-Peucker at `geo.CAP_TOLERANCE_DEG` (0.0002°, about 20 m; no
left-out vertex is more than ~35 m from the ring kept) with its topology kept, so each ring
stays closed and valid; an area of two parts has two. An area the catalog does not know (or
knows without an outline) has its `<geocode>` and `<areaDesc>` only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Final
from xml.etree.ElementTree import Element, SubElement, tostring

from alertflow.domain.geo import LatLng, cap_rings
from alertflow.domain.hazards import hazard_of
from alertflow.domain.locations import Catalog

CAP_NS: Final = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS: Final = "http://www.w3.org/2005/Atom"
SENDER: Final = "alertflow"
# The catalog's languages as CAP's <language> (RFC 3066) codes, Hebrew first.
LANGUAGES: Final[dict[str, str]] = {"he": "he-IL", "en": "en-US", "ru": "ru-RU", "ar": "ar"}
# CAP's <category> for each of alertflow's categories.
CAP_CATEGORY: Final[dict[str, str]] = {
    "missiles": "Security", "hostile_aircraft": "Security", "infiltration": "Security",
    "early_warning": "Security", "drill": "Security", "earthquake": "Geo", "tsunami": "Geo",
    "hazmat": "CBRNE", "nonconventional": "CBRNE", "radiological": "CBRNE",
    "all_clear": "Safety", "general": "Other",
}


def cap_time(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def identifier(incident_id: str) -> str:
    return f"alertflow-{incident_id}"


def _child(parent: Element, tag: str, text: str | None) -> None:
    if text:
        SubElement(parent, f"{{{CAP_NS}}}{tag}").text = text


@lru_cache(maxsize=4_096)
def _polygons(outline: tuple[LatLng, ...]) -> tuple[str, ...]:
    """CAP `<polygon>` texts of an outline (cached by the outline: a window's message is asked
    for again and again, and the catalog does not change)."""
    return tuple(" ".join(f"{_degrees(lat)},{_degrees(lng)}" for lat, lng in ring)
                 for ring in cap_rings(outline))


def _degrees(value: float) -> str:
    """Decimal degrees to the micro-degree (10 cm), never in exponent notation."""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def area_polygons(catalog: Catalog | None, area_id: str) -> tuple[str, ...]:
    """The `<polygon>`s of an area of `catalog` (none for an area it does not outline)."""
    area = catalog.get(area_id) if catalog is not None else None
    return _polygons(area.outline) if area is not None and area.outline else ()


def _message(window: dict[str, Any], msg_type: str, ident: str, sent_ms: int,
             references: str | None, catalog: Catalog | None) -> bytes:
    category = str(window.get("category") or "general")
    root = Element(f"{{{CAP_NS}}}alert")
    _child(root, "identifier", ident)
    _child(root, "sender", SENDER)
    _child(root, "sent", cap_time(sent_ms))
    _child(root, "status", "Exercise" if category == "drill" else "Actual")
    _child(root, "msgType", msg_type)
    _child(root, "scope", "Public")
    _child(root, "references", references)
    _child(root, "incidents", str(window["incident_id"]))
    # One <info> per language the catalog names the area in, so a consumer that picks its
    # language gets the area's name in it; each carries the area's id as a geocode, which says
    # they are one area told in several languages. The source's own text is as it was sent.
    names = window.get("names") or {"he": str(window["location"])}
    polygons = area_polygons(catalog, str(window["location"]))
    for lang, language in LANGUAGES.items():
        if names.get(lang):
            _info(root, window, category, language, str(names[lang]), polygons)
    return bytes(tostring(root, encoding="utf-8", xml_declaration=True,
                          default_namespace=CAP_NS))


def _info(root: Element, window: dict[str, Any], category: str, language: str,
          area_name: str, polygons: tuple[str, ...]) -> None:
    info = SubElement(root, f"{{{CAP_NS}}}info")
    _child(info, "language", language)
    _child(info, "category", CAP_CATEGORY.get(category, "Other"))
    _child(info, "event", str(window.get("type") or category))
    early = category == "early_warning"
    _child(info, "urgency", "Expected" if early else "Immediate")
    _child(info, "severity", "Severe" if early else "Extreme")
    _child(info, "certainty", "Likely" if early else "Observed")
    _child(info, "effective", cap_time(int(window["started_at"])))
    _child(info, "expires", cap_time(int(window["ends_at"])))
    _child(info, "senderName", SENDER)
    _child(info, "headline", window.get("title") or window.get("type"))
    _child(info, "instruction", window.get("instructions"))
    parameter = SubElement(info, f"{{{CAP_NS}}}parameter")
    _child(parameter, "valueName", "alertflow:category")
    _child(parameter, "value", category)
    # The window's hazard: an area under two hazards has two windows, two CAP messages.
    parameter = SubElement(info, f"{{{CAP_NS}}}parameter")
    _child(parameter, "valueName", "alertflow:hazard")
    _child(parameter, "value", str(window.get("hazard") or hazard_of(category)))
    area = SubElement(info, f"{{{CAP_NS}}}area")
    _child(area, "areaDesc", area_name)
    for polygon in polygons:  # the schema's order: areaDesc, polygon*, circle*, geocode*
        _child(area, "polygon", polygon)
    geocode = SubElement(area, f"{{{CAP_NS}}}geocode")
    _child(geocode, "valueName", "alertflow:area")
    _child(geocode, "value", str(window["location"]))


def alert(incident: dict[str, Any], catalog: Catalog | None = None) -> bytes:
    """The message of an open window (a snapshot incident); `catalog` gives its outline."""
    return _message(incident, "Alert", identifier(incident["incident_id"]),
                    int(incident["started_at"]), None, catalog)


def cancel(close: dict[str, Any], catalog: Catalog | None = None) -> bytes:
    """The message of a window closed early (its `close` event, `reason: cancelled`)."""
    ident = identifier(close["incident_id"])
    return _message(close, "Cancel", ident + "-cancel", int(close["ends_at"]),
                    f"{SENDER},{ident},{cap_time(int(close['started_at']))}", catalog)


def _updated(incident: dict[str, Any]) -> int:
    return int(incident.get("issued_at") or incident["started_at"])


def atom(incidents: list[dict[str, Any]]) -> bytes:
    """The open windows as an Atom feed, newest first, each entry linking to its message.
    Links are absolute paths (resolved against the feed's own URL), so the body is the same
    whatever host name it was fetched by, and can be cached once for all. `updated` is the
    newest entry's (the epoch when there is none), so the same windows give the same bytes."""
    shown = sorted((i for i in incidents if not i.get("late")),
                   key=lambda i: (-int(i["started_at"]), i["location"]))

    def child(parent: Element, tag: str, text: str) -> Element:
        element = SubElement(parent, tag)
        element.text = text
        return element

    feed = Element("feed", xmlns=ATOM_NS)  # (unprefixed names: ElementTree's
    # default_namespace refuses unqualified attributes such as href)
    child(feed, "id", "urn:alertflow:cap")
    child(feed, "title", "alertflow: open alert windows (CAP 1.2)")
    child(feed, "updated", cap_time(max((_updated(i) for i in shown), default=0)))
    SubElement(feed, "link", rel="self", href="/v1/cap")
    author = SubElement(feed, "author")
    child(author, "name", SENDER)
    for incident in shown:
        entry = SubElement(feed, "entry")
        child(entry, "id", "urn:alertflow:" + identifier(incident["incident_id"]))
        child(entry, "title", f"{incident.get('title') or incident.get('type')}: "
                              f"{incident['location']}")
        child(entry, "updated", cap_time(_updated(incident)))
        SubElement(entry, "link", rel="alternate", type="application/cap+xml",
                   href=f"/v1/cap/{incident['incident_id']}.xml")
    return bytes(tostring(feed, encoding="utf-8", xml_declaration=True))
