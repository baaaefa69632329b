"""The seed's `alert` event (issue 11, item 2), and the pid/offset positions its client sends
back on reconnection."""

from __future__ import annotations

import socketio

from alertflow.notifier.legacy import (
    legacy_alert,
    legacy_packets,
    packet_class,
    parse_position,
    position,
    wants_legacy,
)


def test_the_payload_is_the_seeds_with_the_sources_own_name() -> None:
    event = {"seq": 9, "kind": "open", "location": "נהריה", "source_name": "Nahariya",
             "type": "Rocket Alert", "issued_at": 1764280000000, "started_at": 1764280000000,
             "ends_at": 1764280090000}
    assert legacy_alert(event) == {
        "location": "Nahariya", "eventType": "open", "type": "Rocket Alert",
        "sentTime": "2025-11-27T21:46:40.000Z", "duration": "2025-11-27T21:48:10.000Z"}
    closed = {**event, "kind": "close", "issued_at": None, "source_name": None}
    assert legacy_alert(closed)["location"] == "נהריה"  # no source name: the area's id
    assert legacy_alert(closed)["sentTime"] == "2025-11-27T21:46:40.000Z"


def test_each_event_is_one_alert_packet_with_its_offset_last() -> None:
    events = [{"seq": s, "kind": "open", "location": "x", "type": "t", "issued_at": 0,
               "started_at": 0, "ends_at": 1000} for s in (3, 4)]
    decoded = [socketio.packet.Packet(encoded_packet=p.encode()[1:]).data
               for p in legacy_packets(events, "ep")]
    assert [d[0] for d in decoded] == ["alert", "alert"]
    assert [d[2] for d in decoded] == ["ep:3", "ep:4"]


def test_positions_round_trip_and_strangers_are_ignored() -> None:
    assert parse_position(position("5f0c:ab", 12)) == ("5f0c:ab", 12)
    for stranger in (None, 12, "", ":5", "ep:", "ep:-1", "ep:x", "e" * 300 + ":1",
                     f"ep:{2**64}"):
        assert parse_position(stranger) is None


def test_only_the_query_format_legacy_asks_for_it() -> None:
    assert wants_legacy({"QUERY_STRING": "format=legacy&EIO=4&transport=polling"})
    assert not wants_legacy({"QUERY_STRING": "EIO=4&transport=polling"})
    assert not wants_legacy({})


def test_the_connect_answer_carries_a_pid_for_registered_sids_only() -> None:
    pids = {"a": "ep:7"}
    packet = packet_class(pids)
    assert packet(socketio.packet.CONNECT, {"sid": "a"}).data == {"sid": "a", "pid": "ep:7"}
    assert pids == {}  # given once
    assert packet(socketio.packet.CONNECT, {"sid": "b"}).data == {"sid": "b"}
    assert packet(encoded_packet='0{"sid":"a"}').data == {"sid": "a"}  # decoding is untouched
