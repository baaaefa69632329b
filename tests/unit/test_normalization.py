"""Good alerts, in every shape a source may send them, become the same queue message.

The requests go through the real listener app with a `MemoryQueue`; the queued bodies are read
back with `decode_alert`, so what is compared is exactly what a processor would consume.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from starlette.testclient import TestClient

from alertflow.backends.memory import MemoryQueue
from alertflow.domain.alert import Alert, IngestRules, decode_alert
from alertflow.domain.locations import Catalog
from alertflow.listener import ListenerConfig, create_listener_app
from alertflow.settings import DEFAULT_SETTINGS, Settings

TOKEN = "s3cret-token-0123456789"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
AREA = "אבו גוש"  # the id (official Hebrew name) of Abu Ghosh in the bundled catalog
OTHER_AREA = "אבו סנאן"  # Abu Snan
NAMES = {
    "hebrew-id": AREA,
    "english": "Abu Ghosh",
    "russian": "Абу-Гош",
    "arabic": "ابو غوش",
    "english-spacing-and-case": "  abu   GHOSH\u00a0 ",
    "hebrew-padded": f"   {AREA}  ",
    "russian-upper": "АБУ-ГОШ",
}
# Fields of a queue message that must not depend on the shape the source used.
COMPARED = ("kind", "type", "locations", "issued_at", "duration_s", "source", "title",
            "instructions", "unknown_locations")

Client = tuple[TestClient, MemoryQueue]


@pytest.fixture
def make_client(catalog: Catalog) -> Iterator[Callable[..., Client]]:
    clients: list[TestClient] = []

    def make(rules: IngestRules | None = None) -> Client:
        queue = MemoryQueue()
        config = ListenerConfig(tokens={"radar": TOKEN},
                                rules=rules or DEFAULT_SETTINGS.ingest_rules())
        client = TestClient(create_listener_app(queue, catalog, config),
                            raise_server_exceptions=False)
        clients.append(client)
        return client, queue

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def issued_ms() -> int:
    """A fresh issued-at, whole milliseconds, so every encoding of it is exact."""
    return int(time.time() * 1000) - 5_000


def rfc3339(ms: int) -> str:
    moment = datetime.fromtimestamp(ms // 1000, UTC).replace(microsecond=(ms % 1000) * 1000)
    return moment.isoformat()


def drain(queue: MemoryQueue) -> list[tuple[Alert, str | None]]:
    """Every queued message, decoded, with its AMQP message id."""
    messages = []
    while not queue._ready_messages.empty():
        message = queue._ready_messages.get_nowait()
        messages.append((decode_alert(message.body), message.message_id))
    return messages


def post(client: TestClient, route: str, body: object) -> dict[str, Any]:
    response = client.post(route, content=json.dumps(body, ensure_ascii=False).encode(),
                           headers=HEADERS)
    assert response.status_code == 202, response.text
    payload: dict[str, Any] = response.json()
    return payload


def compared(alert: Alert) -> dict[str, Any]:
    return {name: getattr(alert, name) for name in COMPARED}


def expected(issued_ms: int, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "kind": "alert", "type": "missiles", "locations": [AREA], "issued_at": issued_ms,
        "duration_s": 90, "source": "radar", "title": None, "instructions": None,
        "unknown_locations": [],
    }
    base.update(changes)
    return base


def v1_alert(issued_ms: int, **fields: Any) -> dict[str, Any]:
    return {"type": "missiles", "issued_at": rfc3339(issued_ms), "duration_s": 90, **fields}


def single_message(queue: MemoryQueue, payload: dict[str, Any]) -> Alert:
    messages = drain(queue)
    assert len(messages) == 1
    alert, message_id = messages[0]
    assert message_id == alert.id
    assert payload["ids"] == [alert.id]
    assert payload["accepted"] == 1
    return alert


def _with_offset(ms: int, offset: str) -> str:
    sign = 1 if offset[0] == "+" else -1
    hours, minutes = (int(part) for part in offset[1:].split(":"))
    shift = sign * (hours * 3600 + minutes * 60) * 1000
    local = datetime.fromtimestamp((ms + shift) // 1000, UTC).replace(
        microsecond=((ms + shift) % 1000) * 1000)
    return local.replace(tzinfo=None).isoformat() + offset


# -- v1: every accepted shape and every name of the place -------------------------------------

V1_SHAPES: dict[str, Callable[[int], object]] = {
    "object-locations": lambda ms: v1_alert(ms, locations=[AREA]),
    "object-location": lambda ms: v1_alert(ms, location=AREA),
    "one-element-barrage": lambda ms: [v1_alert(ms, locations=[AREA])],
    "one-element-barrage-location": lambda ms: [v1_alert(ms, location=AREA)],
    "offset-plus-03": lambda ms: v1_alert(ms, locations=[AREA],
                                          issued_at=_with_offset(ms, "+03:00")),
    "offset-minus-0530": lambda ms: v1_alert(ms, locations=[AREA],
                                             issued_at=_with_offset(ms, "-05:30")),
    "zulu": lambda ms: v1_alert(ms, locations=[AREA], issued_at=rfc3339(ms)
                                .replace("+00:00", "Z")),
    "explicit-kind-alert": lambda ms: v1_alert(ms, locations=[AREA], kind="alert"),
    "duplicate-names-collapse": lambda ms: v1_alert(
        ms, locations=[AREA, "Abu Ghosh", "Абу-Гош", "ابو غوش", " abu ghosh "]),
}
for _name_id, _name in NAMES.items():
    V1_SHAPES[f"locations-{_name_id}"] = (lambda name: lambda ms: v1_alert(
        ms, locations=[name]))(_name)
    V1_SHAPES[f"location-{_name_id}"] = (lambda name: lambda ms: v1_alert(
        ms, location=name))(_name)


@pytest.mark.parametrize("shape", list(V1_SHAPES))
def test_v1_shapes_and_names_normalize_to_the_same_message(
    shape: str, make_client: Callable[..., Client], issued_ms: int
) -> None:
    client, queue = make_client()
    payload = post(client, "/v1/alerts", V1_SHAPES[shape](issued_ms))
    alert = single_message(queue, payload)
    assert compared(alert) == expected(issued_ms)
    assert payload["unknown_locations"] == []
    uuid.UUID(alert.id)  # no id sent: the listener assigned a UUID
    assert alert.received_at >= issued_ms


def test_every_name_resolves_to_the_area_id(catalog: Catalog) -> None:
    area = catalog.get(AREA)
    assert area is not None
    assert area.names["en"] == "Abu Gosh"
    for name in [*NAMES.values(), *area.names.values()]:
        assert catalog.resolve(" ".join(name.split())) == AREA, name


# -- legacy: the seed's format on both routes, every timestamp encoding ----------------------

LEGACY_TIMESTAMPS: dict[str, Callable[[int], object]] = {
    "rfc3339": rfc3339,
    "rfc3339-offset": lambda ms: _with_offset(ms, "+02:00"),
    "epoch-seconds": lambda ms: ms / 1000,
    "epoch-milliseconds": lambda ms: ms,
}


@pytest.mark.parametrize("route", ["/api/alerts", "/api/alerts/"])
@pytest.mark.parametrize("timestamp", list(LEGACY_TIMESTAMPS))
@pytest.mark.parametrize("location", ["hebrew-id", "english", "arabic",
                                      "english-spacing-and-case"])
def test_legacy_format_normalizes_like_v1(
    route: str, timestamp: str, location: str, make_client: Callable[..., Client],
    issued_ms: int,
) -> None:
    client, queue = make_client()
    body = {"location": NAMES[location], "type": "missiles",
            "timestamp": LEGACY_TIMESTAMPS[timestamp](issued_ms), "duration": 1.5}
    payload = post(client, route, body)
    alert = single_message(queue, payload)
    assert compared(alert) == expected(issued_ms)
    assert alert.id.startswith("legacy-")


def test_legacy_and_v1_messages_are_identical_but_for_id_and_clock(
    make_client: Callable[..., Client], issued_ms: int
) -> None:
    client, queue = make_client()
    post(client, "/v1/alerts", v1_alert(issued_ms, locations=["Abu Ghosh"]))
    post(client, "/api/alerts", {"location": "ابو غوش", "type": "missiles",
                                 "timestamp": issued_ms, "duration": 1.5})
    (modern, _), (seed, _) = drain(queue)
    strip = {"id", "received_at", "source_names"}  # each keeps the name its source wrote
    assert ({k: v for k, v in msgspec.structs.asdict(modern).items() if k not in strip}
            == {k: v for k, v in msgspec.structs.asdict(seed).items() if k not in strip})


@pytest.mark.parametrize("minutes, seconds", [(1, 60), (0.5, 30), (10, 600), (1440, 86_400),
                                              (0.001, 1)])
def test_legacy_duration_minutes_become_seconds(
    minutes: float, seconds: int, make_client: Callable[..., Client], issued_ms: int
) -> None:
    client, queue = make_client()
    payload = post(client, "/api/alerts", {"location": AREA, "type": "missiles",
                                           "timestamp": rfc3339(issued_ms),
                                           "duration": minutes})
    assert single_message(queue, payload).duration_s == seconds


def test_legacy_retry_gets_the_same_id(
    make_client: Callable[..., Client], issued_ms: int
) -> None:
    client, queue = make_client()
    report = {"location": AREA, "type": "missiles", "timestamp": issued_ms, "duration": 2}
    first = post(client, "/api/alerts", report)
    again = post(client, "/api/alerts/", report)
    other = post(client, "/api/alerts", {**report, "duration": 3})
    assert first["ids"] == again["ids"]
    assert first["ids"] != other["ids"]
    messages = drain(queue)
    assert [message_id for _, message_id in messages] == [*first["ids"], *again["ids"],
                                                          *other["ids"]]
    assert compared(messages[0][0]) == compared(messages[1][0])


# -- ids, barrages, extras ---------------------------------------------------------------------

def test_source_sent_id_is_kept(make_client: Callable[..., Client], issued_ms: int) -> None:
    client, queue = make_client()
    payload = post(client, "/v1/alerts", v1_alert(issued_ms, id="radar-0001",
                                                  locations=["Abu Ghosh"]))
    assert payload["ids"] == ["radar-0001"]
    alert = single_message(queue, payload)
    assert alert.id == "radar-0001"
    assert compared(alert) == expected(issued_ms)


def test_same_source_id_twice_is_the_same_id(
    make_client: Callable[..., Client], issued_ms: int
) -> None:
    client, queue = make_client()
    body = v1_alert(issued_ms, id="radar-0002", location=AREA)
    assert post(client, "/v1/alerts", body)["ids"] == ["radar-0002"]
    assert post(client, "/v1/alerts", body)["ids"] == ["radar-0002"]
    assert [message_id for _, message_id in drain(queue)] == ["radar-0002", "radar-0002"]


def test_without_id_every_request_gets_a_fresh_uuid(
    make_client: Callable[..., Client], issued_ms: int
) -> None:
    client, queue = make_client()
    body = v1_alert(issued_ms, location=AREA)
    first = post(client, "/v1/alerts", body)["ids"][0]
    second = post(client, "/v1/alerts", body)["ids"][0]
    assert first != second
    assert uuid.UUID(first).version == 4
    assert [alert.id for alert, _ in drain(queue)] == [first, second]


def test_barrage_lists_every_id_in_order(
    make_client: Callable[..., Client], issued_ms: int
) -> None:
    client, queue = make_client()
    body = [v1_alert(issued_ms, id="b-0", location="Abu Ghosh"),
            v1_alert(issued_ms, location="Abu Snan"),
            v1_alert(issued_ms, id="b-2", locations=["Abu Snan", "Abu Ghosh"],
                     type="hostile_aircraft", duration_s=600)]
    payload = post(client, "/v1/alerts", body)
    assert payload["accepted"] == 3
    messages = drain(queue)
    assert payload["ids"] == [alert.id for alert, _ in messages]
    assert payload["ids"][0] == "b-0" and payload["ids"][2] == "b-2"
    uuid.UUID(payload["ids"][1])
    assert [alert.locations for alert, _ in messages] == [[AREA], [OTHER_AREA],
                                                          [OTHER_AREA, AREA]]
    assert compared(messages[2][0]) == expected(
        issued_ms, type="hostile_aircraft", locations=[OTHER_AREA, AREA], duration_s=600)


def test_title_instructions_and_cancel_are_carried(
    make_client: Callable[..., Client], issued_ms: int
) -> None:
    client, queue = make_client()
    post(client, "/v1/alerts", v1_alert(issued_ms, location=AREA, title="Rocket fire",
                                        instructions="Enter the shelter.\nStay 10 minutes."))
    post(client, "/v1/alerts", {"kind": "cancel", "type": "missiles", "locations": ["Abu Ghosh"],
                                "issued_at": rfc3339(issued_ms), "id": "all-clear-1"})
    (alert, _), (cancel, _) = drain(queue)
    assert compared(alert) == expected(issued_ms, title="Rocket fire",
                                       instructions="Enter the shelter.\nStay 10 minutes.")
    assert compared(cancel) == expected(issued_ms, kind="cancel", duration_s=0)
    assert cancel.id == "all-clear-1"


def test_unknown_locations_are_accepted_and_listed(
    make_client: Callable[..., Client], issued_ms: int
) -> None:
    client, queue = make_client()
    payload = post(client, "/v1/alerts", v1_alert(
        issued_ms, locations=["Atlantis", "Abu Ghosh", "  Atlantis ", "El  Dorado"]))
    assert payload["unknown_locations"] == ["Atlantis", "El Dorado"]
    alert = single_message(queue, payload)
    assert alert.locations == ["Atlantis", AREA, "El Dorado"]
    assert alert.unknown_locations == ["Atlantis", "El Dorado"]


def test_unknown_legacy_location_is_accepted_and_listed(
    make_client: Callable[..., Client], issued_ms: int
) -> None:
    client, queue = make_client()
    payload = post(client, "/api/alerts", {"location": "Atlantis", "type": "missiles",
                                           "timestamp": issued_ms, "duration": 1})
    assert payload["unknown_locations"] == ["Atlantis"]
    assert single_message(queue, payload).unknown_locations == ["Atlantis"]


def test_strict_mode_still_accepts_known_names(
    make_client: Callable[..., Client], issued_ms: int
) -> None:
    client, queue = make_client(Settings(strict_locations=True).ingest_rules())
    payload = post(client, "/v1/alerts", v1_alert(issued_ms, locations=["Abu Ghosh",
                                                                        "Абу-Гош"]))
    assert compared(single_message(queue, payload)) == expected(issued_ms)


# -- OpenAPI -----------------------------------------------------------------------------------

def _refs(node: object) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node))
    return set()


def test_openapi_is_json_and_references_the_alert_schema(
    make_client: Callable[..., Client]
) -> None:
    client, _ = make_client()
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.")
    schemas = document["components"]["schemas"]

    v1 = document["paths"]["/v1/alerts"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]
    assert "#/components/schemas/AlertIn" in _refs(v1)
    alert_in = schemas["AlertIn"]
    assert set(alert_in["required"]) == {"type", "issued_at"}
    assert {"id", "type", "category", "locations", "location", "issued_at", "duration_s",
            "kind", "title", "instructions"} == set(alert_in["properties"])
    assert alert_in.get("additionalProperties") is False

    legacy = document["paths"]["/api/alerts"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]
    assert "#/components/schemas/LegacyAlertIn" in _refs(legacy)
    assert set(schemas["LegacyAlertIn"]["required"]) == {"location", "type", "timestamp",
                                                         "duration"}
    for ref in _refs(document):
        assert ref.startswith("#/components/schemas/")
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
