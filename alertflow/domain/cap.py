"""OASIS CAP 1.2 messages in: parsed safely, validated against the schema, turned into alerts.

Hostile XML never gets far: defusedxml refuses any DTD (so no entity, no billion laughs, no
external reference), the element tree is checked for depth before anything walks it, and the
OASIS schema decides what a valid message is (`Schema`, given by the caller: this module
imports no validator), every error naming the element.

What a message means here:
- `Alert`: each `<info>` is an alert: `<event>` its type, `<event>` + `<category>` its category,
  `<onset>` (or `<effective>`, or `<sent>`) its start and `<expires>` its end.
- `Update`: replaces the referenced alert: the update's alerts, then an all-clear for the
  update's areas just before its start (so the window carries the update alone).
- `Cancel`: closes what the referenced alert opened: an all-clear for the areas it names.
  alertflow keeps no copy of past messages, so a Cancel must repeat the areas (`<info><area>`).
- `Ack`/`Error` and `status` other than `Actual`/`Exercise` show nothing (`Exercise` is a drill).
Each `<area>` gives locations from `<polygon>`/`<circle>` (every catalog area whose point lies
inside), `<geocode>` values and `<areaDesc>`; a description that names no area counts only when
the shapes and codes found none.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final, Protocol
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from alertflow.domain.alert import AlertRejected
from alertflow.domain.categories import category_of_cap
from alertflow.domain.geo import AreaIndex, ShapeError
from alertflow.domain.incoming import Incoming

NS: Final = "urn:oasis:names:tc:emergency:cap:1.2"
MEDIA_TYPES: Final = ("application/cap+xml", "application/xml", "text/xml")
MAX_DEPTH: Final = 16  # alert/info/area/geocode/value is 5; a signature adds a few
MAX_INFOS: Final = 64
MAX_AREAS: Final = 1_000
DEFAULT_DURATION_S: Final = 600  # a message without <expires> still ends its window
MAX_DURATION_S: Final = 86_400
MAX_INSTRUCTIONS: Final = 2_000
SHOWN_STATUS: Final = ("Actual", "Exercise")


class Schema(Protocol):
    """Validation against the OASIS CAP 1.2 schema (`alertflow.schemas.cap12()`)."""

    def first_error(self, body: bytes, root: Element) -> tuple[str, str] | None:
        """(element path, reason) of the first violation, or None when the message is valid."""


def _tag(name: str) -> str:
    return f"{{{NS}}}{name}"


_T = {name: _tag(name) for name in (
    "alert", "identifier", "sender", "sent", "status", "msgType", "references", "info",
    "language", "category", "event", "onset", "effective", "expires", "headline", "instruction",
    "area", "areaDesc", "polygon", "circle", "geocode", "value",
)}


def _check_depth(root: Element) -> None:
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise AlertRejected(422, _local(element.tag),
                                f"elements nested deeper than {MAX_DEPTH} levels")
        stack.extend((child, depth + 1) for child in element)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml_path(path: str | None) -> str:
    # xmlschema names elements with their namespace; the local names read better.
    if not path:
        return "/alert"
    return "/".join(_local(part) for part in path.split("/"))


def read(body: bytes, schema: Schema) -> Element:
    """The message's element tree, or AlertRejected naming what is wrong with it."""
    try:
        root: Element = fromstring(body, forbid_dtd=True, forbid_entities=True,
                                   forbid_external=True)
    except DefusedXmlException as exc:
        raise AlertRejected(400, "$", f"refused XML: {type(exc).__name__} "
                                      "(no DTD, entities or external references)") from None
    except ParseError as exc:
        raise AlertRejected(400, "$", f"malformed XML: {exc}") from None
    _check_depth(root)
    if root.tag != _T["alert"]:
        namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else "none"
        raise AlertRejected(422, f"/{_local(root.tag)}",
                            f"expected <alert> in namespace {NS}, got <{_local(root.tag)}> in "
                            f"namespace {namespace}")
    error = schema.first_error(body, root)
    if error is not None:
        path, reason = error
        raise AlertRejected(422, _xml_path(path), reason)
    return root


def _text(element: Element, tag: str) -> str | None:
    found = element.find(_T[tag])
    return None if found is None or found.text is None else found.text.strip()


def _time_ms(text: str, path: str) -> int:
    try:
        return int(datetime.fromisoformat(text).timestamp() * 1000)
    except ValueError:  # the schema's pattern already held; only impossible dates get here
        raise AlertRejected(422, path, f"not a date and time: {text[:40]!r}") from None


def alert_id(sender: str, identifier: str, info_number: int) -> str:
    """The alert id of a message's n-th `<info>` (1-based): a retried message dedups."""
    digest = hashlib.sha256(f"{sender}\x1f{identifier}\x1f{info_number}".encode()).hexdigest()
    return "cap-" + digest[:32]


@dataclass(frozen=True, slots=True)
class _Places:
    names: tuple[tuple[str, str], ...]  # must resolve, or be unknown locations
    optional: tuple[tuple[str, str], ...]  # used only when they resolve
    area_ids: tuple[str, ...]
    codes: tuple[str, ...]

    def same_as_key(self) -> tuple[object, ...]:
        """What translations of one <info> share: shapes and codes (else the descriptions)."""
        if self.area_ids or self.codes:
            return (self.area_ids, self.codes)
        return tuple(name for name, _ in self.names)


def _places(info: Element, path: str, index: AreaIndex) -> _Places:
    names: list[tuple[str, str]] = []
    optional: list[tuple[str, str]] = []
    area_ids: dict[str, None] = {}
    codes: list[str] = []
    areas = info.findall(_T["area"])
    if len(areas) > MAX_AREAS:
        raise AlertRejected(422, f"{path}/area", f"more than {MAX_AREAS} areas")
    for a, area in enumerate(areas, 1):
        area_path = f"{path}/area[{a}]"
        found: dict[str, None] = {}
        for kind, query in (("polygon", index.in_polygon), ("circle", index.in_circle)):
            for s, shape in enumerate(area.findall(_T[kind]), 1):
                try:
                    found.update(dict.fromkeys(query(shape.text or "")))
                except ShapeError as exc:
                    raise AlertRejected(422, f"{area_path}/{kind}[{s}]", str(exc)) from None
        area_ids.update(found)
        for g, geocode in enumerate(area.findall(_T["geocode"]), 1):
            value = _text(geocode, "value")
            if value:
                codes.append(value)
                optional.append((value, f"{area_path}/geocode[{g}]/value"))
        description = _text(area, "areaDesc") or ""
        target = optional if found else names
        target.append((description, f"{area_path}/areaDesc"))
    return _Places(tuple(names), tuple(optional), tuple(area_ids), tuple(codes))


@dataclass(frozen=True, slots=True)
class CapMessage:
    identifier: str
    sender: str
    sent: int
    status: str
    msg_type: str
    references: tuple[tuple[str, str, str], ...]
    alerts: tuple[Incoming, ...]


def _references(root: Element, msg_type: str) -> tuple[tuple[str, str, str], ...]:
    text = _text(root, "references") or ""
    refs = []
    for item in text.split():
        parts = item.split(",")
        if len(parts) != 3 or not all(parts):
            raise AlertRejected(422, "/alert/references",
                                f"expected 'sender,identifier,sent' items, got {item[:80]!r}")
        refs.append((parts[0], parts[1], parts[2]))
    if msg_type in ("Update", "Cancel") and not refs:
        raise AlertRejected(422, "/alert/references", f"a {msg_type} must reference the alert")
    return tuple(refs)


def parse(body: bytes, schema: Schema, index: AreaIndex) -> CapMessage:
    """A CAP 1.2 message and the alerts it means (see the module's docstring)."""
    root = read(body, schema)
    identifier = _text(root, "identifier") or ""
    sender = _text(root, "sender") or ""
    sent_text = _text(root, "sent") or ""
    sent = _time_ms(sent_text, "/alert/sent")
    status = _text(root, "status") or ""
    msg_type = _text(root, "msgType") or ""
    references = _references(root, msg_type)
    infos = root.findall(_T["info"])
    if len(infos) > MAX_INFOS:
        raise AlertRejected(422, "/alert/info", f"more than {MAX_INFOS} <info> blocks")
    alerts: list[Incoming] = []
    shown = status in SHOWN_STATUS and msg_type in ("Alert", "Update", "Cancel")
    if shown and msg_type == "Cancel" and not infos:
        raise AlertRejected(422, "/alert/info", "a Cancel must repeat the areas it closes "
                                                "(<info><area>): alertflow keeps no past messages")
    seen_translations: set[tuple[object, ...]] = set()
    for i, info in enumerate(infos if shown else (), 1):
        path = f"/alert/info[{i}]"
        event = _text(info, "event") or ""
        start_text = _text(info, "onset") or _text(info, "effective")
        start = _time_ms(start_text, f"{path}/onset") if start_text else sent
        expires_text = _text(info, "expires")
        end = _time_ms(expires_text, f"{path}/expires") if expires_text else None
        if end is not None and end <= start:
            raise AlertRejected(422, f"{path}/expires", "is not after the start (onset/effective)")
        duration = min(MAX_DURATION_S, -(-(end - start) // 1000)) if end else DEFAULT_DURATION_S
        places = _places(info, path, index)
        if not (places.names or places.area_ids or places.optional):
            raise AlertRejected(422, f"{path}/area", "names no area")
        # Several <info> in different languages describing the same areas and times are one
        # alert told in several languages, not several alerts.
        same = (start, end, places.same_as_key())
        if same in seen_translations:
            continue
        seen_translations.add(same)
        categories = [c.text or "" for c in info.findall(_T["category"])]
        category = category_of_cap(event, categories)
        if status == "Exercise":
            category = "drill"
        instructions = _text(info, "instruction")
        alert = Incoming(
            id=alert_id(sender, identifier, i), kind="alert", type=event,
            category=category, issued_at=start, duration_s=duration, path=path,
            names=places.names, optional_names=places.optional, area_ids=places.area_ids,
            title=_text(info, "headline"),
            instructions=instructions[:MAX_INSTRUCTIONS] if instructions else None,
        )
        if msg_type != "Cancel":
            alerts.append(alert)
        if msg_type in ("Update", "Cancel"):
            # Closes what was issued before the update started (the update itself stays: it
            # is enqueued first, so the window carries on instead of closing and reopening),
            # or everything up to when the Cancel was sent.
            alerts.append(replace(alert, id=alert.id + "-cancel", kind="cancel",
                                  category="all_clear", duration_s=0,
                                  issued_at=start - 1 if msg_type == "Update" else sent))
    return CapMessage(identifier, sender, sent, status, msg_type, references, tuple(alerts))
