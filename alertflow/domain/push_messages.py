"""What a background phone is told: which events wake it, and one payload per subscriber.

Pure. The push role turns each batch of stream events into at most one message per subscriber
(a barrage that opens many of their areas at once is one notification, not forty), each carrying
what the service worker needs to write it in the subscriber's language.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

OPEN, EARLY_WARNING, ALL_CLEAR = "open", "early_warning", "all_clear"
ALL_CLEAR_TTL_S = 15 * 60  # an all-clear stays worth delivering for a while after the window
MAX_ITEMS = 25  # keeps the encrypted payload under the 4 KiB push services accept
MAX_PAYLOAD_BYTES = 3800


def phase(event: Mapping[str, Any]) -> str | None:
    """The notice an event is worth to a background phone, or None (it does not wake one).

    An alert's window opening (or an early warning) and an all-clear wake the phone; a window
    that simply ran out does not, nor does a late event (history, not a warning; a
    `superseded` one is always `late` too).
    """
    if event.get("late"):
        return None
    category = event.get("category")
    if event.get("kind") == "open":
        if category == ALL_CLEAR:
            return ALL_CLEAR
        return EARLY_WARNING if category == EARLY_WARNING else OPEN
    if event.get("kind") == "close" and event.get("reason") == "cancelled":
        return ALL_CLEAR
    return None


def claim_suffix(event: Mapping[str, Any]) -> str | None:
    """`incident:phase`: a subscriber hears each notice about an incident once."""
    notice = phase(event)
    if notice is None or event.get("incident_id") is None:
        return None
    return f"{event['incident_id']}:{notice}"


@dataclass(frozen=True, slots=True)
class Notice:
    claim: str  # incident:phase
    phase: str
    event: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Message:
    payload: bytes  # JSON, before encryption
    ttl_s: int
    topic: str  # RFC 8030 §5.4: a resend of the same message replaces an undelivered one
    claims: tuple[str, ...]


def _item(notice: Notice, lang: str) -> dict[str, Any]:
    event = notice.event
    names = event.get("names") or {}
    zone_names = event.get("zone_names") or {}
    location = str(event.get("location"))
    return {
        "phase": notice.phase,
        "incident_id": event.get("incident_id"),
        "location": location,
        "name": names.get(lang) or names.get("he") or location,
        "zone": zone_names.get(lang) or event.get("zone"),
        "category": event.get("category"),
        "hazard": event.get("hazard"),
        "type": event.get("type"),
        "shelter_seconds": event.get("shelter_seconds"),
        "started_at": event.get("started_at"),
        "ends_at": event.get("ends_at"),
    }


def build_message(notices: Iterable[Notice], lang: str, now_ms: int) -> Message | None:
    """One message for one subscriber, or None when nothing is still worth waking them for."""
    live = [n for n in notices
            if n.phase == ALL_CLEAR or int(n.event.get("ends_at") or 0) > now_ms]
    if not live:
        return None
    live.sort(key=lambda n: (n.phase != OPEN, int(n.event.get("shelter_seconds") or 10**6),
                             str(n.event.get("incident_id"))))
    ttl = max(ALL_CLEAR_TTL_S if n.phase == ALL_CLEAR
              else (int(n.event["ends_at"]) - now_ms + 999) // 1000 for n in live)
    claims = tuple(sorted(n.claim for n in live))
    # The notification's tag: the same incident's later notice (its all-clear) replaces it.
    incident = min(str(n.event.get("incident_id")) for n in live)
    items = [_item(n, lang) for n in live[:MAX_ITEMS]]
    body: dict[str, Any] = {"v": 1, "lang": lang, "tag": f"alertflow-{incident}",
                            "sent_at": now_ms, "items": items, "more": len(live) - len(items)}
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    while len(payload) > MAX_PAYLOAD_BYTES and len(body["items"]) > 1:
        body["items"].pop()
        body["more"] += 1
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    digest = hashlib.sha256("\n".join(claims).encode()).digest()
    topic = base64.urlsafe_b64encode(digest).decode()[:32]
    return Message(payload, max(1, ttl), topic, claims)
