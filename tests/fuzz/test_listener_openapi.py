"""Issue 3, item 7: Schemathesis against the listener's own /openapi.json.

Stateless, every operation, 300 schema-valid and 150 schema-invalid examples each: no 5xx, every
response (status, content type, body, headers) as the document says, auth enforced, and — after
every single request — the queue holds exactly the alerts answered 202: nothing of a rejected
request is ever enqueued.

The examples are the same on every run (tests/conftest.py derandomizes Hypothesis); a wider,
fresh run: `ALERTFLOW_HYPOTHESIS=random ALERTFLOW_FUZZ_SCALE=10 pytest tests/fuzz -k openapi`.
"""

from __future__ import annotations

import copy
import os
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.core import NOT_SET
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tests.fuzz.conftest import Listener
from tests.support import TOKEN, queue_depths

pytestmark = pytest.mark.fuzz

EXAMPLES = 300 * int(os.environ.get("ALERTFLOW_FUZZ_SCALE", "1"))
# What counts as rejecting schema-invalid data: every documented refusal. (Schemathesis' default
# list lacks 413, which a too-long list of locations rightly gets once the body passes 1 MiB.)
CONFIG = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {
    "expected-statuses": [400, 401, 413, 415, 422, 429]}}})


def _blank(body: Any) -> bool:
    """What the document calls the feed's empty answer (nothing active: 202, `accepted: 0`): no
    body at all, or bytes holding nothing but JSON whitespace and byte-order marks, in UTF-8
    or in UTF-16 with its BOM. Schemathesis sends such bytes as "not JSON" negative data."""
    if body is NOT_SET:
        return True
    if not isinstance(body, bytes):
        return False
    encoding = "utf-16" if body.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8"
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError:
        return False
    return not text.strip(" \t\r\n\ufeff")


def _documented_empty(case: Any) -> bool:
    """A request the document says must be answered as the feed's empty answer: a blank body
    on the feed's route, and nothing else of the request generated invalid (a case whose
    header was negated must still be refused)."""
    if case.path != "/v1/feeds/hfc" or not _blank(case.body):
        return False
    meta = case.meta
    return meta is None or not any(
        info.mode.is_negative for location, info in meta.components.items()
        if location != ParameterLocation.BODY)


def _fresh(item: Any, legacy: bool, turn: int) -> Any:
    """An alert of a generated body issued now, so that bodies the schema allows also pass the
    listener's clock rules (±24 h / 5 min) often enough to reach the broker."""
    if not isinstance(item, dict):
        return item
    now = datetime.now(UTC)
    if "alertDate" in item:  # the national feed's history: Israel local time, no offset
        item["alertDate"] = now.astimezone(ZoneInfo("Asia/Jerusalem")).strftime(
            "%Y-%m-%d %H:%M:%S")
        return item
    if "cat" in item:  # the feed's realtime shape carries no time
        return item
    if legacy:
        item["timestamp"] = now.isoformat() if turn % 2 else now.timestamp()
    else:
        item["issued_at"] = now.isoformat()
        if item.get("kind", "alert") == "alert" and turn % 3:
            item.setdefault("duration_s", 60)
        if "location" in item and "locations" in item and turn % 2:
            del item["location"]
    return item


def _freshen(case: Any) -> None:
    """Most schema-valid cases get alerts issued now (a quarter keep their generated times)."""
    turn = len(repr(case.body))
    if turn % 4 == 0 or case.body is NOT_SET:  # (an optional body left out: nothing to freshen)
        return
    body = copy.deepcopy(case.body)
    legacy = case.path.startswith("/api/")
    if isinstance(body, list):
        body = [_fresh(item, legacy, turn + i) for i, item in enumerate(body)]
    else:
        body = _fresh(body, legacy, turn)
    case.body = body


# Schemathesis' own pytest loader (`from_fixture`) does not run on pytest 9 (it rewrites a node
# attribute pytest 9 no longer has), so each operation's Hypothesis strategy runs here directly:
# the same cases, checks and shrinking, one test per operation and generation mode.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=["positive", "negative"])
@pytest.mark.parametrize("path", ["/v1/alerts", "/api/alerts", "/v1/feeds/hfc"])
def test_listener_answers_every_request_as_documented(
    fuzz_listener: Listener, path: str, mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_url(fuzz_listener.url + "/openapi.json", config=CONFIG)
    operation = schema[path]["POST"]

    @settings(max_examples=EXAMPLES if mode == GenerationMode.POSITIVE else EXAMPLES // 2,
              deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        if mode == GenerationMode.POSITIVE:
            _freshen(case)  # a negative case must stay invalid: left alone
        empty = _documented_empty(case)
        response = case.call_and_validate(
            headers={"Authorization": f"Bearer {TOKEN}"},
            # The schema cannot say everything the listener checks (location xor locations,
            # duration_s required for alerts, issued_at within ±24 h / 5 min of its clock, no
            # control characters): schema-valid bodies may rightly get a 422. A documented
            # empty feed body is no negative data, whatever Schemathesis meant it to be: its
            # answer is checked exactly below instead.
            excluded_checks=[positive_data_acceptance,
                             *([negative_data_rejection] if empty else [])],
            timeout=10,
        )
        status = response.status_code
        if empty:
            assert status == 202 and response.json()["accepted"] == 0, (
                f"the feed's empty answer {case.body!r} got {status} {response.text[:200]}")
        fuzz_listener.statuses[status] = fuzz_listener.statuses.get(status, 0) + 1
        if status == 202:
            fuzz_listener.accepted += response.json()["accepted"]
        depth, dead = queue_depths(fuzz_listener.amqp_url, fuzz_listener.queue)
        assert (depth, dead) == (fuzz_listener.accepted, 0), (
            f"{status} answered, queue holds {depth}, {fuzz_listener.accepted} were accepted")

    run()


@pytest.mark.parametrize("body", [b"", b"\r\n", b" \t\n", "\ufeff\r\n".encode(),
                                  b"\xff\xfe", "\ufeff\r\n".encode("utf-16")],
                         ids=["empty", "crlf", "spaces", "utf8-bom", "utf16-bom", "utf16-crlf"])
def test_the_feeds_empty_answer_is_documented_and_accepted(
    fuzz_listener: Listener, body: bytes
) -> None:
    """Deterministic: the bodies the feed serves when nothing is active (Schemathesis once drew
    one as "not JSON" negative data, and the document, which required a JSON body, called the
    listener's 202 wrong). The document now says the body is optional and what counts as
    empty; the listener answers exactly that, enqueues nothing, and the answer conforms."""
    schema = schemathesis.openapi.from_url(fuzz_listener.url + "/openapi.json", config=CONFIG)
    operation = schema["/v1/feeds/hfc"]["POST"]
    assert operation.definition.raw["requestBody"]["required"] is False
    assert _blank(body)
    case = operation.Case(body=body, media_type="application/json")
    response = case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"},
                                      excluded_checks=[positive_data_acceptance], timeout=10)
    assert (response.status_code, response.json()["accepted"]) == (202, 0), response.text
    assert queue_depths(fuzz_listener.amqp_url, fuzz_listener.queue) == (
        fuzz_listener.accepted, 0)


def test_the_fuzzing_reached_the_broker(fuzz_listener: Listener) -> None:
    """The examples above mean something only if many were accepted and many refused."""
    statuses = fuzz_listener.statuses
    if not statuses:
        pytest.skip("runs after the Schemathesis test of this module")
    print(f"\n[schemathesis] statuses={dict(sorted(statuses.items()))} "
          f"accepted_alerts={fuzz_listener.accepted}")
    assert sum(statuses.values()) >= 2 * (EXAMPLES + EXAMPLES // 2) * 0.8
    assert statuses.get(202, 0) >= 20 and statuses.get(422, 0) >= 100
    assert not [s for s in statuses if s >= 500]
