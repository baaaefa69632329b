"""The national feed's two shapes built from alertflow's own state, for its existing consumers.

`realtime(incidents)`: `Alerts.json` — the newest active alert as the feed shows one: its title
and category number, every area open under that same title and category (Hebrew names: the
catalog's ids), or an empty body when nothing is active. `history(events)`:
`AlertsHistory.json` — every `open` (one entry per area and alert, as the feed lists them) and
every window an all-clear ended (the feed's "… - האירוע הסתיים" entry, which its consumers use
to end an alert), newest first, never an alert recorded as `superseded` (an all-clear had ended
it before it arrived: the feed's consumers would take its entry for a new alert), with
`alertDate` in Israel local time. Category numbers come from hfc.py's tables. Each window is
one hazard of one area (domain/hazards.py), so the feed's "event ended" for an area lists
only the windows it ended.

Plain UTF-8 JSON without a BOM (RFC 8259): consumers of the real feed strip the BOM its realtime
file carries, and every JSON parser reads a body without one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from alertflow.domain.categories import category_of
from alertflow.domain.hfc import ISRAEL, history_number, realtime_number


def _title(item: dict[str, Any]) -> str:
    return str(item.get("title") or item.get("type") or "")


def _when(item: dict[str, Any]) -> int:
    return int(item.get("issued_at") or item.get("started_at") or 0)


def _dumps(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def realtime(incidents: Iterable[dict[str, Any]]) -> bytes:
    live = [i for i in incidents if not i.get("late")]
    if not live:
        return b""
    newest = max(live, key=lambda i: (_when(i), i["location"]))
    group = [i for i in live if i["category"] == newest["category"]
             and _title(i) == _title(newest)]
    return _dumps({
        # The feed's ids are numbers that grow with each alert; consumers use them to notice
        # a new one. The group's newest alert time (ms) grows as areas join it.
        "id": str(max(_when(i) for i in group)),
        "cat": str(realtime_number(newest["category"])),
        "title": _title(newest),
        "data": sorted({i["location"] for i in group}),
        "desc": str(newest.get("instructions") or ""),
    })


def alert_date(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, ISRAEL).strftime("%Y-%m-%d %H:%M:%S")


ENDED_SUFFIX = " - האירוע הסתיים"  # how the feed titles the end of an event


def _entry(event: dict[str, Any]) -> dict[str, Any] | None:
    if event.get("superseded"):
        return None  # ended before it arrived: the feed's consumers would read it as an alert
    if event["kind"] == "open":
        return {"alertDate": alert_date(_when(event)), "title": _title(event),
                "data": event["location"], "category": history_number(event["category"])}
    if event.get("reason") != "cancelled":
        return None  # a window that simply expired: the feed lists nothing
    title = str(event.get("title") or "")
    if category_of(title) != "all_clear":
        title = str(event.get("type") or "") + ENDED_SUFFIX
    ended = int(event.get("issued_at") or event["ends_at"])
    return {"alertDate": alert_date(ended), "title": title, "data": event["location"],
            "category": history_number("all_clear")}


def history(events: Iterable[dict[str, Any]]) -> bytes:
    """`events` oldest first, as the stream gives them."""
    entries = [entry for entry in map(_entry, events) if entry is not None]
    return _dumps(entries[::-1])
