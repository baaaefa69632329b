"""Alert types as the world writes them: free text, a category from the taxonomy, real senders.

Through the real listener app with a `MemoryQueue`; queued bodies are decoded as a processor
would decode them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from alertflow.backends.memory import MemoryQueue
from alertflow.domain.alert import Alert, decode_alert, encode_alert
from alertflow.domain.locations import Catalog
from alertflow.listener import ListenerConfig, create_listener_app
from alertflow.roles.demo import _alert as demo_alert
from alertflow.settings import DEFAULT_SETTINGS

TOKEN = "s3cret-token-0123456789"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
PLACE = "אבו גוש"


@pytest.fixture
def listener(catalog: Catalog) -> Iterator[tuple[TestClient, MemoryQueue]]:
    queue = MemoryQueue()
    app = create_listener_app(queue, catalog, ListenerConfig(tokens={"radar": TOKEN},
                                                             rules=DEFAULT_SETTINGS.ingest_rules()))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, queue


def iso(delta: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) + delta).isoformat().replace("+00:00", "Z")


def post(client: TestClient, route: str, body: object) -> tuple[int, dict[str, Any]]:
    response = client.post(route, content=json.dumps(body, ensure_ascii=False).encode(),
                           headers=HEADERS)
    return response.status_code, response.json()


def queued(queue: MemoryQueue) -> list[Alert]:
    alerts = []
    while not queue._ready_messages.empty():
        alerts.append(decode_alert(queue._ready_messages.get_nowait().body))
    return alerts


@pytest.mark.parametrize("text, category", [
    ("Rocket Alert", "missiles"),
    ("ירי רקטות וטילים", "missiles"),
    ("Hostile aircraft intrusion", "hostile_aircraft"),
    ("בדקות הקרובות צפויות להתקבל התרעות באזורך", "early_warning"),
    ("Solar flare | \"quoted\" \\ 🚀 \u200f", "general"),
    ("x" * 200, "general"),
])
def test_a_free_text_type_is_kept_and_gets_its_category(
    listener: tuple[TestClient, MemoryQueue], text: str, category: str
) -> None:
    client, queue = listener
    status, _ = post(client, "/v1/alerts", {"type": text, "issued_at": iso(),
                                            "locations": [PLACE], "duration_s": 90})
    assert status == 202
    (alert,) = queued(queue)
    assert (alert.type, alert.category, alert.kind) == (text, category, "alert")


def test_a_source_may_name_the_category_itself(
    listener: tuple[TestClient, MemoryQueue]
) -> None:
    client, queue = listener
    status, _ = post(client, "/v1/alerts", {"type": "Alerta de cohetes", "category": "missiles",
                                            "issued_at": iso(), "locations": [PLACE],
                                            "duration_s": 90})
    assert status == 202
    (alert,) = queued(queue)
    assert (alert.type, alert.category) == ("Alerta de cohetes", "missiles")


@pytest.mark.parametrize("route, body", [
    ("/v1/alerts", {"type": "ירי רקטות וטילים - האירוע הסתיים", "issued_at": iso(),
                    "locations": [PLACE]}),
    ("/v1/alerts", {"type": "Stand down", "category": "all_clear", "issued_at": iso(),
                    "locations": [PLACE], "duration_s": 60}),
    ("/api/alerts", {"type": "האירוע הסתיים", "location": PLACE, "timestamp": iso(),
                     "duration": 1}),
])
def test_an_all_clear_by_any_name_is_a_cancel(
    listener: tuple[TestClient, MemoryQueue], route: str, body: dict[str, Any]
) -> None:
    client, queue = listener
    status, answer = post(client, route, body)
    assert status == 202, answer
    (alert,) = queued(queue)
    assert (alert.kind, alert.category, alert.duration_s) == ("cancel", "all_clear", 0)


def test_the_original_generator_payload_is_accepted_unchanged(
    listener: tuple[TestClient, MemoryQueue]
) -> None:
    client, queue = listener
    start = iso(timedelta(minutes=10))
    status, answer = post(client, "/api/alerts/", {"location": "Tel Aviv",
                                                    "type": "Rocket Alert",
                                                    "timestamp": start, "duration": 10})
    assert status == 202, answer
    (alert,) = queued(queue)
    assert (alert.type, alert.category, alert.duration_s) == ("Rocket Alert", "missiles", 600)
    # The future timestamp is the window's start.
    assert alert.issued_at == int(datetime.fromisoformat(start).timestamp() * 1000)


@pytest.mark.parametrize("route, ahead, status", [
    ("/api/alerts", timedelta(minutes=14, seconds=50), 202),
    ("/api/alerts", timedelta(minutes=16), 422),
    ("/v1/alerts", timedelta(minutes=10), 422),  # --max-ahead-s (300 s) still holds here
])
def test_how_far_ahead_each_route_accepts(
    listener: tuple[TestClient, MemoryQueue], route: str, ahead: timedelta, status: int
) -> None:
    client, queue = listener
    body: dict[str, Any] = (
        {"location": PLACE, "type": "Rocket Alert", "timestamp": iso(ahead), "duration": 1}
        if route == "/api/alerts" else
        {"type": "Rocket Alert", "issued_at": iso(ahead), "locations": [PLACE],
         "duration_s": 60})
    answer_status, answer = post(client, route, body)
    assert answer_status == status, answer
    assert len(queued(queue)) == (1 if status == 202 else 0)
    if status == 422:
        assert "in the future" in answer["reason"]


@pytest.mark.parametrize("kind, category", [("alert", "missiles"), ("alert", "early_warning"),
                                            ("alert", "hostile_aircraft"),
                                            ("cancel", "missiles")])
def test_demo_alerts_carry_real_titles_and_their_categories(kind: str, category: str) -> None:
    alert = demo_alert(kind, category, [PLACE], 60 if kind == "alert" else 0)
    assert alert.category == ("all_clear" if kind == "cancel" else category)
    assert decode_alert(encode_alert(alert)) == alert  # a valid queue message
