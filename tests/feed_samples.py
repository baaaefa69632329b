"""Payloads shaped like the national feed's and CAP 1.2 messages, shared by the feed tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

EARLY_WARNING_TITLE = "בדקות הקרובות צפויות להתקבל התרעות באזורך"
HISTORY_EARLY_WARNING_TITLE = "בדקות הקרובות צפויות להתקבל התרעות באיזורים הבאים:"
MISSILES_TITLE = "ירי רקטות וטילים"
ENDED_TITLE = "ירי רקטות וטילים - האירוע הסתיים"
ISRAEL = ZoneInfo("Asia/Jerusalem")


def realtime(feed_id: str, cat: str, title: str, areas: list[str], desc: str = "") -> bytes:
    """`Alerts.json` as the feed serves it: UTF-8 with a BOM, Hebrew unescaped."""
    body = {"id": feed_id, "cat": cat, "title": title, "data": areas, "desc": desc}
    return "\ufeff".encode() + json.dumps(body, ensure_ascii=False).encode()


def history(entries: list[tuple[datetime, str, str, int]]) -> bytes:
    """`AlertsHistory.json`: newest first, local Israel time without an offset."""
    return json.dumps([
        {"alertDate": when.astimezone(ISRAEL).strftime("%Y-%m-%d %H:%M:%S"), "title": title,
         "data": area, "category": category}
        for when, title, area, category in entries
    ], ensure_ascii=False).encode()


def cap_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def cap_message(
    identifier: str, *, sent: datetime, msg_type: str = "Alert", event: str = "Rocket Alert",
    polygon: str | None = None, circle: str | None = None, area_desc: str = "Area",
    expires: datetime | None = None, references: str | None = None,
    status: str = "Actual", category: str = "Security", extra_area: str = "",
    with_info: bool = True,
) -> bytes:
    """A CAP 1.2 message from alerts@example.org; `with_info=False` leaves out its <info>
    (as a Cancel may)."""
    refs = f"<references>{references}</references>" if references else ""
    shape = (f"<polygon>{polygon}</polygon>" if polygon else "") + (
        f"<circle>{circle}</circle>" if circle else "")
    end = f"<expires>{cap_time(expires)}</expires>" if expires else ""
    header = f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>alerts@example.org</sender>
  <sent>{cap_time(sent)}</sent>
  <status>{status}</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>{refs}
"""
    if not with_info:
        return (header + "</alert>").encode()
    return header.encode() + f"""  <info>
    <category>{category}</category>
    <event>{event}</event>
    <urgency>Immediate</urgency>
    <severity>Extreme</severity>
    <certainty>Observed</certainty>
    <onset>{cap_time(sent)}</onset>{end}
    <headline>{event}</headline>
    <instruction>Enter the protected space</instruction>
    <area><areaDesc>{area_desc}</areaDesc>{shape}{extra_area}</area>
  </info>
</alert>""".encode()


# Over Sderot ("Sderot, Ibim", its point at 31.5313, 34.5985), meeting no other outline,
# and a box (31.630…31.675, 34.550…34.600) whose outlines are Ashkelon's south and north, its
# two industrial zones, Bat Hadar and Geya.
SDEROT_POLYGON = "31.525,34.600 31.545,34.600 31.545,34.620 31.525,34.620 31.525,34.600"
ASHKELON_POLYGON = "31.630,34.550 31.675,34.550 31.675,34.600 31.630,34.600 31.630,34.550"
SDEROT = "שדרות, איבים"
ASHKELON = ["אזור תעשייה הדרומי אשקלון", "אזור תעשייה צפוני אשקלון", "אשקלון - דרום",
            "אשקלון - צפון", "בת הדר", "גיאה"]
