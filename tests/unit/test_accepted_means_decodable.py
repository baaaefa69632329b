"""What the listener accepts, a processor can apply: every alert is checked against the queue
message's own invariant (`decode_alert`) before it is published, whatever format it came in.

A CAP message whose <headline> had a line break used to get a 202 and then be dead-lettered by
the processor ("Expected text without control characters - at $.title"): accepted, never shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from alertflow.backends.memory import MemoryQueue
from alertflow.catalog import load_catalog
from alertflow.domain.alert import Alert, AlertRejected, check_queue_message, decode_alert
from alertflow.listener import ListenerConfig, create_listener_app
from alertflow.listener.ingest import Ingest
from tests.feed_samples import SDEROT, SDEROT_POLYGON, cap_message

TOKEN = "s3cret-token-0123456789"
CATALOG = load_catalog()


@pytest.fixture
def client() -> Iterator[tuple[TestClient, MemoryQueue]]:
    queue = MemoryQueue()
    app = create_listener_app(queue, CATALOG, ListenerConfig(tokens={"radar": TOKEN}))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client, queue


def queued(queue: MemoryQueue) -> list[Alert]:
    bodies = []
    while not queue._ready_messages.empty():
        bodies.append(decode_alert(queue._ready_messages.get_nowait().body))
    return bodies


@pytest.mark.parametrize("headline", ["Rockets\nover Sderot", "Rockets\r\n over\tSderot "])
def test_a_cap_headline_with_line_breaks_is_one_line_the_processor_takes(
        client: tuple[TestClient, MemoryQueue], headline: str) -> None:
    test_client, queue = client
    body = cap_message("h1", sent=datetime.now(UTC).replace(microsecond=0),
                       polygon=SDEROT_POLYGON).replace(
        b"<headline>Rocket Alert</headline>", f"<headline>{headline}</headline>".encode())
    answer = test_client.post("/v1/cap", content=body, headers={
        "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/cap+xml"})
    assert answer.status_code == 202, answer.text
    [alert] = queued(queue)  # decode_alert, as the processor does: no dead letter
    assert alert.title == "Rockets over Sderot" and alert.locations == [SDEROT]


def _alert(**changes: Any) -> Alert:
    fields: dict[str, Any] = {
        "id": "a1", "kind": "alert", "type": "missiles", "locations": ["אבו גוש"],
        "issued_at": 1_700_000_000_000, "duration_s": 60, "received_at": 1_700_000_000_000,
        "source": "radar", **changes}
    return Alert(**fields)


@pytest.mark.parametrize(("changes", "field"), [
    ({"title": "two\nlines"}, "$.title"),
    ({"type": "bell\x07"}, "$.type"),
    ({"duration_s": 0}, "$.duration_s"),
    ({"locations": []}, "$.locations"),
    ({"title": "x" * 201}, "$.title"),
])
def test_an_alert_no_processor_would_take_is_refused_naming_the_field(
        changes: dict[str, Any], field: str) -> None:
    with pytest.raises(AlertRejected) as refused:
        check_queue_message(_alert(**changes))
    assert (refused.value.status, refused.value.field) == (422, field)


def test_a_parser_that_produces_a_bad_alert_gets_a_422_and_nothing_is_enqueued() -> None:
    # Whatever a format's parser yields, the listener checks it before publishing.
    queue = MemoryQueue()
    ingest = Ingest(queue, CATALOG, ListenerConfig(tokens={"radar": TOKEN}))

    def parse(_body: bytes, **_: Any) -> list[Alert]:
        return [_alert(id="ok"), _alert(id="bad", title="line\nbreak")]

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def route(request: Request) -> Response:
        return await ingest.handle(request, parse)

    app = Starlette(routes=[Route("/x", route, methods=["POST"])])
    with TestClient(app) as test_client:
        answer = test_client.post("/x", content=b"{}", headers={
            "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    assert answer.status_code == 422
    assert answer.json()["field"] == "$[1].title"
    assert queued(queue) == []
