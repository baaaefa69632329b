"""The national feed's two shapes: decoding, the title and number tables, ids, test entries."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from alertflow.domain import hfc
from alertflow.domain.alert import AlertRejected
from tests.feed_samples import (
    EARLY_WARNING_TITLE,
    ENDED_TITLE,
    HISTORY_EARLY_WARNING_TITLE,
    ISRAEL,
    MISSILES_TITLE,
    history,
    realtime,
)

NOW = 1_796_000_000_000


def parse(body: bytes) -> list[hfc.Incoming]:
    return hfc.parse(body, NOW)


@pytest.mark.parametrize("encode", [
    lambda text: text.encode(), lambda text: text.encode("utf-8-sig"),
    lambda text: text.encode("utf-16"), lambda text: b"\xfe\xff" + text.encode("utf-16-be"),
])
def test_every_encoding_the_feed_was_served_in(encode: object) -> None:
    text = json.dumps({"id": "133", "cat": "1", "title": MISSILES_TITLE, "data": ["שדרות, איבים"],
                       "desc": "היכנסו למרחב המוגן"}, ensure_ascii=False)
    [alert] = parse(encode(text))  # type: ignore[operator]
    assert (alert.kind, alert.category, alert.type) == ("alert", "missiles", MISSILES_TITLE)
    assert alert.names == (("שדרות, איבים", "$.data[0]"),)
    assert alert.instructions == "היכנסו למרחב המוגן"
    assert alert.issued_at == NOW


@pytest.mark.parametrize("body", [b"", b"\r\n", "\ufeff".encode(), "\ufeff\r\n".encode("utf-16"),
                                  b" \t\r\n ", b"\xfe\xff", "\ufeff \ufeff\n".encode()])
def test_an_empty_body_means_nothing_is_active(body: bytes) -> None:
    assert parse(body) == []


@pytest.mark.parametrize("body", [b"\x1d", b"\x0b\x0c", "\u00a0".encode(), "\u2028".encode()])
def test_only_json_whitespace_is_blank(body: bytes) -> None:
    """What the OpenAPI document calls the empty answer, and nothing more: a control character
    or another Unicode space alone is not the feed saying "nothing active" (the listener read
    every `str.strip()` space as blank, so Schemathesis' not-JSON bytes such as b"\\x1d" could
    get a 202 that the document could not describe)."""
    with pytest.raises(AlertRejected) as caught:
        parse(body)
    assert caught.value.status == 400


def test_an_html_error_page_is_refused_not_read_as_alerts() -> None:
    with pytest.raises(AlertRejected) as caught:
        parse(b"<!DOCTYPE html><html><body>Access Denied</body></html>")
    assert caught.value.status == 400 and "HTML" in caught.value.reason


@pytest.mark.parametrize(("cat", "category"), [
    ("1", "missiles"), ("3", "earthquake"), ("4", "radiological"), ("5", "tsunami"),
    ("6", "hostile_aircraft"), ("7", "hazmat"), ("13", "infiltration"), ("101", "drill"),
    ("106", "drill"), ("2", "general"), ("99", "general"),
])
def test_realtime_numbers(cat: str, category: str) -> None:
    [alert] = parse(realtime("1", cat, "כותרת כלשהי", ["אשקלון"]))
    assert alert.category == category and alert.kind == "alert"


def test_realtime_news_flash_is_told_by_its_title() -> None:
    [early] = parse(realtime("2", "10", EARLY_WARNING_TITLE, ["אשקלון"]))
    assert (early.category, early.kind) == ("early_warning", "alert")
    [ended] = parse(realtime("3", "10", ENDED_TITLE, ["אשקלון"]))
    assert (ended.category, ended.kind, ended.duration_s) == ("all_clear", "cancel", 0)
    [flash] = parse(realtime("4", "10", "מבזק", ["אשקלון"]))
    assert flash.category == "general"


def test_realtime_13_is_an_infiltration_but_history_13_with_the_ended_title_an_all_clear() -> None:
    [infiltration] = parse(realtime("5", "13", "חדירת מחבלים", ["אשקלון"]))
    assert infiltration.category == "infiltration"
    when = datetime(2026, 11, 30, 7, 0, tzinfo=ISRAEL)
    [ended] = parse(history([(when, ENDED_TITLE, "אשקלון", 13)]))
    assert (ended.category, ended.kind) == ("all_clear", "cancel")
    [update] = parse(history([(when, "עדכון", "אשקלון", 13)]))
    assert (update.category, update.kind) == ("general", "alert")


def test_history_numbers_are_not_the_realtime_ones() -> None:
    when = datetime(2026, 11, 30, 7, 0, tzinfo=ISRAEL)
    [early] = parse(history([(when, HISTORY_EARLY_WARNING_TITLE, "אשקלון", 14)]))
    assert early.category == "early_warning"
    # 6 is hostile aircraft in the realtime shape; the history shape has no 6 it knows.
    [six] = parse(history([(when, "כותרת", "אשקלון", 6)]))
    assert six.category == "general"
    [two] = parse(history([(when, "כותרת", "אשקלון", 2)]))
    assert two.category == "hostile_aircraft"


# The history shape's numbers as the feed's category list has them (alertCategories.json, as
# the Home Assistant oref_alert integration records it), read through a neutral title so the
# number alone decides.
@pytest.mark.parametrize(("number", "category"), [
    (1, "missiles"), (2, "hostile_aircraft"), (3, "nonconventional"), (4, "general"),
    (5, "general"), (6, "general"), (7, "earthquake"), (8, "earthquake"), (9, "radiological"),
    (10, "infiltration"), (11, "tsunami"), (12, "hazmat"), (13, "general"),
    (14, "early_warning"), (15, "drill"), (26, "drill"), (27, "drill"), (28, "drill"),
    (29, "general"),
])
def test_history_numbers(number: int, category: str) -> None:
    when = datetime(2026, 11, 30, 7, 0, tzinfo=ISRAEL)
    [entry] = parse(history([(when, "כותרת", "אשקלון", number)]))
    assert entry.category == category


# The feed's titles as it writes them (issue 23): read by what they say, whatever the number.
@pytest.mark.parametrize(("title", "category", "kind"), [
    ("יש לשהות בסמיכות למרחב המוגן", "early_warning", "alert"),
    ("איום מלבנון - התקרבו למרחב מוגן", "early_warning", "alert"),
    ("הארוע הסתיים", "all_clear", "cancel"),
    ("ירי רקטות וטילים -  האירוע הסתיים", "all_clear", "cancel"),
    ("ניתן לצאת מהמרחב המוגן אך יש להישאר בקרבתו", "early_warning", "alert"),
])
def test_the_feeds_own_wordings_open_or_end_as_they_say(title: str, category: str,
                                                       kind: str) -> None:
    [flash] = parse(realtime("8", "10", title, ["אשקלון"]))
    when = datetime(2026, 11, 30, 7, 0, tzinfo=ISRAEL)
    [update] = parse(history([(when, title, "אשקלון", 13 if kind == "cancel" else 14)]))
    for alert in (flash, update):
        assert (alert.category, alert.kind) == (category, kind)
        assert alert.type == " ".join(title.split())  # shown as written, on one line
        assert alert.duration_s == (0 if kind == "cancel" else hfc.DEFAULT_DURATION_S)


def test_a_misspelled_all_clear_ends_the_window_instead_of_opening_one() -> None:
    [ended] = parse(realtime("9", "10", "הארוע הסתיים", ["אשקלון"]))
    assert ended.kind == "cancel" and ended.category == "all_clear"


def test_a_drills_early_warning_is_the_drill() -> None:
    [realtime_drill] = parse(realtime("10", "110", EARLY_WARNING_TITLE, ["אשקלון"]))
    when = datetime(2026, 11, 30, 7, 0, tzinfo=ISRAEL)
    [history_drill] = parse(history([(when, EARLY_WARNING_TITLE, "אשקלון", 28)]))
    assert realtime_drill.category == history_drill.category == "drill"


def test_unknown_titles_are_the_distinct_ones_no_rule_knows() -> None:
    alerts = parse(realtime("11", "1", "כותרת חדשה לגמרי", ["אשקלון", "שדרות, איבים"]))
    assert alerts[0].category == "missiles"  # the number still decides: shown, and counted
    assert hfc.unknown_titles(alerts) == ["כותרת חדשה לגמרי"]
    assert hfc.unknown_titles(parse(realtime("12", "10", "הארוע הסתיים", ["אשקלון"]))) == []
    assert hfc.unknown_titles(parse(realtime("13", "10", "מבזק", ["אשקלון"]))) == []


def test_history_dates_are_israel_local_time_across_daylight_saving() -> None:
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=ISRAEL)  # UTC+3
    winter = datetime(2026, 12, 1, 12, 0, tzinfo=ISRAEL)  # UTC+2
    alerts = parse(history([(summer, MISSILES_TITLE, "אשקלון", 1),
                            (winter, MISSILES_TITLE, "אשקלון", 1)]))
    assert [a.issued_at for a in alerts] == [int(summer.timestamp() * 1000),
                                            int(winter.timestamp() * 1000)]
    assert alerts[0].issued_at == int(datetime.fromisoformat("2026-07-01T09:00:00+00:00")
                                      .timestamp() * 1000)


def test_test_entries_are_skipped_and_areas_once_each() -> None:
    alerts = parse(realtime("7", "1", MISSILES_TITLE, ["בדיקה", "אשקלון", "בדיקה 2", "אשקלון "]))
    assert [a.names[0][0] for a in alerts] == ["אשקלון"]


def test_ids_derive_from_the_feed_id_and_the_area_only() -> None:
    first = parse(realtime("133", "1", MISSILES_TITLE, ["אשקלון", "שדרות, איבים"]))
    again = hfc.parse(realtime("133", "1", MISSILES_TITLE, ["שדרות, איבים", "אשקלון", "נהריה"]),
                      NOW + 5_000)
    assert {a.id for a in first} < {a.id for a in again}
    assert len({a.id for a in again}) == 3
    other = parse(realtime("134", "1", MISSILES_TITLE, ["אשקלון"]))
    assert other[0].id not in {a.id for a in first}


@pytest.mark.parametrize(("body", "status", "field"), [
    (b"{", 400, "$"),
    (b"\xff\xfe\x00", 400, "$"),
    (b"{\"id\": \"1\"}", 422, "$"),
    (b"{\"id\": \"1\", \"cat\": \"x\", \"title\": \"t\", \"data\": []}", 422, "$.cat"),
    (b"{\"id\": \"1 2\", \"cat\": \"1\", \"title\": \"t\", \"data\": []}", 422, "$.id"),
    (b"{\"id\": \"1\", \"cat\": \"1\", \"title\": \"t\\u0000\", \"data\": [\"a\"]}", 422,
     "$.title"),
    (b"[{\"alertDate\": \"yesterday\", \"title\": \"t\", \"data\": \"a\", \"category\": 1}]", 422,
     "$[0].alertDate"),
    (b"[{\"title\": \"t\", \"data\": \"a\", \"category\": 1}]", 422, "$[0]"),
    (b"42", 422, "$"),
])
def test_bad_bodies_name_the_field(body: bytes, status: int, field: str) -> None:
    with pytest.raises(AlertRejected) as caught:
        parse(body)
    assert (caught.value.status, caught.value.field) == (status, field)
