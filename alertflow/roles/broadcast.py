"""One Socket.IO `alerts` packet per distinct batch, handed to every recipient's socket as is.

python-socketio's `emit(to=sid)` encodes the packet again for every recipient (JSON, then a
walk of the data looking for binary attachments) and goes through its manager each time: that
was two thirds of the notifier's CPU at 2,000 clients. Recipients of the same batch get the
same bytes, so the packet is encoded once here, with msgspec, and the one engineio packet
object (which caches its encoding), or its websocket frame, goes to each recipient (see
direct_send.py for which way and why).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from engineio import packet as engineio_packet

from alertflow.roles.direct_send import websocket_text_frame

# Socket.IO v5 over Engine.IO v4: engineio MESSAGE ("4") wraps socketio EVENT ("2") on the
# default namespace (no namespace segment), then the JSON array [event name, *arguments].
_ALERTS_PREFIX = '2["alerts",'
_encoder = msgspec.json.Encoder()


def alerts_packet(events: list[dict[str, Any]]) -> engineio_packet.Packet:
    """The engineio packet of `emit("alerts", events)` on the default namespace."""
    body = _encoder.encode(events).decode()
    return engineio_packet.Packet(engineio_packet.MESSAGE, data=f"{_ALERTS_PREFIX}{body}]")


@dataclass(frozen=True, slots=True)
class Selection:
    """The events of a batch that some clients want, ready to send either way: as an engineio
    packet for the client's queue, or as a websocket frame for its transport."""

    count: int
    packet: engineio_packet.Packet
    frame: bytes

    @classmethod
    def of(cls, events: list[dict[str, Any]]) -> Selection:
        packet = alerts_packet(events)
        return cls(len(events), packet, websocket_text_frame(packet.encode()))
