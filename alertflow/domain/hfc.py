"""The Home Front Command's feed shapes: realtime `Alerts.json` and `AlertsHistory.json`.

Realtime: `{"id": "133…", "cat": "1", "title": "ירי רקטות וטילים", "data": ["area", …],
"desc": "…"}`, or an empty body when nothing is active. History: `[{"alertDate": "YYYY-MM-DD
HH:MM:SS" (Israel local time), "title", "data": "area", "category": 1}, …]`.

The two shapes number categories differently, so each has its own table and a number is never
looked up in the other's. The titles decide first: the feed announces an early warning and an
all-clear as titles (realtime `cat` 10 carries both; history 13/14), written differently from
week to week; `category_of` reads them by what they say (its documented rules), and
`unknown_titles` names those it could not read, for the listener and the follower to count and
log. Each (feed id, area) becomes one alert whose
id derives from both, so several followers, restarts and re-posts of the same feed collapse in
the processor's dedup.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Final, Literal, cast
from zoneinfo import ZoneInfo

import msgspec

from alertflow.domain.alert import AlertRejected
from alertflow.domain.categories import GENERAL, Category, category_of, title_category
from alertflow.domain.incoming import Incoming

ISRAEL: Final = ZoneInfo("Asia/Jerusalem")
DEFAULT_DURATION_S: Final = 600  # the feed carries no duration; all-clears end windows sooner
TEST_MARKER: Final = "בדיקה"  # the feed's own test entries name areas "בדיקה", "בדיקה 2", …
MAX_TITLE: Final = 200
MAX_AREAS: Final = 2000

# Realtime `cat`, as the feed's widely used consumers read it. 10 is a "news flash" whose title
# says what it is (early warning or all-clear); 100 + N is a drill of N.
REALTIME_CATEGORIES: Final[dict[int, Category]] = {
    1: "missiles", 3: "earthquake", 4: "radiological", 5: "tsunami", 6: "hostile_aircraft",
    7: "hazmat", 10: GENERAL, 13: "infiltration",
}
# History `category`: the feed's own category list (the site's alertCategories.json), numbered
# apart from the realtime `cat`; checked against the list a widely used consumer (the Home
# Assistant oref_alert integration) keeps: 1 missilealert, 2 uav, 3 nonconventional, 4 warning,
# 5–6 memorial day sirens (no number here: shown as given, category general), 7–8 earthquake,
# 9 cbrne, 10 terrorattack, 11 tsunami, 12 hazmat, 13 "update" (its title ends
# "- האירוע הסתיים" for an all-clear), 14 "flash" (the early warning), 15…28 their drills.
HISTORY_CATEGORIES: Final[dict[int, Category]] = {
    1: "missiles", 2: "hostile_aircraft", 3: "nonconventional", 4: GENERAL, 7: "earthquake",
    8: "earthquake", 9: "radiological", 10: "infiltration", 11: "tsunami", 12: "hazmat",
    13: GENERAL, 14: "early_warning",
    **{number: "drill" for number in range(15, 29)},
}
_TITLE_DECIDES: Final = ("all_clear", "early_warning")


def _first_numbers(table: dict[int, Category]) -> dict[Category, int]:
    numbers: dict[Category, int] = {}
    for number, category in table.items():
        numbers.setdefault(category, number)
    return numbers


# The reverse of the tables above, for serving the feed's shapes (notifier/routes/hfc_feed.py):
# each category's first number, and where the feed tells a kind apart only by its title (early
# warning, all-clear: realtime 10, history 13) that number. A category a shape has no number for
# (`nonconventional` in realtime) is the shape's general one; realtime drills are 101 (100 + 1).
REALTIME_NUMBERS: Final[dict[Category, int]] = {
    **_first_numbers(REALTIME_CATEGORIES), "early_warning": 10, "all_clear": 10, "drill": 101}
HISTORY_NUMBERS: Final[dict[Category, int]] = {**_first_numbers(HISTORY_CATEGORIES),
                                               "all_clear": 13}


def realtime_number(category: str) -> int:
    return REALTIME_NUMBERS.get(cast(Category, category), REALTIME_NUMBERS[GENERAL])


def history_number(category: str) -> int:
    return HISTORY_NUMBERS.get(cast(Category, category), HISTORY_NUMBERS[GENERAL])
_FEED_ID = re.compile(r"^[0-9A-Za-z_.\-]{1,64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class RealtimeAlert(msgspec.Struct):
    """`Alerts.json` while something is active; unknown fields are the feed's business."""

    id: str | int
    cat: str | int
    title: str
    data: list[str]
    desc: str = ""


class HistoryEntry(msgspec.Struct):
    alertDate: str  # the feed's own field name
    title: str
    data: str
    category: int | str


_decoder = msgspec.json.Decoder(RealtimeAlert | list[HistoryEntry])


def feed_schema(components: dict[str, object]) -> object:
    """JSON Schema of both shapes (for the OpenAPI document), adding to `components`."""
    (schema,), found = msgspec.json.schema_components(
        [RealtimeAlert | list[HistoryEntry]], ref_template="#/components/schemas/{name}")
    components.update(found)
    return schema


def decode_text(body: bytes) -> str:
    """The feed's text: UTF-8 with or without a BOM, or UTF-16 with one, as it has been served."""
    try:
        if body.startswith((b"\xff\xfe", b"\xfe\xff")):
            return body.decode("utf-16")
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AlertRejected(400, "$", f"body is neither UTF-8 nor UTF-16 with a BOM "
                                      f"(byte {exc.start})") from None


# What a body holds when nothing is active, as the feed serves it ("", "\r\n", a BOM and
# "\r\n"): JSON's own whitespace and byte-order marks. Nothing else counts as blank (the
# listener's OpenAPI document says exactly this), so e.g. a lone control character is a 400.
BLANK = " \t\r\n\ufeff"


def decode(body: bytes) -> RealtimeAlert | list[HistoryEntry] | None:
    """The feed's document, or None when nothing is active (an empty or blank body)."""
    text = decode_text(body).strip(BLANK)
    if not text:
        return None
    if text.startswith("<"):
        # What the feed's servers answer when they fail or block a client: not an alert.
        raise AlertRejected(400, "$", "an HTML or XML page, not the feed's JSON")
    try:
        return _decoder.decode(text)
    except msgspec.ValidationError as exc:
        message = str(exc)
        path = message.rsplit(" - at `", 1)[1].rstrip("`") if " - at `" in message else "$"
        reason = message.split(" - at `", 1)[0]
        if reason.startswith("Expected `object | array`"):
            reason = "expected the realtime object or the history array"
        raise AlertRejected(422, path, reason) from None
    except msgspec.DecodeError as exc:
        raise AlertRejected(400, "$", f"malformed JSON: {exc}") from None


def _number(value: str | int, path: str) -> int:
    text = str(value).strip()
    if not text.isdigit() or len(text) > 6:
        raise AlertRejected(422, path, f"expected a category number, got {str(value)[:40]!r}")
    return int(text)


def _is_drill(number: int, table: dict[int, Category]) -> bool:
    return number > 100 if table is REALTIME_CATEGORIES else table.get(number) == "drill"


def classify(title: str, number: int, table: dict[int, Category]) -> Category:
    """The title first (early warning, all-clear), then this shape's own number table. A drill's
    number keeps its early warning a drill (realtime 110, history 28: the "flash" drills)."""
    by_title = category_of(title)
    if by_title == "early_warning" and _is_drill(number, table):
        return "drill"
    if by_title in _TITLE_DECIDES:
        return by_title
    if table is REALTIME_CATEGORIES and number > 100:
        return "drill"
    return table.get(number, GENERAL)


def unknown_titles(alerts: list[Incoming]) -> list[str]:
    """The distinct titles among `alerts` that no alias or rule of `category_of` knows (their
    category came from the feed's number alone, or is `general`): the feed's wording drifting."""
    seen: dict[str, None] = {}
    for alert in alerts:
        if alert.title and alert.title not in seen and title_category(alert.title) is None:
            seen[alert.title] = None
    return list(seen)


def _text(value: str, path: str, limit: int = MAX_TITLE) -> str:
    text = " ".join(value.split())
    if _CONTROL.search(value.replace("\n", " ").replace("\r", " ").replace("\t", " ")):
        raise AlertRejected(422, path, "contains control characters")
    if len(text) > limit:
        raise AlertRejected(422, path, f"longer than {limit} characters")
    return text


def _area(name: str) -> str:
    return " ".join(name.split())


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


def alert_id(feed_id: str, area: str) -> str:
    """The alert id of one area of one realtime feed document: the same for every follower."""
    return f"hfc-{feed_id}-{_digest(area)}"


def _window(category: Category, duration_s: int) -> tuple[Literal["alert", "cancel"], int]:
    """An all-clear closes the listed areas now; anything else opens a window."""
    return ("cancel", 0) if category == "all_clear" else ("alert", duration_s)


def from_realtime(alert: RealtimeAlert, now_ms: int, duration_s: int) -> list[Incoming]:
    feed_id = str(alert.id).strip()
    if not _FEED_ID.match(feed_id):
        raise AlertRejected(422, "$.id", "expected the feed's id (letters, digits, _.-; ≤ 64)")
    category = classify(alert.title, _number(alert.cat, "$.cat"), REALTIME_CATEGORIES)
    title = _text(alert.title, "$.title")
    if not title:
        raise AlertRejected(422, "$.title", "is blank")
    desc = _text(alert.desc, "$.desc", 2000) or None
    if len(alert.data) > MAX_AREAS:
        raise AlertRejected(422, "$.data", f"more than {MAX_AREAS} areas")
    kind, duration = _window(category, duration_s)
    alerts = []
    seen = set()
    for index, raw in enumerate(alert.data):
        path = f"$.data[{index}]"
        area = _area(_text(raw, path))
        if not area or TEST_MARKER in area or area in seen:
            continue
        seen.add(area)
        alerts.append(Incoming(
            id=alert_id(feed_id, area), kind=kind, type=title, category=category,
            issued_at=now_ms, duration_s=duration, path=path,
            names=((area, path),), title=title, instructions=desc,
        ))
    return alerts


def parse_alert_date(value: str, path: str) -> int:
    """`alertDate` ("YYYY-MM-DD HH:MM:SS", Israel local time) in epoch ms."""
    try:
        local = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
    except ValueError:
        raise AlertRejected(422, path, "expected 'YYYY-MM-DD HH:MM:SS' (Israel time)") from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=ISRAEL)
    return int(local.timestamp() * 1000)


def from_history(entries: list[HistoryEntry], duration_s: int) -> list[Incoming]:
    alerts = []
    for index, entry in enumerate(entries):
        path = f"$[{index}]"
        area = _area(_text(entry.data, f"{path}.data"))
        if not area or TEST_MARKER in area:
            continue
        number = _number(entry.category, f"{path}.category")
        category = classify(entry.title, number, HISTORY_CATEGORIES)
        title = _text(entry.title, f"{path}.title")
        if not title:
            raise AlertRejected(422, f"{path}.title", "is blank")
        issued_at = parse_alert_date(entry.alertDate, f"{path}.alertDate")
        kind, duration = _window(category, duration_s)
        alerts.append(Incoming(
            id="hfch-" + _digest(entry.alertDate.strip(), title, area, str(number)),
            kind=kind, type=title, category=category, issued_at=issued_at, duration_s=duration,
            path=f"{path}.data", names=((area, f"{path}.data"),), title=title,
        ))
    return alerts


def parse(body: bytes, now_ms: int, duration_s: int = DEFAULT_DURATION_S) -> list[Incoming]:
    """Every alert of a feed body (either shape); [] when nothing is active."""
    document = decode(body)
    if document is None:
        return []
    if isinstance(document, RealtimeAlert):
        return from_realtime(document, now_ms, duration_s)
    return from_history(document, duration_s)
