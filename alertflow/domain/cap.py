"""OASIS CAP 1.2 messages in: parsed safely, validated against the schema, turned into alerts.

Hostile XML never gets far: defusedxml refuses any DTD (so no entity, no billion laughs, no
external reference), the element tree is checked for depth before anything walks it, and the
OASIS schema decides what a valid message is (`Schema`, given by the caller: this module
imports no validator), every error naming the element.

What a message means here:
- `Alert`: each `<info>` is an alert: `<event>` its type, `<event>` + `<category>` its category,
  `<onset>` (or `<effective>`, or `<sent>`) its start and `<expires>` its end.
- Every alert of a message belongs to the message (`group`, from its sender and identifier),
  and `<references>` (`sender,identifier,sent` items) name the messages it supersedes.
- `Update`: replaces the referenced messages: its alerts take their place in the windows they
  cover (which carry on), then its cancel closes what the referenced messages opened elsewhere.
  An Update without `<info>` replaces them with nothing: it cancels them.
- `Cancel`: closes what the referenced messages opened, wherever that was (the processor
  remembers where each message's alerts are); its `<info>`, if any, describes the cancel.
  Alerts of a superseded message that arrive later show nothing.
- `Ack`/`Error` and `status` other than `Actual`/`Exercise` show nothing (`Exercise` is a drill).
Each `<area>` gives locations from `<polygon>`/`<circle>` (every catalog area whose outline the
polygon intersects or the circle comes within: `alertflow.domain.geo`), `<geocode>` values and
`<areaDesc>`; a description that names no area counts only when the shapes and codes found none.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
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
# Polygons and circles in one <info>: a country needs a handful; each large circle costs
# milliseconds of CPU, so a message of thousands would stall a listener.
MAX_SHAPES: Final = 100
DEFAULT_DURATION_S: Final = 600  # a message without <expires> still ends its window
MAX_DURATION_S: Final = 86_400
MAX_INSTRUCTIONS: Final = 2_000
MAX_REFERENCES: Final = 64
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


def message_group(sender: str, identifier: str) -> str:
    """The group of a message's alerts, as later messages reference it. `sent` is not part of
    it: CAP makes an identifier unique per sender."""
    digest = hashlib.sha256(f"{sender}\x1f{identifier}".encode()).hexdigest()
    return "cap-msg-" + digest[:32]


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
    shapes = sum(len(area.findall(_T[kind])) for area in areas for kind in ("polygon", "circle"))
    if shapes > MAX_SHAPES:
        raise AlertRejected(422, f"{path}/area", f"{shapes} polygons and circles: more than "
                                                  f"{MAX_SHAPES} in one <info>")
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
    if len(refs) > MAX_REFERENCES:
        raise AlertRejected(422, "/alert/references", f"more than {MAX_REFERENCES} references")
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
    group = message_group(sender, identifier)
    # An Alert's references only relate it to other messages; an Update's or a Cancel's are
    # what it supersedes.
    supersedes = tuple(dict.fromkeys(
        message_group(ref_sender, ref_identifier)
        for ref_sender, ref_identifier, _ in references)) if msg_type != "Alert" else ()
    if group in supersedes:
        raise AlertRejected(422, "/alert/references", "a message cannot reference itself")
    infos = root.findall(_T["info"])
    if len(infos) > MAX_INFOS:
        raise AlertRejected(422, "/alert/info", f"more than {MAX_INFOS} <info> blocks")
    shown = status in SHOWN_STATUS and msg_type in ("Alert", "Update", "Cancel")
    if not shown:
        return CapMessage(identifier, sender, sent, status, msg_type, references, ())
    if msg_type == "Cancel" or (msg_type == "Update" and not infos):
        return CapMessage(identifier, sender, sent, status, msg_type, references,
                          (_cancel(root, alert_id(sender, identifier, 0), group, sent,
                                   supersedes),))
    alerts: list[Incoming] = []
    seen_translations: set[tuple[object, ...]] = set()
    for i, info in enumerate(infos, 1):
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
        alerts.append(Incoming(
            id=alert_id(sender, identifier, i), kind="alert", type=event,
            category=category, issued_at=start, duration_s=duration, path=path,
            names=places.names, optional_names=places.optional, area_ids=places.area_ids,
            title=_text(info, "headline"),
            instructions=instructions[:MAX_INSTRUCTIONS] if instructions else None,
            group=group, supersedes=supersedes,
        ))
    if msg_type == "Update":
        # After its alerts, which take the old message's place in the windows they join: the
        # end of what none of them took over (queued last, so no window it carries on closes).
        alerts.append(_cancel(root, alert_id(sender, identifier, 0), group, sent, supersedes))
    return CapMessage(identifier, sender, sent, status, msg_type, references, tuple(alerts))


def _cancel(root: Element, cancel_id: str, group: str, sent: int,
            supersedes: tuple[str, ...]) -> Incoming:
    """A Cancel, or the end of an Update: closes what the referenced messages opened (and an
    Update's alerts did not take over), as of when it was sent. Its first `<info>`, if any,
    gives its headline and instructions."""
    info = root.find(_T["info"])
    event = _text(info, "event") if info is not None else None
    instructions = _text(info, "instruction") if info is not None else None
    return Incoming(
        id=cancel_id, kind="cancel", type=event or "Cancel",
        category="all_clear", issued_at=sent, duration_s=0, path="/alert",
        title=_text(info, "headline") if info is not None else None,
        instructions=instructions[:MAX_INSTRUCTIONS] if instructions else None,
        group=group, supersedes=supersedes,
    )
