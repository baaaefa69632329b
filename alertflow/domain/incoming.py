"""An alert as a foreign format (the national feed, CAP) describes it, before the shared rules.

The format parsers (`domain/hfc.py`, `domain/cap.py`) turn their bodies into `Incoming` alerts;
the listener then applies the same rules as to its own JSON (the clock window, name resolution,
strict locations) to make queue messages. Keeping this step separate lets each parser stay
pure and lets one module own the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from alertflow.domain.alert import (
    MAX_NAME,
    Alert,
    AlertRejected,
    IngestRules,
    Placed,
    place_names,
)
from alertflow.domain.alert import _check_issued_at as check_issued_at
from alertflow.domain.alert import _check_text as check_text
from alertflow.domain.categories import Category
from alertflow.domain.locations import Catalog


@dataclass(frozen=True, slots=True)
class Incoming:
    """One alert of a foreign format. `path` says where in the body it came from (for errors)."""

    id: str
    kind: Literal["alert", "cancel"]
    type: str
    category: Category
    issued_at: int  # epoch ms
    duration_s: int
    path: str
    # Place names as the source wrote them, each with its own path in the body.
    names: tuple[tuple[str, str], ...] = ()
    # Names used only when they resolve: a CAP <areaDesc> beside shapes, <geocode> values.
    optional_names: tuple[tuple[str, str], ...] = ()
    # Catalog area ids already found by geometry (CAP polygons and circles).
    area_ids: tuple[str, ...] = ()
    title: str | None = None
    instructions: str | None = None
    # The message it came from, and the messages it supersedes (see `Alert`).
    group: str | None = None
    supersedes: tuple[str, ...] = ()


def _place(alert: Incoming, catalog: Catalog, rules: IngestRules) -> Placed:
    """Areas found by shapes, then by names (one area, a city's areas, a zone's…), through the
    same resolution as alertflow's own JSON; optional names count only when they resolve."""
    placed = Placed()
    for area_id in alert.area_ids:
        placed.add(area_id, area_id)
    for name, path in alert.names:
        found = place_names(path, [name], catalog, rules, single=True)
        for location in found.locations:
            placed.add(location, found.source_names.get(location, location))
        for listed, more in ((placed.unknown, found.unknown),
                             (placed.ambiguous, found.ambiguous)):
            listed.extend(item for item in more if item not in listed)
    for name, _path in alert.optional_names:
        resolution = catalog.resolve_name(" ".join(name.split()))
        for area_id in resolution.areas:
            placed.add(area_id, name)
    return placed


def to_alert(alert: Incoming, *, source: str, now_ms: int, catalog: Catalog,
             rules: IngestRules) -> Alert:
    """The queue message for one foreign alert, under the same rules as alertflow's own JSON."""
    check_text(f"{alert.path}/type" if alert.path.startswith("/") else alert.path, alert.type)
    if len(alert.type) > MAX_NAME:
        raise AlertRejected(422, alert.path, f"type longer than {MAX_NAME} characters")
    check_issued_at(alert.path, alert.issued_at, now_ms, rules)
    # A title is one line wherever it is shown: a CAP headline's line breaks and tabs are
    # spaces; any other control character is refused, as in alertflow's own JSON.
    title = " ".join(alert.title.split())[:MAX_NAME] if alert.title else None
    check_text(alert.path, title)
    placed = _place(alert, catalog, rules)
    # A cancel of earlier messages closes what they opened, wherever that was.
    if not placed.locations and not (alert.kind == "cancel" and alert.supersedes):
        raise AlertRejected(422, alert.path, "names no area: no catalog area lies inside its "
                                             "shapes and none of its names or codes is known")
    return Alert(
        id=alert.id, kind=alert.kind, type=alert.type, locations=placed.locations,
        issued_at=alert.issued_at, duration_s=alert.duration_s, received_at=now_ms,
        source=source, title=title or None,
        instructions=alert.instructions, unknown_locations=placed.unknown,
        ambiguous_locations=placed.ambiguous, source_names=placed.source_names,
        category=alert.category, group=alert.group, supersedes=list(alert.supersedes),
    )


def to_alerts(alerts: list[Incoming], *, source: str, now_ms: int, catalog: Catalog,
              rules: IngestRules) -> list[Alert]:
    if len(alerts) > rules.max_alerts:
        raise AlertRejected(422, "$", f"{len(alerts)} alerts exceed the limit of "
                                      f"{rules.max_alerts} per request")
    return [to_alert(alert, source=source, now_ms=now_ms, catalog=catalog, rules=rules)
            for alert in alerts]
