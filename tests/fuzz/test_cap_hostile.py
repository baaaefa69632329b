"""Hostile CAP at the listener's door: each gets a 4xx naming the problem, nothing enqueued.

The listener is the real CLI on the real broker, its queue consumed by nobody: the queue's
depth after each request is exactly what was accepted.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.feed_samples import SDEROT_POLYGON, cap_message
from tests.fuzz.conftest import Listener
from tests.fuzz.shapes import circle_text, polygon_text
from tests.support import TOKEN, queue_depths

pytestmark = pytest.mark.fuzz

NS = "urn:oasis:names:tc:emergency:cap:1.2"


def valid(identifier: str = "ok", polygon: str | None = SDEROT_POLYGON,
          event: str = "Rocket Alert", circle: str | None = None) -> bytes:
    sent = datetime.now(UTC).replace(microsecond=0)
    return cap_message(identifier, sent=sent, polygon=polygon, circle=circle, event=event,
                       expires=sent + timedelta(minutes=5))


def with_doctype(doctype: str, identifier: str) -> bytes:
    body = valid().decode()
    body = body.replace('<?xml version="1.0" encoding="UTF-8"?>',
                        f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}')
    return body.replace("<identifier>ok</identifier>", f"<identifier>{identifier}</identifier>"
                        ).encode()


LAUGHS = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
HOSTILE = {
    "billion laughs": (with_doctype(f'<!DOCTYPE alert [<!ENTITY lol0 "lol">{LAUGHS}]>',
                                    "&lol9;"), 400, "DTD"),
    "external entity": (with_doctype(
        '<!DOCTYPE alert [<!ENTITY secret SYSTEM "file:///etc/passwd">]>', "&secret;"),
        400, "DTD"),
    "external DTD": (with_doctype('<!DOCTYPE alert SYSTEM "http://127.0.0.1:9/cap.dtd">', "x"),
                     400, "DTD"),
    "parameter entity": (with_doctype(
        '<!DOCTYPE alert [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p"> %p;]>', "x"), 400, "DTD"),
    "deep nesting": (valid().replace(b"<headline>", b"<x>" * 50_000 + b"</x>" * 50_000
                                     + b"<headline>"), 422, "nested deeper"),
    "huge polygon": (valid(polygon=" ".join(["31.5,34.6"] * 30_000)), 422, "more than"),
    # Each 1,000 km circle costs milliseconds: thousands of them would stall the listener.
    "thousands of circles": (valid().replace(
        b"</area>", b"<circle>31.5,34.6 1000</circle>" * 5_000 + b"</area>"), 422,
        "more than 100 in one <info>"),
    "CAP 1.1 namespace": (valid().replace(b":cap:1.2", b":cap:1.1"), 422,
                          "urn:oasis:names:tc:emergency:cap:1.1"),
    "no namespace": (valid().replace(f' xmlns="{NS}"'.encode(), b""), 422, "namespace none"),
    "not CAP at all": (b"<feed xmlns='http://www.w3.org/2005/Atom'/>", 422, "expected <alert>"),
    "schema violation": (valid().replace(b"<urgency>Immediate", b"<urgency>Soon"), 422,
                         "Immediate"),
    "malformed": (valid()[:-20], 400, "malformed XML"),
    "not UTF-8 as declared": (valid().replace(b"Area", b"\xff\xfe"), 400, "malformed XML"),
    "over 1 MiB": (valid(event="x" * (1 << 20)), 413, "limit"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_cap_is_refused_and_nothing_enqueued(fuzz_listener: Listener, case: str) -> None:
    body, status, reason = HOSTILE[case]
    response = httpx.post(fuzz_listener.url + "/v1/cap", content=body, timeout=30, headers={
        "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/cap+xml"})
    answer = response.json()
    assert response.status_code == status, answer
    assert reason in answer["reason"], answer
    assert answer["field"]
    depths = queue_depths(fuzz_listener.amqp_url, fuzz_listener.queue)
    assert depths == (fuzz_listener.accepted, 0)


POLYGON = "/alert/info[1]/area[1]/polygon[1]"
CIRCLE = "/alert/info[1]/area[1]/circle[1]"
BAD_GEOMETRY = {
    "NaN in a polygon": ("31.5,34.6 31.6,nan 31.6,34.7 31.5,34.6", None, POLYGON, "range"),
    "infinity in a polygon": ("31.5,34.6 31.6,inf 31.6,34.7 31.5,34.6", None, POLYGON, "range"),
    "an open ring": ("31.5,34.6 31.6,34.6 31.6,34.7 31.5,34.7", None, POLYGON, "first and last"),
    "three points": ("31.5,34.6 31.6,34.6 31.5,34.6", None, POLYGON, "at least four"),
    "text for numbers": ("a,b c,d e,f a,b", None, POLYGON, "numbers"),
    "latitude past the pole": ("91,34.6 31.6,34.6 31.6,34.7 91,34.6", None, POLYGON, "range"),
    "a circle of NaN km": (None, "31.5,34.6 nan", CIRCLE, "radius"),
    "a negative radius": (None, "31.5,34.6 -1", CIRCLE, "radius"),
    "a circle over 1,000 km": (None, "31.5,34.6 1000.5", CIRCLE, "radius"),
    "a circle without a radius": (None, "31.5,34.6", CIRCLE, "radius_km"),
    "a circle off the globe": (None, "31.5,200 5", CIRCLE, "range"),
}


def post_cap(listener: Listener, body: bytes) -> httpx.Response:
    return httpx.post(listener.url + "/v1/cap", content=body, timeout=30, headers={
        "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/cap+xml"})


@pytest.mark.parametrize("case", list(BAD_GEOMETRY))
def test_bad_geometry_is_a_422_naming_the_element(fuzz_listener: Listener, case: str) -> None:
    polygon, circle, field, reason = BAD_GEOMETRY[case]
    response = post_cap(fuzz_listener, valid(polygon=polygon, circle=circle))
    answer = response.json()
    assert (response.status_code, answer["field"]) == (422, field), answer
    assert reason in answer["reason"], answer
    assert queue_depths(fuzz_listener.amqp_url, fuzz_listener.queue) == (
        fuzz_listener.accepted, 0)


@settings(max_examples=150, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.one_of(polygon_text.map(lambda t: (t, None)), circle_text.map(lambda t: (None, t))))
def test_any_shape_is_accepted_or_a_422_naming_its_element(
    fuzz_listener: Listener, shape: tuple[str | None, str | None]
) -> None:
    """Whatever a sender puts in <polygon> or <circle> (as XML text), the listener answers 202
    or a 422 naming that element: never a 5xx, never a refusal blamed on something else."""
    polygon, circle = (None if text is None else escape("".join(
        c for c in text if c in "\t\n\r" or " " <= c <= "\ud7ff" or "\ue000" <= c <= "\ufffd"))
        for text in shape)
    response = post_cap(fuzz_listener, valid(f"shape-{uuid.uuid4().hex}", polygon=polygon,
                                             circle=circle))
    answer = response.json()
    if response.status_code == 202:
        fuzz_listener.accepted += answer["accepted"]
    else:
        assert response.status_code == 422, answer
        assert answer["field"] == (POLYGON if polygon is not None else CIRCLE), answer


def test_wrong_media_type_is_415(fuzz_listener: Listener) -> None:
    response = httpx.post(fuzz_listener.url + "/v1/cap", content=valid(), headers={
        "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    assert response.status_code == 415 and "cap+xml" in response.json()["reason"]


def test_a_valid_message_is_what_gets_through(fuzz_listener: Listener) -> None:
    """The refusals above mean something only if the same listener accepts a valid message."""
    before, _ = queue_depths(fuzz_listener.amqp_url, fuzz_listener.queue)
    response = httpx.post(fuzz_listener.url + "/v1/cap", content=valid("accepted-one"), headers={
        "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/cap+xml"})
    assert response.status_code == 202, response.text
    fuzz_listener.accepted += 1
    assert queue_depths(fuzz_listener.amqp_url, fuzz_listener.queue) == (before + 1, 0)
