"""Issue 3, item 7: the notifier's Socket.IO handlers under Hypothesis.

Arbitrary JSON as the connection's `auth`, as `subscribe`/`unsubscribe` arguments (any number
of them) and as raw event packets: the answer is a snapshot, an error acknowledgement, a refused
connection or a closed one — never a crash, and never an exception in the notifier's log.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import socketio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import Notifier
from tests.support import RawSocketIO

pytestmark = pytest.mark.fuzz

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
# Near the documented shapes, to get past the first checks.
near_subscription = st.fixed_dictionaries({}, optional={
    "all": json_values, "locations": st.lists(st.text(max_size=20), max_size=3) | json_values,
    "zones": st.lists(st.text(max_size=20), max_size=3) | json_values,
})
near_auth = st.fixed_dictionaries({}, optional={
    "since": st.integers() | json_values, "epoch": st.text(max_size=40) | json_values,
    "locations": st.lists(st.text(max_size=20), max_size=3) | json_values,
    "zones": st.lists(st.text(max_size=20), max_size=3) | json_values,
})
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _is_snapshot(value: Any) -> bool:
    return isinstance(value, dict) and {"epoch", "seq", "resync", "incidents"} <= set(value)


def _is_error(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("error"), str) and "field" in value


@FUZZ
@given(auth=near_auth | json_values)
def test_any_auth_connects_or_is_refused(fuzz_notifier: Notifier, auth: Any) -> None:
    async def attempt() -> None:
        client = socketio.AsyncClient(reconnection=False)
        snapshots: list[Any] = []
        client.on("snapshot", lambda s: snapshots.append(s))
        try:
            await client.connect(fuzz_notifier.url, transports=["websocket"], auth=auth,
                                 wait_timeout=10)
        except socketio.exceptions.ConnectionError:
            return  # refused with {error, field}: fine
        try:
            for _ in range(100):
                if snapshots or not client.connected:
                    break
                await asyncio.sleep(0.02)
            # Resumed clients get events instead of a snapshot; everyone else a snapshot.
            since = auth.get("since") if isinstance(auth, dict) else None
            assert snapshots or since is not None
            assert all(_is_snapshot(s) for s in snapshots)
        finally:
            await client.disconnect()

    asyncio.run(attempt())


@FUZZ
@given(event=st.sampled_from(["subscribe", "unsubscribe"]),
       args=st.lists(near_subscription | json_values, max_size=3))
def test_any_subscription_request_is_answered(
    fuzz_notifier: Notifier, event: str, args: list[Any]
) -> None:
    async def attempt() -> None:
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(fuzz_notifier.url, transports=["websocket"], wait_timeout=10)
        try:
            # python-socketio sends a tuple as that many arguments.
            answer = await client.call(event, tuple(args) if len(args) != 1 else args[0],
                                       timeout=10)
            assert _is_snapshot(answer) or _is_error(answer), answer
        finally:
            await client.disconnect()

    asyncio.run(attempt())


@FUZZ
@given(payload=json_values, with_ack=st.booleans())
def test_any_event_packet_is_answered_or_closed(
    fuzz_notifier: Notifier, payload: Any, with_ack: bool
) -> None:
    """Raw `42…` packets whose payload is any JSON value (the protocol wants an array whose
    first element names the event): an error ack, silence, or the connection closed."""

    async def attempt() -> None:
        raw = RawSocketIO(fuzz_notifier.url)
        answer = await raw.connect()
        assert answer.startswith("40{"), answer
        try:
            await raw.send(("421" if with_ack else "42") + json.dumps(payload))
            await raw.send("42" + json.dumps(["subscribe", {"all": True}]))  # still alive?
            deadline = asyncio.get_running_loop().time() + 2
            while asyncio.get_running_loop().time() < deadline:
                packet = await raw.recv(timeout=2)
                if not packet:
                    return  # closed: fine for a malformed packet
                if packet.startswith("431"):
                    assert _is_error(json.loads(packet[3:])[0]) or _is_snapshot(
                        json.loads(packet[3:])[0])
        except TimeoutError:
            pass
        finally:
            await raw.close()

    asyncio.run(attempt())


def test_no_exception_reached_the_notifier_log(fuzz_notifier: Notifier) -> None:
    """Runs last in this module: everything above left no trace of a server-side error."""
    log = fuzz_notifier.role.log()
    for sign in ("Traceback", "handler error", "Task exception", "Unknown receive error",
                 '"level": "error"'):
        assert sign not in log, log[log.find(sign) - 2000:log.find(sign) + 2000]
    assert fuzz_notifier.role.alive()
