"""What the notifier knows of each connected client."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alertflow.domain.ratelimit import TokenBucket
from alertflow.domain.subscriptions import Subscription
from alertflow.notifier.config import Event
from alertflow.notifier.direct_send import Transport


@dataclass(slots=True)
class Client:
    sid: str
    subscription: Subscription
    bucket: TokenBucket
    syncing: bool = True
    buffer: list[Event] = field(default_factory=list)
    last_seq: int = 0  # the newest seq this client has been given (or its snapshot reflects)
    refusals: int = 0  # client requests refused in a row by its bucket
    socket: Any = None  # its engineio socket, looked up on the first delivery
    transport: Transport | None = None  # its TCP transport, if direct writes are possible
    legacy: bool = False  # the seed's frontend: `alert` events only (legacy.py)


Clients = dict[str, Client]
