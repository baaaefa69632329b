"""The seed's frontend, unchanged: a client that connects with `?format=legacy` gets only the
`alert` event the seed's server sent, one per window opened or closed —
`{location, eventType: "open"|"close", type, sentTime, duration}` with `location` as the source
named it, `sentTime` the source's timestamp and `duration` the window's end (ISO 8601) — and
none of alertflow's own events (no `alerts`, no `snapshot`).

Such a client cannot send `since`/`epoch`, so it resumes through Socket.IO's own connection
state recovery, which socket.io-client (4.6 and later) does by itself: the server's CONNECT
answer carries a `pid`, each event's last argument is an offset string, and on reconnection the
client sends both back in its CONNECT packet. Here the pid is the position the client started
from and the offset that of the event: `"<epoch>:<seq>"`, so a seed frontend that reconnects to
any notifier gets what it missed, exactly once (the app's handler ignores the extra argument).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import msgspec
from engineio import packet as engineio_packet
from socketio import packet as sio_packet

from alertflow.notifier.client_queue import BatchPacket
from alertflow.notifier.config import MAX_SEQ, Event

_encoder = msgspec.json.Encoder()
_ALERT_PREFIX = '2["alert",'


def wants_legacy(environ: dict[str, Any]) -> bool:
    """Whether the connection URL's query asks for the seed's event (`format=legacy`)."""
    return parse_qs(environ.get("QUERY_STRING", "")).get("format") == ["legacy"]


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def legacy_alert(event: Event) -> dict[str, Any]:
    """The seed's `alert` payload for one event."""
    return {
        "location": event.get("source_name") or event["location"],
        "eventType": event["kind"],
        "type": event.get("type"),
        # A close by expiry has no source timestamp of its own: the window's start stands in.
        "sentTime": _iso(event.get("issued_at") or event.get("started_at")),
        "duration": _iso(event.get("ends_at")),
    }


def position(epoch: str, seq: int) -> str:
    return f"{epoch}:{seq}"


def parse_position(value: Any) -> tuple[str, int] | None:
    """(epoch, seq) from a pid or offset the client sent back; None if it is not one of ours."""
    if not isinstance(value, str) or len(value) > 200:
        return None
    epoch, _, seq = value.rpartition(":")
    if not epoch or not seq.isdigit() or int(seq) > MAX_SEQ:
        return None
    return epoch, int(seq)


def legacy_packets(events: list[Event], epoch: str) -> list[engineio_packet.Packet]:
    """One engineio packet per event: `emit("alert", payload, offset)` on the default namespace."""
    packets = []
    for event in events:
        body = _encoder.encode([legacy_alert(event), position(epoch, event["seq"])]).decode()
        packets.append(BatchPacket(engineio_packet.MESSAGE, data=f"{_ALERT_PREFIX}{body[1:]}"))
    return packets


def packet_class(pids: dict[str, str]) -> type[sio_packet.Packet]:
    """python-socketio's packet class (its public `serializer` argument) adding the pid of a
    legacy client to the server's CONNECT answer; `pids` maps its sid to the pid."""

    class RecoverablePacket(sio_packet.Packet):  # type: ignore[misc]
        def __init__(self, packet_type: int = sio_packet.EVENT, data: Any = None,
                     *args: Any, **kwargs: Any) -> None:
            if packet_type == sio_packet.CONNECT and isinstance(data, dict):
                sid = data.get("sid")
                pid = pids.pop(sid, None) if isinstance(sid, str) else None
                if pid is not None:
                    data = {**data, "pid": pid}
            super().__init__(packet_type, data, *args, **kwargs)

    return RecoverablePacket
