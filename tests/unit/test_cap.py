"""CAP 1.2 in: schema validation naming the element, hostile XML refused, messages' meaning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest
import shapely

from alertflow.catalog import load_catalog
from alertflow.domain import cap
from alertflow.domain.aggregation import AggregationState
from alertflow.domain.alert import AlertRejected, IngestRules, decode_alert
from alertflow.domain.geo import AreaIndex
from alertflow.domain.incoming import to_alerts
from alertflow.schemas import cap12
from tests.feed_samples import (
    ASHKELON,
    ASHKELON_POLYGON,
    SDEROT,
    SDEROT_POLYGON,
    cap_message,
)
from tests.geo_reference import distance_to_outline_km, haversine_km, outlines

SENT = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
CATALOG = load_catalog()
INDEX = AreaIndex.of(CATALOG)
OUTLINES = outlines(CATALOG)


def parse(body: bytes) -> cap.CapMessage:
    return cap.parse(body, cap12(), INDEX)


def rejected(body: bytes) -> AlertRejected:
    with pytest.raises(AlertRejected) as caught:
        parse(body)
    return caught.value


def test_an_alert_with_a_polygon_covers_the_areas_inside() -> None:
    message = parse(cap_message("a1", sent=SENT, polygon=ASHKELON_POLYGON,
                                expires=SENT + timedelta(minutes=10)))
    [alert] = message.alerts
    assert sorted(alert.area_ids) == sorted(ASHKELON)
    assert (alert.kind, alert.category, alert.type) == ("alert", "missiles", "Rocket Alert")
    assert alert.issued_at == int(SENT.timestamp() * 1000) and alert.duration_s == 600
    assert alert.instructions == "Enter the protected space"
    # The description beside a shape counts only if it names an area.
    assert alert.names == ()
    assert alert.optional_names == (("Area", "/alert/info[1]/area[1]/areaDesc"),)


def test_a_circle_covers_by_great_circle_distance() -> None:
    # 1.5 km around Sderot's point: the nearest other outline (Nir Am's) is 1.66 km away.
    sderot = CATALOG.areas[SDEROT]
    [alert] = parse(cap_message("c1", sent=SENT, circle=f"{sderot.lat},{sderot.lng} 1.5")).alerts
    assert alert.area_ids == (SDEROT,)


def test_a_polygon_over_a_corner_of_an_area_selects_it() -> None:
    """A small box over the corner of Nahariya farthest from its point (3.6 km away), holding
    no area's point at all: only the outline can say it is Nahariya's."""
    nahariya = CATALOG.areas["נהריה"]
    lat, lng = max(nahariya.outline,
                   key=lambda v: haversine_km(nahariya.lat, nahariya.lng, *v))
    d = 0.001
    ring = f"{lat - d},{lng - d} {lat + d},{lng - d} {lat + d},{lng + d} {lat - d},{lng + d} " \
           f"{lat - d},{lng - d}"
    corner = shapely.box(lng - d, lat - d, lng + d, lat + d)
    assert not any(corner.covers(shapely.Point(a.lng, a.lat)) for a in CATALOG.areas.values())
    [alert] = parse(cap_message("corner", sent=SENT, polygon=ring)).alerts
    assert "נהריה" in alert.area_ids


def test_a_circle_reaching_an_areas_edge_but_not_its_point_selects_it() -> None:
    """Around Sderot's point: Nir Am's outline is 1.66 km away and its point 2.47 km; a radius
    50 m past the outline selects Nir Am, 50 m short of it does not."""
    sderot, nir_am = CATALOG.areas[SDEROT], CATALOG.areas["ניר עם"]
    edge = distance_to_outline_km(nir_am, sderot.lat, sderot.lng, OUTLINES["ניר עם"])
    assert haversine_km(sderot.lat, sderot.lng, nir_am.lat, nir_am.lng) > edge + 0.5
    centre = f"{sderot.lat},{sderot.lng}"
    [reaching] = parse(cap_message("c2", sent=SENT, circle=f"{centre} {edge + 0.05}")).alerts
    [short] = parse(cap_message("c3", sent=SENT, circle=f"{centre} {edge - 0.05}")).alerts
    assert "ניר עם" in reaching.area_ids and "ניר עם" not in short.area_ids


def test_area_desc_and_geocodes_are_names() -> None:
    body = cap_message("n1", sent=SENT, area_desc="Nahariya",
                       extra_area="<geocode><valueName>HFC</valueName><value>נהריה</value></geocode>")
    [alert] = parse(body).alerts
    assert alert.names == (("Nahariya", "/alert/info[1]/area[1]/areaDesc"),)
    assert alert.optional_names == (("נהריה", "/alert/info[1]/area[1]/geocode[1]/value"),)


SENDER = "alerts@example.org"
REF_A1 = f"{SENDER},a1,2026-11-30T05:59:00+00:00"


def test_every_alert_of_a_message_belongs_to_it() -> None:
    [alert] = parse(cap_message("a1", sent=SENT, polygon=SDEROT_POLYGON)).alerts
    assert alert.group == cap.message_group(SENDER, "a1")
    assert alert.supersedes == ()


def test_an_update_replaces_the_referenced_message() -> None:
    update = parse(cap_message("u1", sent=SENT, msg_type="Update", polygon=SDEROT_POLYGON,
                               references=REF_A1))
    assert update.references == ((SENDER, "a1", "2026-11-30T05:59:00+00:00"),)
    alert, end = update.alerts
    assert (alert.kind, alert.area_ids) == ("alert", (SDEROT,))
    assert alert.group == end.group == cap.message_group(SENDER, "u1")
    assert alert.supersedes == end.supersedes == (cap.message_group(SENDER, "a1"),)
    # Queued after its alerts: ends what none of them took over.
    assert (end.kind, end.area_ids, end.names) == ("cancel", (), ())


def test_an_alerts_references_supersede_nothing() -> None:
    [alert] = parse(cap_message("a2", sent=SENT, polygon=SDEROT_POLYGON,
                                references=f"{REF_A1} {SENDER},a2,2026-11-30T06:00:00+00:00")
                    ).alerts
    assert alert.supersedes == ()


def test_a_cancel_closes_what_the_referenced_messages_opened_without_naming_areas() -> None:
    # Two references, one of them twice: each message is superseded once.
    refs = f"{REF_A1} {SENDER},u1,2026-11-30T06:00:00+00:00 {REF_A1}"
    [cancel] = parse(cap_message("x1", sent=SENT, msg_type="Cancel", references=refs,
                                 with_info=False)).alerts
    assert (cancel.kind, cancel.category, cancel.type) == ("cancel", "all_clear", "Cancel")
    assert cancel.issued_at == int(SENT.timestamp() * 1000)
    assert (cancel.names, cancel.area_ids) == ((), ())
    assert cancel.supersedes == (cap.message_group(SENDER, "a1"),
                                 cap.message_group(SENDER, "u1"))


def test_a_cancel_with_info_says_what_it_is_and_still_closes_by_reference() -> None:
    [cancel] = parse(cap_message("x2", sent=SENT, msg_type="Cancel", polygon=SDEROT_POLYGON,
                                 event="All clear", references=REF_A1)).alerts
    assert (cancel.kind, cancel.type, cancel.title) == ("cancel", "All clear", "All clear")
    assert cancel.area_ids == () and cancel.supersedes == (cap.message_group(SENDER, "a1"),)


def test_an_update_with_nothing_in_it_cancels() -> None:
    [cancel] = parse(cap_message("u3", sent=SENT, msg_type="Update", references=REF_A1,
                                 with_info=False)).alerts
    assert cancel.kind == "cancel" and cancel.supersedes == (cap.message_group(SENDER, "a1"),)


def test_a_message_cannot_reference_itself() -> None:
    problem = rejected(cap_message("a1", sent=SENT, msg_type="Cancel", references=REF_A1,
                                   with_info=False))
    assert (problem.status, problem.field) == (422, "/alert/references")
    assert "itself" in problem.reason


def test_update_and_cancel_need_references() -> None:
    problem = rejected(cap_message("u2", sent=SENT, msg_type="Cancel", polygon=SDEROT_POLYGON))
    assert problem.field == "/alert/references"


@pytest.mark.parametrize(("status", "category", "count"), [
    ("Actual", "missiles", 1), ("Exercise", "drill", 1), ("Test", None, 0), ("Draft", None, 0),
])
def test_status(status: str, category: str | None, count: int) -> None:
    alerts = parse(cap_message("s", sent=SENT, status=status, polygon=SDEROT_POLYGON)).alerts
    assert len(alerts) == count and all(a.category == category for a in alerts)


def test_translations_of_one_info_are_one_alert() -> None:
    body = cap_message("t1", sent=SENT, polygon=SDEROT_POLYGON).decode()
    info = body[body.index("<info>"):body.index("</info>") + 7]
    hebrew = info.replace("Rocket Alert", "ירי רקטות וטילים").replace("<category>",
                                                                       "<language>he</language><category>")
    [alert] = parse(body.replace("</info>", "</info>" + hebrew, 1).encode()).alerts
    assert alert.type == "Rocket Alert"


@pytest.mark.parametrize(("change", "field"), [
    (lambda b: b.replace("<urgency>Immediate</urgency>", "<urgency>Now</urgency>"),
     "/alert/info/urgency"),
    (lambda b: b.replace("<scope>Public</scope>", ""), "/alert"),
    (lambda b: b.replace("<headline>", "<surprise/><headline>"), "/alert/info"),
    (lambda b: b.replace(":cap:1.2", ":cap:1.1"), "/alert"),
    (lambda b: b.replace("<expires>", "<expires>x"), "/alert/info/expires"),
])
def test_schema_errors_name_the_element(change: object, field: str) -> None:
    body = cap_message("v", sent=SENT, polygon=SDEROT_POLYGON,
                       expires=SENT + timedelta(minutes=5)).decode()
    problem = rejected(change(body).encode())  # type: ignore[operator]
    assert (problem.status, problem.field) == (422, field), problem


def test_wrong_namespace_says_which() -> None:
    body = cap_message("w", sent=SENT, polygon=SDEROT_POLYGON).replace(b":cap:1.2", b":cap:1.1")
    assert "urn:oasis:names:tc:emergency:cap:1.1" in rejected(body).reason


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol3;</identifier></alert>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&secret;</identifier></alert>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL])
def test_dtds_and_entities_are_refused(body: bytes) -> None:
    problem = rejected(body)
    assert problem.status == 400 and "DTD" in problem.reason


def test_deep_nesting_is_refused_before_validation() -> None:
    body = cap_message("d", sent=SENT, polygon=SDEROT_POLYGON).decode()
    deep = "<x>" * 100_000 + "</x>" * 100_000
    problem = rejected(body.replace("<headline>", deep + "<headline>").encode())
    assert problem.status == 422 and "nested deeper" in problem.reason


def test_huge_polygons_are_refused_naming_the_polygon() -> None:
    points = " ".join(f"31.{i % 90:02d},34.5" for i in range(20_000))
    problem = rejected(cap_message("h", sent=SENT, polygon=f"31.0,34.0 {points} 31.0,34.0"))
    assert problem.field == "/alert/info[1]/area[1]/polygon[1]" and "points" in problem.reason


@pytest.mark.parametrize(("shape", "reason"), [
    ("31.5,34.5 31.6,34.5 31.5,34.5", "at least four"),
    ("31.5,34.5 31.6,34.5 31.6,34.6 31.5,34.6", "first and last"),
    ("91,34.5 31.6,34.5 31.6,34.6 91,34.5", "out of range"),
    ("a,b c,d e,f a,b", "numbers"),
])
def test_broken_polygons_name_the_problem(shape: str, reason: str) -> None:
    problem = rejected(cap_message("p", sent=SENT, polygon=shape))
    assert problem.field == "/alert/info[1]/area[1]/polygon[1]" and reason in problem.reason


def test_expires_before_onset_is_refused() -> None:
    problem = rejected(cap_message("e", sent=SENT, polygon=SDEROT_POLYGON,
                                   expires=SENT - timedelta(minutes=1)))
    assert problem.field == "/alert/info[1]/expires"


def test_malformed_xml() -> None:
    problem = rejected(b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>")
    assert problem.status == 400 and "malformed" in problem.reason


def test_libxml2s_verdict_agrees_with_xmlschema() -> None:
    """The fast validator decides; xmlschema only explains. They must agree on what is valid."""
    from defusedxml.ElementTree import fromstring

    base = cap_message("agree", sent=SENT, polygon=SDEROT_POLYGON,
                       expires=SENT + timedelta(minutes=5)).decode()
    variants = [
        base, base.replace("Immediate", "Now"), base.replace("<scope>Public</scope>", ""),
        base.replace("+00:00</sent>", "Z</sent>"), base.replace("<event>", "<event>\u05d0"),
        base.replace("Security", "CBRNE"), base.replace("Security", "Bogus"),
        base.replace("<headline>", "<web>not a uri with spaces</web><headline>"),
        base.replace("</area>", "<altitude>12.5</altitude></area>"),
        base.replace("</area>", "<altitude>high</altitude></area>"),
        base.replace("<msgType>Alert</msgType>", "<msgType>Ack</msgType>"),
    ]
    schema = cap12()
    for body in variants:
        root = fromstring(body.encode())
        fast_ok = schema.first_error(body.encode(), root) is None
        assert fast_ok == schema._explainer.is_valid(root), body[:400]


def test_the_queue_message_carries_what_a_cancel_by_reference_needs() -> None:
    """A cancel of earlier messages may have no locations; anything else must have some, and
    a message never supersedes its own group (such poison is dead-lettered)."""
    base = {"id": "x", "kind": "cancel", "type": "Cancel", "locations": [], "issued_at": 1,
            "duration_s": 0, "received_at": 1, "source": "s", "group": "g0"}
    decoded = decode_alert(msgspec.json.encode({**base, "supersedes": ["g1"]}))
    assert (decoded.locations, decoded.supersedes) == ([], ["g1"])
    for poison in ({**base}, {**base, "kind": "alert", "duration_s": 60, "supersedes": ["g1"]},
                   {**base, "supersedes": ["g0"]}):
        with pytest.raises(msgspec.ValidationError):
            decode_alert(msgspec.json.encode(poison))


def test_too_many_references_are_refused() -> None:
    refs = " ".join(f"{SENDER},m{n},2026-11-30T05:59:00+00:00" for n in range(65))
    problem = rejected(cap_message("x9", sent=SENT, msg_type="Cancel", references=refs,
                                   with_info=False))
    assert (problem.status, problem.field) == (422, "/alert/references")
    assert "64" in problem.reason


def test_an_update_in_several_infos_carries_every_window_on_without_an_all_clear() -> None:
    """A (Sderot and Ashkelon) is replaced by an Update whose two <info> cover one area each:
    both windows carry on (same incident, no close between), only then does the update's own
    cancel end what none of its alerts took over."""
    catalog = load_catalog()
    state = AggregationState()
    now = int(SENT.timestamp() * 1000)
    first = parse(cap_message("a1", sent=SENT, polygon=SDEROT_POLYGON,
                              extra_area=f"<polygon>{ASHKELON_POLYGON}</polygon>")).alerts
    body = cap_message("u1", sent=SENT, msg_type="Update", polygon=SDEROT_POLYGON,
                       references=REF_A1).decode()
    second_info = body[body.index("<info>"):body.index("</info>") + 7].replace(
        SDEROT_POLYGON, ASHKELON_POLYGON).replace("Rocket Alert", "Rocket alert")
    update = parse(body.replace("</info>", "</info>" + second_info, 1).encode()).alerts
    assert [a.kind for a in update] == ["alert", "alert", "cancel"]
    events = []
    for incoming in (*first, *update):
        [queued] = to_alerts([incoming], source="s", now_ms=now, catalog=catalog,
                             rules=IngestRules(10, 600, 600, False))
        events += state.apply(queued, now, catalog)[1]
    assert [e.kind for e in events] == ["open"] * (1 + len(ASHKELON)) * 2
    assert len({e.incident_id for e in events if e.location == SDEROT}) == 1
    assert {e.alert_count for e in events[1 + len(ASHKELON):]} == {1}
