"""Place names as people write them resolve to the right areas, and never to a wrong one.

The catalog-wide tests run over every name of every bundled area; the listener tests go through
the real app with a `MemoryQueue`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from alertflow.backends.memory import MemoryQueue
from alertflow.catalog import load_aliases, load_catalog
from alertflow.domain.alert import Alert, decode_alert
from alertflow.domain.locations import Catalog, _key
from alertflow.domain.subscriptions import SubscriptionError, parse_subscription
from alertflow.domain.text import spelling
from alertflow.listener import ListenerConfig, create_listener_app
from alertflow.settings import Settings

TEL_AVIV = ("תל אביב - דרום העיר ויפו", "תל אביב - מזרח", "תל אביב - מרכז העיר",
            "תל אביב - עבר הירקון")
HAIFA = ("חיפה - בת גלים ק.אליעזר", "חיפה - כרמל, הדר ועיר תחתית", "חיפה - מערב", "חיפה - מפרץ",
         "חיפה - נווה שאנן ורמות כרמל", "חיפה - קריית חיים ושמואל")
ASHKELON = ("אשקלון - דרום", "אשקלון - צפון")
CATALOG = load_catalog()
TOKEN = "s3cret-token-0123456789"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


@pytest.mark.parametrize("name, areas, how", [
    ("Tel Aviv", TEL_AVIV, "city"),
    ("תל אביב", TEL_AVIV, "city"),
    ("tel-aviv", TEL_AVIV, "city"),
    ("TELAVIV", TEL_AVIV, "city"),
    ("Тель Авив", TEL_AVIV, "city"),
    ("تل أبيب", TEL_AVIV, "alias"),
    ("Haifa", HAIFA, "city"),
    ("חיפה", HAIFA, "city"),
    ("Sderot", ("שדרות, איבים",), "area"),
    ("Ibim", ("שדרות, איבים",), "area"),
    ("Tel Aviv - City Center", ("תל אביב - מרכז העיר",), "area"),
    ("tel aviv city-center", ("תל אביב - מרכז העיר",), "area"),
    ("Abu Gosh", ("אבו גוש",), "area"),
    ("אבו-גוש", ("אבו גוש",), "area"),
    ("Abu Ghosh", ("אבו גוש",), "former"),  # the 2020 list's English name
    ("Modi'in", ("מודיעין מכבים רעות",), "former"),
    ("Modi׳in", ("מודיעין מכבים רעות",), "former"),  # a geresh for the apostrophe
    ("Modiin", ("מודיעין מכבים רעות",), "former"),
    ("Nazareth Illit", ("נוף הגליל",), "former"),
    ("דן", ("קיבוץ דן",), "former"),  # the kibbutz it was in 2020, not today's zone "דן"
    ("אשקלון", ASHKELON, "former"),
    ("عسقلان", ASHKELON, "alias"),
    ("Beersheba", None, "alias"),
    ("Jaffa", ("תל אביב - דרום העיר ויפו",), "alias"),
    ("Nahariyah", ("נהריה",), "fuzzy"),
    ("Qiryat Shemona", ("קריית שמונה",), "fuzzy"),
    ("Netivoth", ("נתיבות",), "fuzzy"),
])
def test_names_resolve_to_their_areas(catalog: Catalog, name: str,
                                      areas: tuple[str, ...] | None, how: str) -> None:
    resolved = catalog.resolve_name(name)
    assert resolved.how == how
    if areas is not None:
        assert resolved.areas == areas
    else:
        assert len(resolved.areas) > 1


@pytest.mark.parametrize("city", ["Jerusalem", "Beer Sheva", "ירושלים", "באר שבע", "Ashdod"])
def test_a_split_city_is_all_of_its_areas(catalog: Catalog, city: str) -> None:
    resolved = catalog.resolve_name(city)
    assert resolved.how == "city" and len(resolved.areas) >= 4
    def city(area_id: str) -> str:  # the feed writes "אשדוד - ג,ו,ז" and "אשדוד -יא,…"
        return area_id.split(" -")[0]

    hebrew = {city(a) for a in resolved.areas}
    assert len(hebrew) == 1
    assert set(resolved.areas) == {a for a in catalog.areas if city(a) in hebrew}


def test_a_zone_is_every_area_in_it(catalog: Catalog) -> None:
    for name in ("Upper Galilee", "גליל עליון"):
        resolved = catalog.resolve_name(name)
        assert resolved.how == "zone"
        assert set(resolved.areas) == {a.id for a in catalog.areas.values()
                                       if a.zone_names.get("en") == "Upper Galilee"}


@pytest.mark.parametrize("name", ["Nowhere", "Shlomy", "עסקלאן", "xyz", "Tel Aviv Paris"])
def test_names_of_no_place_stay_unknown(catalog: Catalog, name: str) -> None:
    assert catalog.resolve_name(name).areas == ()


def _shared_keys(catalog: Catalog) -> set[str]:
    """Names (folded as the catalog folds them) that several areas share."""
    owners: dict[str, set[str]] = {}
    for area in catalog.areas.values():
        for name in area.names.values():
            owners.setdefault(spelling(name), set()).add(area.id)
    return {key for key, ids in owners.items() if len(ids) > 1}


def test_every_name_of_every_area_resolves_to_exactly_itself(catalog: Catalog) -> None:
    shared = _shared_keys(catalog)
    for area in catalog.areas.values():
        assert catalog.resolve_name(area.id).areas == (area.id,)
        for name in area.names.values():
            resolved = catalog.resolve_name(name)
            if spelling(name) in shared:  # two areas with one name: neither is guessed
                assert resolved.how == "ambiguous", name
            else:
                assert resolved.areas == (area.id,), (name, resolved)


def test_no_real_name_lands_on_another_area_by_spelling(catalog: Catalog) -> None:
    """Were an area missing from the index, its names must not fuzzily become another area.

    For every name of every area, fuzzy matching runs with that area (its names, its city, its
    zone) left out: it must find nothing rather than a neighbour with a similar name.
    """
    shared = _shared_keys(catalog)
    wrong = []
    for area in catalog.areas.values():
        for name in {area.id, *area.names.values()}:
            if spelling(name) in shared:
                continue
            found = catalog._fuzzy(_key(name), exclude=frozenset({area.id}))
            if found.found:
                wrong.append((name, found.areas))
    assert wrong == []


def test_aliases_name_real_places_and_never_shadow_the_catalog(catalog: Catalog) -> None:
    names = {_key(n) for a in catalog.areas.values() for n in (a.id, *a.names.values())}
    for target, aliases in load_aliases().items():
        assert catalog.resolve_name(target).how in ("area", "city", "zone", "former",
                                                    "country"), target
        for alias in aliases:
            # The alias reaches the target's areas (a city of the same name may add its others),
            # unless the alias is itself a catalog name, which always wins.
            resolved = catalog.resolve_name(alias)
            assert (set(catalog.resolve_name(target).areas) <= set(resolved.areas)
                    or _key(alias) in names), alias


SMALL = [
    {"id": "Alpha - North", "name": {"en": "Alpha - North"}, "zone": {"en": "Z1"},
     "shelter_seconds": 15, "lat": 31.0, "lng": 34.0},
    {"id": "Alpha - South", "name": {"en": "Alpha - South"}, "zone": {"en": "Z1"},
     "shelter_seconds": 15, "lat": 31.0, "lng": 34.0},
    {"id": "Beta, Gamma", "name": {"en": "Beta, Gamma"}, "zone": {"en": "Z2"},
     "shelter_seconds": 15, "lat": 31.0, "lng": 34.0},
    {"id": "Beta, Delta", "name": {"en": "Beta, Delta"}, "zone": {"en": "Z2"},
     "shelter_seconds": 15, "lat": 31.0, "lng": 34.0},
]


def test_a_name_two_places_share_is_ambiguous() -> None:
    small = Catalog.from_records(SMALL)
    assert small.resolve_name("beta").how == "ambiguous"
    assert small.resolve_name("Gamma").areas == ("Beta, Gamma",)
    assert small.resolve_name("alpha").areas == ("Alpha - North", "Alpha - South")


# -- through the listener ---------------------------------------------------------------------

@pytest.fixture
def post(catalog: Catalog) -> Iterator[Any]:
    clients: list[TestClient] = []

    def send(body: object, strict: bool = False, cat: Catalog = catalog,
             route: str = "/v1/alerts") -> tuple[int, dict[str, Any], list[Alert]]:
        queue = MemoryQueue()
        config = ListenerConfig(tokens={"radar": TOKEN},
                                rules=Settings(strict_locations=strict).ingest_rules())
        client = TestClient(create_listener_app(queue, cat, config),
                            raise_server_exceptions=False)
        clients.append(client)
        response = client.post(route, content=json.dumps(body, ensure_ascii=False).encode(),
                               headers=HEADERS)
        queued = []
        while not queue._ready_messages.empty():
            queued.append(decode_alert(queue._ready_messages.get_nowait().body))
        return response.status_code, response.json(), queued

    yield send
    for client in clients:
        client.close()


def alert(*names: str) -> dict[str, Any]:
    return {"type": "Rocket Alert", "issued_at": datetime.now(UTC).isoformat(),
            "locations": list(names), "duration_s": 90}


def test_the_answer_says_how_each_name_resolved(post: Any) -> None:
    status, answer, (queued,) = post(alert("Tel Aviv", "Sderot", "אבו גוש", "Nazareth Illit",
                                           "Nowhere"))
    assert status == 202
    assert answer["resolved"] == {"Tel Aviv": list(TEL_AVIV), "Sderot": ["שדרות, איבים"],
                                  "אבו גוש": ["אבו גוש"], "Nazareth Illit": ["נוף הגליל"]}
    assert answer["unknown_locations"] == ["Nowhere"]
    assert answer["ambiguous_locations"] == []
    assert queued.locations == [*TEL_AVIV, "שדרות, איבים", "אבו גוש", "נוף הגליל", "Nowhere"]
    # Each area keeps the name its source wrote, for receivers that show the source's words.
    assert queued.source_names == {**{area: "Tel Aviv" for area in TEL_AVIV},
                                   "שדרות, איבים": "Sderot", "נוף הגליל": "Nazareth Illit"}


def test_the_same_area_named_twice_is_one_location(post: Any) -> None:
    _, answer, (queued,) = post(alert("Tel Aviv", "Tel Aviv - East", "תל אביב"))
    assert sorted(queued.locations) == sorted(TEL_AVIV)
    assert answer["resolved"]["Tel Aviv"] == list(TEL_AVIV)


def test_ambiguous_names_are_listed_and_kept_unknown(post: Any) -> None:
    small = Catalog.from_records(SMALL)
    status, answer, (queued,) = post(alert("Beta", "Gamma"), cat=small)
    assert status == 202
    assert answer["ambiguous_locations"] == ["Beta"]
    assert answer["unknown_locations"] == ["Beta"]
    assert queued.locations == ["Beta", "Beta, Gamma"]


@pytest.mark.parametrize("name, word", [("Nowhere", "unknown"), ("Beta", "ambiguous")])
def test_strict_locations_refuse_unknown_and_ambiguous_names(post: Any, name: str,
                                                             word: str) -> None:
    small = Catalog.from_records(SMALL)
    status, answer, queued = post(alert("Gamma", name), strict=True, cat=small)
    assert (status, answer["field"]) == (422, "$.locations[1]")
    assert answer["reason"] == f"{word} location {name!r}"
    assert queued == []


def test_legacy_route_resolves_cities_too(post: Any) -> None:
    status, answer, (queued,) = post(
        {"location": "Haifa", "type": "Rocket Alert",
         "timestamp": datetime.now(UTC).isoformat(), "duration": 10}, route="/api/alerts/")
    assert status == 202
    assert queued.locations == list(HAIFA)
    assert answer["resolved"] == {"Haifa": list(HAIFA)}


def test_a_client_may_subscribe_by_a_citys_name(catalog: Catalog) -> None:
    subscription = parse_subscription({"locations": ["Tel Aviv", "Sderot"]}, catalog, None)
    assert subscription.locations == {*TEL_AVIV, "שדרות, איבים"}
    with pytest.raises(SubscriptionError, match="unknown location 'Atlantis'"):
        parse_subscription({"locations": ["Atlantis"]}, catalog, None)
    small = Catalog.from_records(SMALL)
    with pytest.raises(SubscriptionError, match="ambiguous location 'Beta'"):
        parse_subscription({"locations": ["Beta"]}, small, None)


@settings(max_examples=300)
@given(st.text(max_size=80) | st.sampled_from(["Tel Aviv", "תל אביב", "Sderot", "Shlomi"]))
def test_any_text_resolves_to_catalog_areas_or_nothing(text: str) -> None:
    catalog = CATALOG
    resolved = catalog.resolve_name(text)
    assert resolved.how in ("area", "city", "zone", "former", "country", "alias", "fuzzy",
                            "unknown", "ambiguous")
    assert set(resolved.areas) <= set(catalog.areas)
    assert bool(resolved.areas) == (resolved.how not in ("unknown", "ambiguous"))
    assert catalog.resolve_name(text) == resolved  # the same answer every time
