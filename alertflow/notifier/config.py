"""The notifier's settings and the limits of its protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alertflow.domain.origins import AllowedOrigins
from alertflow.settings import DEFAULT_SETTINGS

Event = dict[str, Any]
MAX_PACKET_BYTES = 64 * 1024  # what a client may send in one packet (subscriptions are small)
MAX_SEQ = 2**63 - 1  # Redis stream ids are 64-bit: a larger `since` cannot name an event


@dataclass(frozen=True, slots=True)
class NotifierConfig:
    ring_size: int = 10_000
    replay_limit: int = 10_000
    history_limit: int = 1_000
    # Packets (one per emit) waiting for one client's socket before it is dropped: a client
    # that stops reading must cost bounded memory and never hold the others back.
    max_backlog: int = DEFAULT_SETTINGS.max_client_backlog
    # What one client may send (subscribe, unsubscribe, anything else): each request costs a
    # snapshot, so a flood is refused, and dropped after `max_refusals` refusals in a row.
    client_rate: float = 5.0
    client_burst: int = 20
    max_refusals: int = 20
    # Engine.IO pings each client this often and drops it when a pong is as late; engineio
    # also keeps each closed connection's ping timer (and its socket object) that long.
    ping_interval_s: float = DEFAULT_SETTINGS.ping_interval_s
    # How long a long-poll's answer may wait for more batches to join the first (client_queue.py).
    poll_hold_s: float = DEFAULT_SETTINGS.poll_hold_ms / 1000
    # Browser origins besides the page's own (--allowed-origins).
    allowed_origins: AllowedOrigins = field(default_factory=AllowedOrigins)
