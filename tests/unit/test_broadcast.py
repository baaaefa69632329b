"""The notifier encodes `alerts` packets itself: they must be what python-socketio would send."""

from __future__ import annotations

import json
from typing import Any

import socketio
from engineio import packet as engineio_packet
from hypothesis import given
from hypothesis import strategies as st

from alertflow.notifier.fanout import alerts_packet

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20)
events = st.lists(st.dictionaries(st.text(), json_values, max_size=6), min_size=1, max_size=5)


def _decoded(packet: engineio_packet.Packet) -> Any:
    """What a Socket.IO client makes of the packet: engineio frame → socketio event."""
    frame = packet.encode()
    assert isinstance(frame, str) and frame[0] == "4"  # engineio MESSAGE, sent as a text frame
    decoded = socketio.packet.Packet(encoded_packet=frame[1:])
    assert decoded.packet_type == socketio.packet.EVENT and decoded.namespace in (None, "/")
    return decoded.data


@given(events)
def test_an_alerts_packet_decodes_to_the_event_and_its_batch(batch: list[dict[str, Any]]) -> None:
    assert _decoded(alerts_packet(batch)) == ["alerts", batch]


def test_it_matches_python_socketios_own_encoding_of_a_real_event() -> None:
    event = {"seq": 7, "kind": "open", "location": "1001", "names": {"he": "אבו גוש",
             "ar": "أبو غوش", "ru": "Абу-Гош"}, "shelter_seconds": 90, "received_at": 1.5e12}
    ours = alerts_packet([event]).encode()
    theirs = "4" + socketio.packet.Packet(socketio.packet.EVENT, data=["alerts", [event]]).encode()
    assert json.loads(ours[2:]) == json.loads(theirs[2:])
    assert ours[:2] == theirs[:2] == "42"
    assert "אבו גוש" in ours  # UTF-8 as is, not \\u escapes: a third of the bytes for Hebrew
