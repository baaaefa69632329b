"""The per-source and per-client limits: token buckets, the rate-limit setting, subscription
totals and the Socket.IO packet guard."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alertflow.domain.locations import Catalog
from alertflow.domain.ratelimit import TokenBucket, parse_rate_limit
from alertflow.domain.subscriptions import (
    MAX_LOCATIONS,
    SubscriptionError,
    parse_subscription,
)
from alertflow.notifier.packet_guard import refusal


def test_a_bucket_grants_its_burst_at_once_then_its_rate() -> None:
    bucket = TokenBucket(rate=5, burst=10)
    granted = [bucket.take(100.0) == 0 for _ in range(12)]
    assert granted == [True] * 10 + [False] * 2
    assert bucket.take(100.0) == pytest.approx(0.2)  # the next token, in 1/rate s
    assert bucket.take(100.2) == 0 and bucket.take(100.2) > 0
    assert bucket.take(102.2) == 0  # refills over time, up to the burst only
    assert sum(bucket.take(200.0) == 0 for _ in range(20)) == 10


@settings(max_examples=300)
@given(rate=st.floats(0.5, 1000), burst=st.integers(1, 100),
       steps=st.lists(st.floats(0, 2), min_size=1, max_size=200))
def test_a_bucket_never_grants_more_than_burst_plus_rate_times_elapsed(
    rate: float, burst: int, steps: list[float]
) -> None:
    bucket = TokenBucket(rate=rate, burst=burst)
    now, granted = 0.0, 0
    for step in steps:
        now += step
        wait = bucket.take(now)
        granted += wait == 0
        assert wait >= 0
        # A refusal says truly when: at now + wait the same request is granted.
        if wait:
            assert TokenBucket(rate, burst, bucket._tat).take(now + wait + 1e-9) == 0
    assert granted <= burst + rate * now + 1e-6


@pytest.mark.parametrize(("text", "parsed"), [
    ("0", None), ("", None), ("off", None), ("5", (5.0, 5)), ("5:10", (5.0, 10)),
    ("0.5", (0.5, 1)), ("200:400", (200.0, 400)),
])
def test_rate_limit_setting(text: str, parsed: tuple[float, int] | None) -> None:
    assert parse_rate_limit(text) == parsed


@pytest.mark.parametrize("text", ["x", "5:0", "-1", "5:y", "nan", "inf", "1:-3", "0:5"])
def test_rate_limit_setting_rejects_nonsense(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rate_limit(text)


def test_repeated_subscriptions_are_bounded_in_total() -> None:
    catalog = Catalog()  # no catalog: any name is taken as an id
    subscription = parse_subscription({"locations": ["a"]}, catalog, base=None)
    for start in range(0, MAX_LOCATIONS - 1000, 1000):
        subscription = parse_subscription(
            {"locations": [f"n{i}" for i in range(start, start + 1000)]}, catalog,
            base=subscription)
    with pytest.raises(SubscriptionError) as refused:
        parse_subscription({"locations": [f"m{i}" for i in range(1001)]}, catalog,
                           base=subscription)
    assert refused.value.field == "locations"


@pytest.mark.parametrize("frame", [
    '40', '40{"since":3}', '41', '42["subscribe",{"all":true}]', '421["subscribe"]',
    '42["anything",1,2]', '3', '2probe', '5', '1', '6',
])
def test_the_guard_lets_what_clients_send_through(frame: str) -> None:
    assert refusal(frame, 1 << 16) is None


@pytest.mark.parametrize("frame", [
    '', '0', '9', 'x', '4', '42', '42[]', '42[1]', '42[null]', '42{"a":1}', '42"x"',
    '43', '431[]', '44', '45', '46', '45-["x"]', '451-["a",{"_placeholder":true,"num":0}]',
    '42[', '4-', b'\x04binary',
])
def test_the_guard_refuses_what_no_client_sends(frame: str | bytes) -> None:
    assert refusal(frame, 1 << 16) is not None


def test_the_guard_refuses_oversize_frames_before_decoding_them() -> None:
    frame = "42" + json.dumps(["subscribe", {"locations": ["x" * 100] * 1000}])
    assert refusal(frame, 1 << 16) == "frame too large"
