"""Fan-out: which events each client gets, encoded once per distinct choice, and sent.

python-socketio's `emit` encodes a packet per recipient and goes through its manager each time:
at thousands of clients that was most of the notifier's CPU. Recipients of the same batch get
the same bytes, so the packet is encoded once here, with msgspec, and the one engineio packet
object (which caches its encoding), or its websocket frame, goes to each recipient (see
direct_send.py for which way and why).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
import socketio
import structlog
from engineio import packet as engineio_packet

from alertflow import metrics
from alertflow.domain.subscriptions import Subscription
from alertflow.notifier.client_queue import BatchPacket
from alertflow.notifier.clients import Client, Clients
from alertflow.notifier.config import Event, NotifierConfig
from alertflow.notifier.direct_send import Transports, websocket_text_frame, write_directly
from alertflow.notifier.legacy import legacy_packets

log = structlog.get_logger("alertflow.notifier")

# Socket.IO v5 over Engine.IO v4: engineio MESSAGE ("4") wraps socketio EVENT ("2") on the
# default namespace (no namespace segment), then the JSON array [event name, *arguments].
_ALERTS_PREFIX = '2["alerts",'
_encoder = msgspec.json.Encoder()


def alerts_packet(events: list[Event]) -> engineio_packet.Packet:
    """The engineio packet of `emit("alerts", events)` on the default namespace."""
    body = _encoder.encode(events).decode()
    return BatchPacket(engineio_packet.MESSAGE, data=f"{_ALERTS_PREFIX}{body}]")


@dataclass(frozen=True, slots=True)
class EncodedEvents:
    """The events of a batch that some clients want, encoded once for all of them: as engineio
    packets for a client's queue, and as websocket frames (one write) for its transport."""

    count: int
    packets: tuple[engineio_packet.Packet, ...]
    frame: bytes

    @classmethod
    def of(cls, packets: list[engineio_packet.Packet], count: int) -> EncodedEvents:
        frames = b"".join(websocket_text_frame(packet.encode()) for packet in packets)
        return cls(count, tuple(packets), frames)


@dataclass(slots=True)
class Batch:
    """One batch on its way to many clients: each distinct choice of events is encoded once."""

    events: list[Event]
    epoch: str
    delivered: int = 0
    overflowing: list[Client] = field(default_factory=list)
    _encoded: dict[tuple[Subscription, int, bool], EncodedEvents | None] = field(
        default_factory=dict)

    def encoded_for(self, client: Client) -> EncodedEvents | None:
        """The events after the client's last seq that it wants, encoded as its format asks
        (one `alerts` packet, or one legacy `alert` per event); None if none."""
        key = (client.subscription, client.last_seq, client.legacy)
        if key not in self._encoded:
            wanted = [e for e in self.events
                      if e["seq"] > client.last_seq and client.subscription.wants(e)]
            packets = (legacy_packets(wanted, self.epoch) if client.legacy
                       else [alerts_packet(wanted)])
            self._encoded[key] = EncodedEvents.of(packets, len(wanted)) if wanted else None
        return self._encoded[key]


class Fanout:
    """Sends batches to clients: directly to an idle websocket, else through engineio's
    per-client queue (polling clients, busy or upgrading websockets), bounded per client."""

    def __init__(self, sio: socketio.AsyncServer, transports: Transports, clients: Clients,
                 config: NotifierConfig, epoch: Callable[[], str]) -> None:
        self._epoch = epoch  # the stream's, for legacy clients' offsets
        self._sio = sio
        self._transports = transports
        self._clients = clients
        self._config = config

    async def send(self, clients: list[Client], events: list[Event]) -> None:
        """Queue for each client the events it wants and has not been given yet."""
        if not events:
            return
        batch = Batch(events, self._epoch())
        for client in clients:
            self._queue_for(client, batch)
        metrics.deliveries.inc(batch.delivered)
        for client in batch.overflowing:
            await self.drop(client, "backlog")

    def _queue_for(self, client: Client, batch: Batch) -> None:
        encoded = batch.encoded_for(client)
        client.last_seq = max(client.last_seq, batch.events[-1]["seq"])
        if encoded is None:
            return
        socket = client.socket
        if socket is None:
            socket = client.socket = self.engineio_socket(client.sid)
            if socket is None:
                return  # gone: its disconnect handler is about to forget it
        if socket.closed or socket.closing:
            return
        if client.transport is None and socket.upgraded:
            # Only once on a websocket (from the start, or upgraded from long-polling): a
            # polling client, or one mid-upgrade, reads what engineio's queue gives it.
            client.transport = self._transports.get(socket.sid)
        if write_directly(socket, client.transport, encoded.frame):
            batch.delivered += encoded.count
        elif socket.queue.qsize() >= self._config.max_backlog:
            batch.overflowing.append(client)
        else:
            for packet in encoded.packets:
                socket.queue.put_nowait(packet)  # unbounded queue: never waits
            batch.delivered += encoded.count

    def engineio_socket(self, sid: str) -> Any:
        eio_sid = self._sio.manager.eio_sid_from_sid(sid, "/")
        return self._sio.eio.sockets.get(eio_sid) if eio_sid is not None else None

    def backlog(self, sid: str) -> int:
        """Packets queued for a client that its transport has not taken yet.

        python-engineio queues every packet in an unbounded per-client queue; a websocket's
        writer task or a polling client's next GET drains it. A client that stops reading
        stalls only its own, so the queue's size is the measure of how far behind it is.
        """
        socket = self.engineio_socket(sid)
        return socket.queue.qsize() if socket is not None else 0

    async def drop(self, client: Client, reason: str) -> None:
        """Disconnect a client that cannot keep up or misbehaves, without waiting for it."""
        if self._clients.pop(client.sid, None) is None:
            return
        metrics.connected_clients.set(len(self._clients))
        metrics.clients_dropped.labels(reason).inc()
        log.warning("client dropped", sid=client.sid, reason=reason,
                    backlog=self.backlog(client.sid))
        socket = self.engineio_socket(client.sid)
        if socket is None:
            return
        # `sio.disconnect` would queue a packet behind the backlog and engineio's close() waits
        # for the queue to drain: neither ever finishes for a client that stopped reading.
        # Abort instead (disconnect handlers run now), then wake the transport's writer (or a
        # pending long-poll) with engineio's end marker: a websocket closes once the socket
        # drains, or the kernel's send timeout (serve_app's send_timeout_s) aborts it.
        await socket.close(wait=False, abort=True)
        socket.queue.put_nowait(None)
