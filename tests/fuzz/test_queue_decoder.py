"""Issue 3, item 7: the queue-message decoder under Hypothesis.

`decode_alert` meets whatever is in the queue: it must raise only msgspec's errors (the
processor dead-letters on exactly those), and whatever it accepts must be something the Lua
scripts apply cleanly and whose events the notifier can read back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from typing import Any

import msgspec
import pytest
import redis.asyncio as aioredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alertflow.backends.redis_store import RedisStateStore
from alertflow.domain.alert import Alert, decode_alert, encode_alert
from alertflow.domain.locations import Catalog
from tests.support import delete_keys

pytestmark = pytest.mark.fuzz

MSGSPEC_ERRORS = (msgspec.DecodeError, msgspec.ValidationError)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
FIELDS = ["id", "kind", "type", "locations", "issued_at", "duration_s", "received_at", "source",
          "title", "instructions", "unknown_locations"]
# Near-valid values for each field, mixed with anything at all: the decoder's edges.
near = {
    "id": st.text(min_size=0, max_size=140),
    "kind": st.sampled_from(["alert", "cancel", "ALERT", ""]),
    "type": st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-|\n\"]{0,70}", fullmatch=True),
    "locations": st.lists(st.text(max_size=210), max_size=4),
    "issued_at": st.integers(min_value=-(2**64), max_value=2**64),
    "duration_s": st.integers(min_value=-10, max_value=10**6),
    "received_at": st.integers(min_value=-(2**64), max_value=2**64),
    "source": st.text(max_size=210),
    "title": st.none() | st.text(max_size=210),
    "instructions": st.none() | st.text(max_size=2100),
    "unknown_locations": st.lists(st.text(max_size=20), max_size=3),
}
alert_shaped = st.fixed_dictionaries(
    {}, optional={name: near[name] | json_values for name in FIELDS}
) | st.fixed_dictionaries({name: near[name] for name in FIELDS})


@settings(max_examples=2000, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_raise_only_msgspec_errors(body: bytes) -> None:
    with contextlib.suppress(MSGSPEC_ERRORS):
        decode_alert(body)


@settings(max_examples=2000, deadline=None)
@given(json_values)
def test_arbitrary_json_raises_only_msgspec_errors(value: Any) -> None:
    with contextlib.suppress(MSGSPEC_ERRORS):
        decode_alert(json.dumps(value).encode())


@settings(max_examples=2000, deadline=None)
@given(alert_shaped)
def test_alert_shaped_json_decodes_only_to_what_a_listener_produces(value: Any) -> None:
    try:
        alert = decode_alert(json.dumps(value).encode())
    except MSGSPEC_ERRORS:
        return
    # What the listener promises: free-text types without control characters (a `|` is text:
    # the scripts store records as JSON), exact integers, bounds.
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in alert.type)
    assert alert.locations and all(0 < len(name) <= 200 for name in alert.locations)
    assert 0 <= alert.issued_at <= 2**52 and 0 <= alert.received_at <= 2**52
    assert alert.kind == "cancel" or 1 <= alert.duration_s <= 86_400
    assert decode_alert(encode_alert(alert)) == alert  # and it travels unchanged


valid_alerts = st.builds(
    Alert,
    id=st.text(min_size=1, max_size=128),
    kind=st.sampled_from(["alert", "cancel"]),
    type=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,20}", fullmatch=True),
    locations=st.lists(st.text(min_size=1, max_size=200), min_size=1, max_size=3),
    issued_at=st.integers(min_value=0, max_value=2**52),
    duration_s=st.integers(min_value=1, max_value=86_400),
    received_at=st.integers(min_value=0, max_value=2**52),
    source=st.text(min_size=1, max_size=50),
    title=st.none() | st.text(min_size=1, max_size=200),
    instructions=st.none() | st.text(max_size=300),
)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(alerts=st.lists(valid_alerts, min_size=1, max_size=3))
def test_whatever_the_decoder_accepts_the_scripts_apply(
    alerts: list[Alert], redis_url: str, catalog: Catalog
) -> None:
    """Edge values (any Unicode, quotes, backslashes, the largest times) through the real Lua
    scripts: no script error, and every event and snapshot is JSON the notifier decodes."""
    accepted = []
    for alert in alerts:
        try:
            accepted.append(decode_alert(encode_alert(alert)))
        except MSGSPEC_ERRORS:
            continue  # e.g. a title with control characters: dead-lettered, never applied

    async def apply_all() -> None:
        prefix = "fuzz" + uuid.uuid4().hex[:8]
        client = aioredis.Redis.from_url(redis_url)
        store = RedisStateStore(client, catalog, prefix=prefix)
        try:
            for alert in accepted:
                await store.apply(alert, int(time.time() * 1000))
            await store.sweep(2**52 + 86_400_000)
            snapshot = await store.snapshot()
            stored = await store.events_after(0, 100)
            assert stored.covered
            for event in stored.events:
                assert event["seq"] >= 1 and event["kind"] in ("open", "close")
            assert isinstance(snapshot.incidents, list)
        finally:
            await delete_keys(client, prefix)
            await client.aclose()

    asyncio.run(apply_all())
