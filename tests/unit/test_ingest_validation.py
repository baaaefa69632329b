"""Bad requests through the real listener app: the right 4xx, the field, the reason, nothing queued.

Every row goes through `create_listener_app` with a `MemoryQueue` as the publisher, so the HTTP
answers, the validation rules and the "nothing of a rejected request is enqueued" promise are
tested together. Times are relative to the clock at request time, never hard-coded.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from alertflow.backends.memory import MemoryQueue
from alertflow.domain.alert import IngestRules
from alertflow.domain.locations import Catalog
from alertflow.listener import ListenerConfig, create_listener_app
from alertflow.settings import DEFAULT_SETTINGS, Settings

TOKEN = "s3cret-token-0123456789"
AUTH = f"Bearer {TOKEN}"
JSON_HEADERS = {"Authorization": AUTH, "Content-Type": "application/json"}
ERROR_KEYS = {"error", "field", "reason", "status"}
PLACE = "אבו גוש"
DROP = object()  # a field value meaning "leave this field out"

Body = bytes | Callable[[], bytes]


def iso(delta: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) + delta).isoformat()


def good_v1(**changes: Any) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "type": "missiles", "issued_at": iso(), "locations": [PLACE], "duration_s": 90,
    }
    alert.update(changes)
    return {key: value for key, value in alert.items() if value is not DROP}


def good_legacy(**changes: Any) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "location": PLACE, "type": "missiles", "timestamp": iso(), "duration": 1.5,
    }
    alert.update(changes)
    return {key: value for key, value in alert.items() if value is not DROP}


def encode(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def v1(**changes: Any) -> Callable[[], bytes]:
    """A v1 body built at request time (so clock-relative fields are fresh)."""
    return lambda: encode(good_v1(**changes))


def legacy(**changes: Any) -> Callable[[], bytes]:
    return lambda: encode(good_legacy(**changes))


def barrage(count: int, bad_index: int | None = None, **bad: Any) -> Callable[[], bytes]:
    def build() -> bytes:
        return encode([
            good_v1(id=f"b-{index}", **(bad if index == bad_index else {}))
            for index in range(count)
        ])
    return build


@dataclass(frozen=True)
class Case:
    body: Body
    status: int
    field: str
    reason: str | tuple[str, ...]  # a substring of `reason`, or acceptable alternatives
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON_HEADERS))
    route: str = "/v1/alerts"
    rules: IngestRules = field(default_factory=DEFAULT_SETTINGS.ingest_rules)
    response_headers: dict[str, str] = field(default_factory=dict)


def case(case_id: str, body: Body, status: int, field_: str, reason: str | tuple[str, ...],
         **options: Any) -> Any:
    return pytest.param(Case(body, status, field_, reason, **options), id=case_id)


def headers(**values: str | None) -> dict[str, str]:
    merged: dict[str, str | None] = {**JSON_HEADERS, **values}
    return {name: value for name, value in merged.items() if value is not None}


CONTROL_OR_REGEX = ("control characters", "matching regex")
UNAUTHORIZED = {"WWW-Authenticate": 'Bearer realm="alertflow"'}

CASES = [
    # -- not JSON / not an alert at all
    case("malformed-json", b'{"type": missiles}', 400, "$", "malformed JSON"),
    case("truncated-json", b'{"type": "missiles", "issued_at"', 400, "$", "truncated"),
    case("empty-body", b"", 400, "$", "malformed JSON"),
    case("non-utf8-bytes", b'{"type": "\xff\xfe missiles"}', 400, "$", "not valid UTF-8"),
    case("latin1-location", b'{"location": "Caf\xe9"}', 400, "$", "not valid UTF-8"),
    case("json-string", b'"missiles"', 422, "$", "expected an alert object or an array"),
    case("json-number", b"42", 422, "$", "expected an alert object or an array"),
    case("json-null", b"null", 422, "$", "expected an alert object or an array"),
    case("json-bool", b"true", 422, "$", "expected an alert object or an array"),
    case("array-of-strings", b'["missiles"]', 422, "$[0]", "Expected `object`"),
    # -- wrong types, every field
    case("type-number", v1(type=7), 422, "$.type", "Expected `str`, got `int`"),
    case("issued_at-number", v1(issued_at=1_700_000_000), 422, "$.issued_at",
         "Expected `datetime`, got `int`"),
    case("duration-string", v1(duration_s="90"), 422, "$.duration_s", "got `str`"),
    case("duration-float", v1(duration_s=5.5), 422, "$.duration_s", "got `float`"),
    case("duration-bool", v1(duration_s=True), 422, "$.duration_s", "got `bool`"),
    case("locations-string", v1(locations=PLACE), 422, "$.locations", "got `str`"),
    case("locations-with-number", v1(locations=[PLACE, 3]), 422, "$.locations[1]",
         "Expected `str`, got `int`"),
    case("location-number", v1(locations=DROP, location=5), 422, "$.location", "got `int`"),
    case("id-number", v1(id=12345), 422, "$.id", "got `int`"),
    case("kind-number", v1(kind=1), 422, "$.kind", "got `int`"),
    case("title-array", v1(title=["a"]), 422, "$.title", "got `array`"),
    case("instructions-object", v1(instructions={"a": 1}), 422, "$.instructions",
         "got `object`"),
    # -- missing or contradictory fields
    case("missing-type", v1(type=DROP), 422, "$.type", "missing required field `type`"),
    case("missing-issued_at", v1(issued_at=DROP), 422, "$.issued_at",
         "missing required field `issued_at`"),
    case("missing-duration-for-alert", v1(duration_s=DROP), 422, "$.duration_s",
         "required for kind 'alert'"),
    case("missing-locations", v1(locations=DROP), 422, "$.locations",
         "name at least one location"),
    case("location-and-locations", v1(location=PLACE), 422, "$.location",
         "either `location` or `locations`"),
    case("empty-locations", v1(locations=[]), 422, "$.locations", "is empty"),
    case("blank-location-in-list", v1(locations=[PLACE, "   "]), 422, "$.locations[1]",
         "is blank"),
    case("blank-single-location", v1(locations=DROP, location="   "), 422, "$.location",
         "is blank"),
    case("empty-string-location", v1(locations=[""]), 422, "$.locations[0]",
         "length >= 1"),
    # -- batches
    case("empty-batch", b"[]", 422, "$", "empty batch"),
    case("batch-over-default-limit", barrage(1001), 422, "$",
         "batch of 1001 alerts exceeds the limit of 1000"),
    case("batch-over-small-limit", barrage(4), 422, "$",
         "batch of 4 alerts exceeds the limit of 3", rules=Settings(max_alerts=3).ingest_rules()),
    case("barrage-bad-duration-in-middle", barrage(5, 2, duration_s=0), 422,
         "$[2].duration_s", "Expected `int` >= 1"),
    case("barrage-missing-locations-in-middle", barrage(5, 3, locations=DROP), 422,
         "$[3].locations", "name at least one location"),
    case("barrage-unknown-field-in-middle", barrage(4, 1, severity="high"), 422,
         "$[1].severity", "unknown field `severity`"),
    case("barrage-stale-in-middle", barrage(3, 1, issued_at=iso(timedelta(hours=-25))),
         422, "$[1].issued_at", "in the past"),
    # -- value ranges
    case("duration-zero", v1(duration_s=0), 422, "$.duration_s", "Expected `int` >= 1"),
    case("duration-negative", v1(duration_s=-30), 422, "$.duration_s", ">= 1"),
    case("duration-86401", v1(duration_s=86_401), 422, "$.duration_s",
         "Expected `int` <= 86400"),
    case("duration-huge-int", v1(duration_s=10**30), 422, "$.duration_s", "<= 86400"),
    case("issued_at-no-offset", v1(issued_at=datetime.now(UTC).replace(tzinfo=None)
                                  .isoformat()),
         422, "$.issued_at", "timezone"),
    case("issued_at-not-a-date", v1(issued_at="yesterday"), 422, "$.issued_at",
         "Invalid RFC3339"),
    case("issued_at-date-only", v1(issued_at=datetime.now(UTC).date().isoformat()), 422,
         "$.issued_at", "Invalid RFC3339"),
    case("issued_at-25h-old", lambda: encode(good_v1(issued_at=iso(timedelta(hours=-25)))),
         422, "$.issued_at", "is more than 86400 s in the past"),
    case("issued_at-10min-ahead",
         lambda: encode(good_v1(issued_at=iso(timedelta(minutes=10)))),
         422, "$.issued_at", "is more than 300 s in the future"),
    case("issued_at-ahead-of-tight-rule",
         lambda: encode(good_v1(issued_at=iso(timedelta(seconds=90)))),
         422, "$.issued_at", "is more than 60 s in the future",
         rules=Settings(max_ahead_s=60).ingest_rules()),
    # -- text content
    case("type-control-char", v1(type="mis\x07siles"), 422, "$.type", "control characters"),
    case("type-c1-control", v1(type="mis\x85siles"), 422, "$.type", "control characters"),
    case("type-blank", v1(type="   "), 422, "$.type", "is blank"),
    case("type-over-200", v1(type="x" * 201), 422, "$.type", "length <= 200"),
    case("category-unknown", v1(category="rain"), 422, "$.category", "Invalid enum value"),
    case("type-trailing-newline", v1(type="missiles\n"), 422, "$.type", CONTROL_OR_REGEX),
    case("type-empty", v1(type=""), 422, "$.type", "length >= 1"),
    case("title-control-char", v1(title="Rockets\x00now"), 422, "$.title",
         "control characters"),
    case("title-newline", v1(title="Rockets\nnow"), 422, "$.title", "control characters"),
    case("instructions-nul", v1(instructions="Go inside\x00"), 422, "$.instructions",
         "control characters"),
    case("location-control-char", v1(locations=["אבו\x1b-גוש"]), 422, "$.locations[0]",
         "control characters"),
    case("single-location-tab", v1(locations=DROP, location="Abu\tGhosh"), 422,
         "$.location", "control characters"),
    case("id-control-char", v1(id="src-1\n"), 422, "$.id", "control characters"),
    case("id-129-chars", v1(id="x" * 129), 422, "$.id", "length <= 128"),
    case("id-empty", v1(id=""), 422, "$.id", "length >= 1"),
    case("unknown-field", v1(severity="high"), 422, "$.severity", "unknown field `severity`"),
    case("invalid-kind", v1(kind="drill"), 422, "$.kind", "Invalid enum value 'drill'"),
    case("location-over-200-chars", v1(locations=["a" * 201]), 422, "$.locations[0]",
         "length <= 200"),
    # -- HTTP-level
    case("body-over-1MiB", b'{"type": "' + b"a" * (1 << 20) + b'"}', 413, "$",
         "exceeds the limit of 1048576 bytes"),
    case("content-type-text-plain", v1(), 415, "Content-Type", "application/json",
         headers=headers(**{"Content-Type": "text/plain"})),
    case("content-type-missing", v1(), 415, "Content-Type", "application/json",
         headers=headers(**{"Content-Type": None})),
    case("content-type-form", v1(), 415, "Content-Type", "application/json",
         headers=headers(**{"Content-Type": "application/x-www-form-urlencoded"})),
    case("auth-missing", v1(), 401, "Authorization", "valid source token",
         headers=headers(Authorization=None), response_headers=UNAUTHORIZED),
    case("auth-wrong-token", v1(), 401, "Authorization", "valid source token",
         headers=headers(Authorization="Bearer not-the-token"),
         response_headers=UNAUTHORIZED),
    case("auth-token-prefix", v1(), 401, "Authorization", "valid source token",
         headers=headers(Authorization=f"Bearer {TOKEN[:-1]}"),
         response_headers=UNAUTHORIZED),
    case("auth-basic-scheme", v1(), 401, "Authorization", "valid source token",
         headers=headers(Authorization=f"Basic {TOKEN}"), response_headers=UNAUTHORIZED),
    case("auth-bare-token", v1(), 401, "Authorization", "valid source token",
         headers=headers(Authorization=TOKEN), response_headers=UNAUTHORIZED),
    case("auth-bearer-without-token", v1(), 401, "Authorization", "valid source token",
         headers=headers(Authorization="Bearer "), response_headers=UNAUTHORIZED),
    case("auth-before-validation", b"not json", 401, "Authorization", "valid source token",
         headers=headers(Authorization=None), response_headers=UNAUTHORIZED),
    case("strict-unknown-location", v1(locations=[PLACE, "Atlantis"]), 422,
         "$.locations[1]", "unknown location 'Atlantis'",
         rules=Settings(strict_locations=True).ingest_rules()),
    case("strict-unknown-single-location", v1(locations=DROP, location="  Atlantis "), 422,
         "$.location", "unknown location 'Atlantis'",
         rules=Settings(strict_locations=True).ingest_rules()),
    # -- the legacy route
    case("legacy-duration-zero", legacy(duration=0), 422, "$.duration", "> 0",
         route="/api/alerts"),
    case("legacy-duration-negative", legacy(duration=-5), 422, "$.duration", "> 0",
         route="/api/alerts"),
    case("legacy-duration-over-1440", legacy(duration=1441), 422, "$.duration", "<= 1440",
         route="/api/alerts"),
    case("legacy-duration-string", legacy(duration="5"), 422, "$.duration", "got `str`",
         route="/api/alerts"),
    case("legacy-missing-timestamp", legacy(timestamp=DROP), 422, "$.timestamp",
         "missing required field `timestamp`", route="/api/alerts"),
    case("legacy-naive-timestamp",
         legacy(timestamp=datetime.now(UTC).replace(tzinfo=None).isoformat()), 422,
         "$.timestamp", "timezone", route="/api/alerts"),
    case("legacy-timestamp-not-a-date", legacy(timestamp="now"), 422, "$.timestamp",
         "Invalid RFC3339", route="/api/alerts"),
    case("legacy-epoch-25h-old",
         lambda: encode(good_legacy(timestamp=datetime.now(UTC).timestamp() - 25 * 3600)),
         422, "$.timestamp", "in the past", route="/api/alerts"),
    case("legacy-epoch-zero", legacy(timestamp=0), 422, "$.timestamp", "> 0",
         route="/api/alerts"),
    case("legacy-trailing-slash-bad-duration", legacy(duration=0), 422, "$.duration",
         "> 0", route="/api/alerts/"),
    case("legacy-trailing-slash-malformed", b"{", 400, "$", "malformed JSON",
         route="/api/alerts/"),
    case("legacy-blank-location", legacy(location="  "), 422, "$.location", "is blank",
         route="/api/alerts"),
    case("legacy-strict-unknown-location", legacy(location="Atlantis"), 422, "$.location",
         "unknown location 'Atlantis'", route="/api/alerts",
         rules=Settings(strict_locations=True).ingest_rules()),
    case("legacy-batch-bad-in-middle",
         lambda: encode([good_legacy(), good_legacy(duration=0), good_legacy()]), 422,
         "$[1].duration", "> 0", route="/api/alerts"),
    case("legacy-type-trailing-newline", legacy(type="missiles\n"), 422, "$.type",
         CONTROL_OR_REGEX,
         route="/api/alerts"),
    case("legacy-auth-missing", legacy(), 401, "Authorization", "valid source token",
         route="/api/alerts", headers=headers(Authorization=None),
         response_headers=UNAUTHORIZED),
    case("legacy-text-plain", legacy(), 415, "Content-Type", "application/json",
         route="/api/alerts", headers=headers(**{"Content-Type": "text/plain"})),
]


@pytest.fixture
def make_client(catalog: Catalog) -> Iterator[Callable[[IngestRules], tuple[TestClient,
                                                                              MemoryQueue]]]:
    clients: list[TestClient] = []

    def make(rules: IngestRules) -> tuple[TestClient, MemoryQueue]:
        queue = MemoryQueue()
        config = ListenerConfig(tokens={"radar": TOKEN}, rules=rules)
        # raise_server_exceptions=False: a crash must show up as the 500 a source would see.
        client = TestClient(create_listener_app(queue, catalog, config),
                            raise_server_exceptions=False)
        clients.append(client)
        return client, queue

    yield make
    for client in clients:
        client.close()


def test_case_table_is_big_enough() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("bad", CASES)
def test_bad_request_is_rejected_and_nothing_enqueued(
    bad: Case, make_client: Callable[[IngestRules], tuple[TestClient, MemoryQueue]]
) -> None:
    client, queue = make_client(bad.rules)
    body = bad.body() if callable(bad.body) else bad.body
    response = client.post(bad.route, content=body, headers=bad.headers)

    assert response.status_code < 500, response.text
    assert response.status_code == bad.status, response.text
    assert response.headers["content-type"].startswith("application/json")
    payload = response.json()
    assert set(payload) == ERROR_KEYS
    assert payload["status"] == bad.status
    assert payload["field"] == bad.field, payload
    reasons = (bad.reason,) if isinstance(bad.reason, str) else bad.reason
    assert any(reason in payload["reason"] for reason in reasons), payload
    assert isinstance(payload["error"], str) and payload["error"]
    for name, value in bad.response_headers.items():
        assert response.headers.get(name) == value
    assert queue.depth() == 0


@pytest.mark.parametrize("route", ["/v1/alerts", "/api/alerts", "/api/alerts/"])
def test_oversized_chunked_body_is_413_without_content_length(
    route: str, make_client: Callable[[IngestRules], tuple[TestClient, MemoryQueue]]
) -> None:
    client, queue = make_client(DEFAULT_SETTINGS.ingest_rules())

    def chunks() -> Iterator[bytes]:
        yield b'{"type": "'
        for _ in range(17):
            yield b"a" * 65_536
        yield b'"}'

    response = client.post(route, content=chunks(), headers=JSON_HEADERS)
    assert "content-length" not in {name.lower() for name in response.request.headers}
    assert response.status_code == 413, response.text
    assert response.json()["field"] == "$"
    assert queue.depth() == 0


def test_body_at_the_limit_is_not_413(
    make_client: Callable[[IngestRules], tuple[TestClient, MemoryQueue]]
) -> None:
    client, queue = make_client(DEFAULT_SETTINGS.ingest_rules())
    alert = encode(good_v1())
    padded = alert + b" " * ((1 << 20) - len(alert))
    assert len(padded) == 1 << 20
    response = client.post("/v1/alerts", content=padded, headers=JSON_HEADERS)
    assert response.status_code == 202, response.text
    assert queue.depth() == 1


@pytest.mark.parametrize("route, body", [
    ("/v1/alerts", v1()),
    ("/api/alerts", legacy()),
    ("/api/alerts/", legacy()),
])
@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "application/alert+json"])
def test_control_good_request_is_accepted_and_enqueued(
    route: str, body: Callable[[], bytes], content_type: str,
    make_client: Callable[[IngestRules], tuple[TestClient, MemoryQueue]],
) -> None:
    """The positive control: the same client and queue do accept and count a good alert."""
    client, queue = make_client(DEFAULT_SETTINGS.ingest_rules())
    response = client.post(route, content=body(),
                           headers=headers(**{"Content-Type": content_type}))
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == 1
    assert queue.depth() == 1


def test_a_valid_barrage_at_the_limit_is_accepted(
    make_client: Callable[[IngestRules], tuple[TestClient, MemoryQueue]]
) -> None:
    client, queue = make_client(Settings(max_alerts=3).ingest_rules())
    response = client.post("/v1/alerts", content=barrage(3)(), headers=JSON_HEADERS)
    assert response.status_code == 202, response.text
    assert queue.depth() == 3
