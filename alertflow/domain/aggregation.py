"""The aggregation rules: alerts per location become incidents (alert windows) and events.

This is the reference the Redis Lua scripts implement (`alertflow/backends/lua/*.lua`) and
the in-memory state store runs directly; the property tests hold both to it.

Per location and hazard (`hazards.py`: which categories share a window), an incident is the
set of live alerts for it: two hazards in one area are two windows, each with its own guidance
(category), countdown and end. An alert opens the incident or
extends it (`started_at` = min issued, `ends_at` = max of issued + duration), and yields one
`open` event per location; one processed after its window ended (`late`) opens and closes a
window of its own at once, both events marked `late`. The window shows one of its alerts
(`shown`): the last issued real alert, or the last early warning while it holds nothing else, so
an early warning opens an `early_warning` window and a real alert for the area turns it into an
alert window; events and snapshots carry the window's `category` and `hazard`. A `cancel`
issued at T by source S ends the hazards it refers to (`hazards.hazards_ended`) in the areas it
names: it clears every alert of those hazards that S issued at or before T; an incident left
empty closes now (`reason: cancelled`); an alert of those hazards issued by S at or before T
that arrives after the cancel is superseded. Alerts of other sources and other hazards are not
touched: whichever comes first, they are shown.
Incidents whose `ends_at` has passed close with `reason: expired`. Alerts can also be ended by
the message they came from (`group`): a cancel that `supersedes` a group removes that group's
alerts wherever they are, closing the windows it leaves empty (`reason: cancelled`), and later
alerts of that group are superseded. A superseded alert is still recorded (nothing accepted
is invisible): per location, an `open` immediately followed by its `close`, both `superseded`
and `late`, in a window of its own, as a late alert is. An alert that supersedes a group takes
its place in the windows it joins, which carry on (a replacing message sends its alerts, then
a cancel of the same groups for the windows none of them joined). Duplicates (the same alert id
again) change nothing. So the final incidents do not depend on the order in which concurrent
processors apply the messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

import msgspec

from alertflow.domain.alert import Alert
from alertflow.domain.hazards import Hazard, hazard_of, hazards_ended
from alertflow.domain.locations import Area, Catalog

Outcome = Literal["new", "late", "duplicate", "superseded", "cancel"]


class _Window(msgspec.Struct):
    """An area's window as events and snapshots describe it (docs/protocol.md)."""

    location: str
    known: bool
    names: dict[str, str] | None
    zone: str | None
    zone_names: dict[str, str] | None
    shelter_seconds: int | None
    type: str | None
    category: str
    hazard: str
    source_name: str | None
    title: str | None
    instructions: str | None
    alert_id: str | None
    incident_id: str
    started_at: int
    ends_at: int
    alert_count: int
    issued_at: int | None
    received_at: int | None
    source: str | None


class Event(_Window, omit_defaults=True):
    """A client-facing event. `seq` is its place in the stream. `late` (only present when
    true): an alert processed after its window had ended, shown as an open and its close.
    `superseded` (only present when true, and then `late` is true too, so that clients which
    know only `late` show it as history): an alert an all-clear or a Cancel had already ended
    when it arrived."""

    seq: int
    kind: Literal["open", "close"]
    reason: Literal["alert", "expired", "cancelled"]
    late: bool = False
    superseded: bool = False


class IncidentView(_Window):
    """An open incident as a snapshot shows it."""

    types: list[str]


@dataclass(frozen=True, slots=True)
class LocationInfo:
    """What the catalog says of a location, copied into every event about it."""

    known: bool
    names: dict[str, str] | None = None
    zone: str | None = None
    zone_names: dict[str, str] | None = None
    shelter_seconds: int | None = None

    @classmethod
    def of(cls, area: Area | None) -> LocationInfo:
        if area is None:
            return cls(known=False)
        return cls(
            known=True,
            names=dict(area.names),
            zone=area.zone,
            zone_names=dict(area.zone_names),
            shelter_seconds=area.shelter_seconds,
        )


def location_info(catalog: Catalog, location: str) -> LocationInfo:
    return LocationInfo.of(catalog.get(location))


def shown(alerts: Iterable[Alert]) -> Alert:
    """The alert an incident shows: the last issued real alert, else the last early warning.

    Ties are broken by id, so the order in which alerts arrive never matters.
    """
    return max(alerts, key=lambda alert: (alert.category != "early_warning", alert.issued_at,
                                          alert.id))


def source_name(alert: Alert, location: str) -> str:
    """The name the source wrote for `location` (its id when the source used the id)."""
    return alert.source_names.get(location, location)


@dataclass(slots=True)
class Incident:
    incident_id: str
    location: str
    hazard: Hazard
    info: LocationInfo
    alerts: dict[str, Alert] = field(default_factory=dict)

    @property
    def started_at(self) -> int:
        return min(alert.issued_at for alert in self.alerts.values())

    @property
    def ends_at(self) -> int:
        return max(alert.ends_at for alert in self.alerts.values())

    def view(self) -> IncidentView:
        last = shown(self.alerts.values())
        return IncidentView(
            incident_id=self.incident_id,
            location=self.location,
            known=self.info.known,
            names=self.info.names,
            zone=self.info.zone,
            zone_names=self.info.zone_names,
            shelter_seconds=self.info.shelter_seconds,
            type=last.type,
            category=last.category,
            hazard=self.hazard,
            source_name=source_name(last, self.location),
            types=sorted({alert.type for alert in self.alerts.values()}),
            title=last.title,
            instructions=last.instructions,
            alert_id=last.id,
            started_at=self.started_at,
            ends_at=self.ends_at,
            alert_count=len(self.alerts),
            issued_at=last.issued_at,
            received_at=last.received_at,
            source=last.source,
        )


def _event(
    incident: Incident,
    kind: Literal["open", "close"],
    reason: Literal["alert", "expired", "cancelled"],
    cause: Alert | None,
    *,
    started_at: int,
    ends_at: int,
    alert_count: int,
    window: Alert,
    late: bool = False,
    superseded: bool = False,
) -> Event:
    """`window`: the alert the window shows after this event; it gives the category."""
    info = incident.info
    # An open shows the alert that caused it; a close shows the window as it was.
    opening = cause is not None and kind == "open"
    return Event(
        seq=0,
        kind=kind,
        reason=reason,
        late=late,
        superseded=superseded,
        location=incident.location,
        known=info.known,
        names=info.names,
        zone=info.zone,
        zone_names=info.zone_names,
        shelter_seconds=info.shelter_seconds,
        type=cause.type if cause is not None and opening else window.type,
        category=window.category,
        hazard=incident.hazard,
        source_name=source_name(cause if cause is not None and opening else window,
                                incident.location),
        title=cause.title if cause else None,
        instructions=cause.instructions if cause else None,
        alert_id=cause.id if cause else None,
        incident_id=incident.incident_id,
        started_at=started_at,
        ends_at=ends_at,
        alert_count=alert_count,
        issued_at=cause.issued_at if cause else None,
        received_at=cause.received_at if cause else None,
        source=cause.source if cause else None,
    )


def close_event(incident: Incident, reason: Literal["expired", "cancelled"],
                cause: Alert | None, *, started_at: int, ends_at: int, alert_count: int,
                window: Alert, late: bool = False, superseded: bool = False) -> Event:
    return _event(incident, "close", reason, cause, started_at=started_at, ends_at=ends_at,
                  alert_count=alert_count, window=window, late=late, superseded=superseded)


def late_events(alert: Alert, location: str, info: LocationInfo, incident_id: str,
                *, superseded: bool = False) -> list[Event]:
    """An alert whose window ended before it was processed: its own window, shown as an open
    immediately followed by its close, both `late` (history, not an active alert). It joins
    no incident: nothing is live any more. A `superseded` alert (one an all-clear or a Cancel
    had ended before it arrived) is recorded the same way, its close `cancelled`."""
    window = Incident(incident_id, location, hazard_of(alert.category), info,
                      {alert.id: alert})
    return [
        _event(window, "open", "alert", alert, started_at=alert.issued_at,
               ends_at=alert.ends_at, alert_count=1, window=alert, late=True,
               superseded=superseded),
        close_event(window, "cancelled" if superseded else "expired", None,
                    started_at=alert.issued_at, ends_at=alert.ends_at, alert_count=1,
                    window=alert, late=True, superseded=superseded),
    ]


def _ended_by(cancel: Alert, through: int) -> Callable[[Alert], bool]:
    """The alerts an all-clear by `cancel.source` through `through` ends in a window of a
    hazard it refers to: its own source's, issued at or before it."""
    return lambda alert: alert.source == cancel.source and alert.issued_at <= through


WindowKey = tuple[Hazard, str]  # (hazard, location): ordered as the scripts order "hazard:loc"


@dataclass(slots=True)
class AggregationState:
    """Everything the rules remember: seen ids, all-clears per (location, hazard, source),
    superseded groups, open incidents per (hazard, location).

    `next_seq` numbers events as the stream will; incident ids are the seq of their first open.
    """

    seen: set[str] = field(default_factory=set)
    cancelled_through: dict[tuple[str, Hazard, str], int] = field(default_factory=dict)
    superseded_groups: set[str] = field(default_factory=set)
    incidents: dict[WindowKey, Incident] = field(default_factory=dict)
    last_seq: int = 0

    def _number(self, events: list[Event]) -> list[Event]:
        for event in events:
            self.last_seq += 1
            event.seq = self.last_seq
        return events

    def _next_id(self, events: list[Event]) -> str:
        return str(self.last_seq + len(events) + 1)

    def apply(self, alert: Alert, now_ms: int, catalog: Catalog) -> tuple[Outcome, list[Event]]:
        if alert.id in self.seen:
            return "duplicate", []
        self.seen.add(alert.id)
        if alert.kind == "cancel":
            return "cancel", self._number(self._end_groups(alert) + self._cancel(alert, catalog))
        hazard = hazard_of(alert.category)
        events: list[Event] = []
        if alert.group is not None and alert.group in self.superseded_groups:
            # A message a later one replaced or cancelled: recorded, never shown as live.
            for location in alert.locations:
                events += late_events(alert, location, location_info(catalog, location),
                                      self._next_id(events), superseded=True)
            return "superseded", self._number(events)
        # The groups it replaces leave the windows it joins quietly (they carry on with it);
        # elsewhere the replacing message's cancel ends them.
        self.superseded_groups.update(alert.supersedes)
        late = alert.ends_at <= now_ms  # processed after its window ended (a stall upstream)
        shown_any = False
        for location in alert.locations:
            through = self.cancelled_through.get((location, hazard, alert.source), -1)
            if alert.issued_at <= through:
                # An all-clear of its hazard by its own source, issued after it, already ended
                # its window: recorded as superseded, not shown as live.
                events += late_events(alert, location, location_info(catalog, location),
                                      self._next_id(events), superseded=True)
                continue
            shown_any = True
            if late:
                events += late_events(alert, location, location_info(catalog, location),
                                      self._next_id(events))
                continue
            incident = self.incidents.get((hazard, location))
            if incident is None:
                incident = Incident(
                    incident_id=self._next_id(events),
                    location=location,
                    hazard=hazard,
                    info=location_info(catalog, location),
                )
                self.incidents[(hazard, location)] = incident
            if alert.supersedes:
                incident.alerts = {key: kept for key, kept in incident.alerts.items()
                                   if kept.group not in alert.supersedes}
            incident.alerts[alert.id] = alert
            events.append(
                _event(incident, "open", "alert", alert, started_at=incident.started_at,
                       ends_at=incident.ends_at, alert_count=len(incident.alerts),
                       window=shown(incident.alerts.values()))
            )
        if not shown_any:
            return "superseded", self._number(events)
        return ("late" if late else "new"), self._number(events)

    def _end_groups(self, cause: Alert) -> list[Event]:
        """Remove the alerts of the groups the cancel `cause` supersedes from every window; a
        window left empty closes now. Later alerts of those groups are superseded."""
        groups = set(cause.supersedes)
        if not groups:
            return []
        self.superseded_groups |= groups
        events: list[Event] = []
        for key in sorted(self.incidents):
            events += self._remove(key, cause, lambda alert: alert.group in groups)
        return events

    def _cancel(self, cancel: Alert, catalog: Catalog) -> list[Event]:
        events: list[Event] = []
        hazards = hazards_ended(cancel.category, cancel.type)
        for location in cancel.locations:
            for hazard in hazards:
                key = (location, hazard, cancel.source)
                through = max(self.cancelled_through.get(key, -1), cancel.issued_at)
                self.cancelled_through[key] = through
                events += self._remove((hazard, location), cancel,
                                       _ended_by(cancel, through))
        return events

    def _remove(self, key: WindowKey, cause: Alert, ended: Callable[[Alert], bool]
                ) -> list[Event]:
        """Remove the `ended` alerts from the window `key`: it carries on with the others,
        or, when none is left, closes now (at `cause`, not at its planned end)."""
        incident = self.incidents.get(key)
        if incident is None or not any(ended(alert) for alert in incident.alerts.values()):
            return []
        started_at, ends_at, count = incident.started_at, incident.ends_at, len(incident.alerts)
        window = shown(incident.alerts.values())
        incident.alerts = {alert_id: alert for alert_id, alert in incident.alerts.items()
                           if not ended(alert)}
        if incident.alerts:
            return []
        del self.incidents[key]
        return [close_event(incident, "cancelled", cause, started_at=started_at,
                            ends_at=min(ends_at, cause.issued_at), alert_count=count,
                            window=window)]

    def sweep(self, now_ms: int) -> list[Event]:
        """Close every incident whose window has ended by `now_ms`, in `ends_at` order (ties:
        by hazard, then location, as the scripts' sorted set orders "hazard:location")."""
        ended = sorted(
            ((key, incident) for key, incident in self.incidents.items()
             if incident.ends_at <= now_ms),
            key=lambda item: (item[1].ends_at, item[0]),
        )
        events = []
        for key, incident in ended:
            del self.incidents[key]
            events.append(
                close_event(incident, "expired", None, started_at=incident.started_at,
                            ends_at=incident.ends_at, alert_count=len(incident.alerts),
                            window=shown(incident.alerts.values()))
            )
        return self._number(events)

    def snapshot(self) -> list[IncidentView]:
        return [incident.view() for incident in self.incidents.values()]
