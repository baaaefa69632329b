"""Issue 11, items 1 and 2: Socket.IO clients as their authors write them — the official
socket.io-client in Node with default options (long-polling, then the upgrade) and polling-only,
python-socketio with its default transports, and a stand-in for the seed's frontend
(`?format=legacy`) — behind a balancer over two notifiers, each receive every event exactly
once, including across a `kill -9` of the notifier they were on."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest

from tests.e2e.conftest import Pipeline, alert_body, start_roles, stop_all
from tests.node_clients import Balancer, NodeClients, node_ready
from tests.support import ResumingClient, poll_until

pytestmark = pytest.mark.e2e

SEED_LISTED = ["Haifa", "Tel Aviv", "Jerusalem"]  # names the seed's frontend shows
NOT_LISTED = "Springfield"
EACH = 2  # clients of each kind


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def _check_resumed(events: list[dict[str, Any]], snapshots: list[dict[str, Any]],
                   stream: list[dict[str, Any]], who: str) -> None:
    """The client got the stream's events, each once and in order, and its reconnection was a
    resume (its first snapshot is its only one)."""
    assert [e["seq"] for e in events] == [e["seq"] for e in stream], f"{who}: not the stream"
    assert events == stream, f"{who}: events differ from the stream's"
    assert len(snapshots) == 1 and not snapshots[0]["resync"], f"{who}: {len(snapshots)} snaps"


def _legacy(event: dict[str, Any]) -> dict[str, Any]:
    """What the seed's frontend must receive for an event (docs/protocol.md)."""
    sent = event["issued_at"] if event["issued_at"] is not None else event["started_at"]
    return {"location": event.get("source_name") or event["location"],
            "eventType": event["kind"], "type": event["type"], "sentTime": _iso(sent),
            "duration": _iso(event["ends_at"])}


async def _stream(url: str, accepted: set[str]) -> list[dict[str, Any]]:
    """The run's events from a notifier's /v1/events once every window opened has closed."""
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            async with session.get(url + "/v1/events?limit=1000") as response:
                events = (await response.json())["events"]
            opened = {e["incident_id"] for e in events if e["kind"] == "open"}
            closed = {e["incident_id"] for e in events if e["kind"] == "close"}
            if {e["alert_id"] for e in events if e["kind"] == "open"} == accepted and (
                    opened == closed):
                return list(events)
            await asyncio.sleep(0.2)
    raise AssertionError(f"the stream never settled: {events}")


async def _post_round(pipeline: Pipeline, round_: int) -> dict[str, dict[str, Any]]:
    """One short alert per location; the accepted ones by id, with what was posted."""
    posted: dict[str, dict[str, Any]] = {}
    for location in [*SEED_LISTED, NOT_LISTED]:
        body = alert_body(location, duration_s=2, id=f"clients-{round_}-{location}")
        status, answer = await pipeline.post(body)
        assert status == 202, answer
        posted[answer["ids"][0]] = body
    return posted


async def test_every_kind_of_client_gets_every_event_once_across_a_kill(
    tmp_path: Path, rabbitmq: str, redis_url: str,
) -> None:
    missing = node_ready()
    if missing:
        pytest.fail(f"Node's socket.io-client is needed: {missing}")
    pipeline = start_roles(tmp_path, rabbitmq, redis_url, notifiers=2)
    backends = [(urlsplit(u).hostname or "", urlsplit(u).port or 0)
                for u in pipeline.notifier_urls]
    balancer = await Balancer(backends).start()
    # The seed's frontend is pointed at alertflow by its backend URL setting alone.
    urls = {"default": balancer.url, "polling": balancer.url,
            "legacy": balancer.url + "/?format=legacy"}
    node = {mode: NodeClients(url, mode, EACH) for mode, url in urls.items()}
    python = [ResumingClient([balancer.url], transports=None) for _ in range(EACH)]
    try:
        for clients in node.values():
            await clients.start()
        for client in python:
            await client.connect()
        for mode in ("default", "polling"):
            await node[mode].wait_for(lambda c: all(c.of(i, "snapshot") for i in range(EACH)),
                                      "a snapshot each")
        await node["legacy"].wait_for(lambda c: all(c.of(i, "connect") for i in range(EACH)),
                                      "connected")
        await node["default"].wait_for(lambda c: all(c.of(i, "upgrade") for i in range(EACH)),
                                       "the upgrade to websocket")
        await poll_until(lambda: all(c.snapshots for c in python), 15, lambda: "python snaps")

        first = await _post_round(pipeline, 1)
        stream = await _stream(pipeline.notifier_urls[0], set(first))

        async def everyone_has(count: int) -> None:
            for mode in ("default", "polling"):
                await node[mode].wait_for(
                    lambda c: all(len(c.events(i)) >= count for i in range(EACH)),
                    f"{count} events", timeout=90)
            await node["legacy"].wait_for(
                lambda c: all(len(c.legacy(i)) >= count for i in range(EACH)),
                f"{count} alerts", timeout=90)
            await poll_until(lambda: all(len(c.events) >= count for c in python), 90,
                             lambda: f"python clients: {count} events")

        await everyone_has(len(stream))
        pipeline.roles["notifier0"].kill()  # kill -9: every client was on it
        second = await _post_round(pipeline, 2)  # while the clients reconnect
        stream = await _stream(pipeline.notifier_urls[1], {*first, *second})
        await everyone_has(len(stream))
        await asyncio.sleep(1.5)  # duplicates, if any, would arrive now

        for mode in ("default", "polling"):
            for i in range(EACH):
                who = f"node {mode} {i}"
                assert len(node[mode].of(i, "connect")) == 2, who  # the kill, one reconnect
                snapshots = [line["snapshot"] for line in node[mode].of(i, "snapshot")]
                _check_resumed(node[mode].events(i), snapshots, stream, who)
        for i in range(EACH):  # default options upgraded; polling-only never did
            assert node["default"].of(i, "upgrade")[0]["transport"] == "websocket"
            assert [c["transport"] for c in node["default"].of(i, "open")] == ["polling"] * 2
            assert [c["transport"] for c in node["polling"].of(i, "open")] == ["polling"] * 2
            assert not node["polling"].of(i, "upgrade")
        for index, client in enumerate(python):
            assert client.connections == 2
            _check_resumed(client.events, client.snapshots, stream, f"python {index}")

        expected = [_legacy(event) for event in stream]
        assert {a["location"] for a in expected} == {*SEED_LISTED, NOT_LISTED}  # as named
        for i in range(EACH):
            assert node["legacy"].legacy(i) == expected, f"legacy {i}"
            shown = {line["data"]["location"] for line in node["legacy"].of(i, "alert")
                     if line["shown"]}
            assert shown == set(SEED_LISTED)
            assert node["legacy"].of(i, "other") == []  # never alertflow's own events
            assert len(node["legacy"].of(i, "connect")) == 2
    finally:
        for clients in node.values():
            await clients.close()
        for client in python:
            await client.close()
        await balancer.close()
        stop_all(pipeline)
