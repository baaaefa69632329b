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


def _place(alert: Incoming, catalog: Catalog, rules: IngestRules) -> tuple[list[str], list[str]]:
    """Area ids (shapes first, then names) and the names no area matched."""
    locations = list(dict.fromkeys(alert.area_ids))
    unknown: list[str] = []
    for name, path in alert.names:
        check_text(path, name)
        found = catalog.resolve(name)
        if found is None:
            if rules.strict_locations:
                raise AlertRejected(422, path, f"unknown location {name!r}")
            if name not in unknown:
                unknown.append(name)
            found = name
        if found not in locations:
            locations.append(found)
    for name, _path in alert.optional_names:
        found = catalog.resolve(name)
        if found is not None and found not in locations:
            locations.append(found)
    return locations, unknown


def to_alert(alert: Incoming, *, source: str, now_ms: int, catalog: Catalog,
             rules: IngestRules) -> Alert:
    """The queue message for one foreign alert, under the same rules as alertflow's own JSON."""
    check_text(f"{alert.path}/type" if alert.path.startswith("/") else alert.path, alert.type)
    if len(alert.type) > MAX_NAME:
        raise AlertRejected(422, alert.path, f"type longer than {MAX_NAME} characters")
    check_issued_at(alert.path, alert.issued_at, now_ms, rules)
    locations, unknown = _place(alert, catalog, rules)
    if not locations:
        raise AlertRejected(422, alert.path, "names no area: no catalog area lies inside its "
                                             "shapes and none of its names or codes is known")
    return Alert(
        id=alert.id, kind=alert.kind, type=alert.type, locations=locations,
        issued_at=alert.issued_at, duration_s=alert.duration_s, received_at=now_ms,
        source=source, title=alert.title[:MAX_NAME] if alert.title else None,
        instructions=alert.instructions, unknown_locations=unknown, category=alert.category,
    )


def to_alerts(alerts: list[Incoming], *, source: str, now_ms: int, catalog: Catalog,
              rules: IngestRules) -> list[Alert]:
    if len(alerts) > rules.max_alerts:
        raise AlertRejected(422, "$", f"{len(alerts)} alerts exceed the limit of "
                                      f"{rules.max_alerts} per request")
    return [to_alert(alert, source=source, now_ms=now_ms, catalog=catalog, rules=rules)
            for alert in alerts]
