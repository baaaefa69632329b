"""Which stored events a history request wants: some areas and zones, since some time.

Pure: the stores apply it while they read their stream from the newest event back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

# Events reach the stream in processing order, which trails their own times by the pipeline's
# lag; a scan that met events this much older than `since_ms` has passed every wanted one.
PROCESSING_SLACK_MS: Final = 5 * 60 * 1000


def event_time(event: Mapping[str, Any]) -> int | None:
    """When an event happened: an open's siren, a close's end of window."""
    value = event.get("issued_at") if event.get("kind") == "open" else event.get("ends_at")
    if value is None:
        value = event.get("received_at")
    return value if isinstance(value, int) else None


@dataclass(frozen=True)
class EventFilter:
    """Events of these areas or zones (all when both are empty), from `since_ms` on."""

    locations: frozenset[str] = frozenset()
    zones: frozenset[str] = frozenset()
    since_ms: int | None = None

    def matches(self, event: Mapping[str, Any]) -> bool:
        if (self.locations or self.zones) and not (
                event.get("location") in self.locations or event.get("zone") in self.zones):
            return False
        if self.since_ms is None:
            return True
        at = event_time(event)
        return at is None or at >= self.since_ms

    def passed(self, event: Mapping[str, Any]) -> bool:
        """Reading newest first: True once every older event is older than `since_ms`."""
        if self.since_ms is None:
            return False
        stamp = event.get("received_at") if event.get("kind") == "open" else event.get("ends_at")
        return isinstance(stamp, int) and stamp < self.since_ms - PROCESSING_SLACK_MS
