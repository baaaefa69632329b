"""What a source may send, what the queue carries, and the rules between the two.

`parse_v1` and `parse_legacy` turn a request body into normalized `Alert`s or raise
`AlertRejected` naming the offending field. They are pure: the caller passes the clock and the
catalog, so the same rules run in the listener, in tests and in the fuzzers.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Annotated, Literal, TypeVar

import msgspec

from alertflow.domain.categories import Category, category_of
from alertflow.domain.locations import Catalog

MAX_ID = 128
MAX_NAME = 200
MAX_LOCATIONS = 2000
MAX_GROUPS = 64  # messages one message may supersede
MAX_DURATION_S = 86_400
LEGACY_MAX_DURATION_MIN = 1_440
LEGACY_MAX_AHEAD_S = 900

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME)]
LocationName = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME)]
AlertId = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID)]
# Free text in any language, as sources name their alerts ("Rocket Alert", "ירי רקטות וטילים").
AlertType = Annotated[str, msgspec.Meta(
    min_length=1, max_length=MAX_NAME,
    description="The alert's type as the source names it, in any language (\"Rocket Alert\", "
                "\"ירי רקטות וטילים\"); no control characters. Its category is derived from "
                "it unless `category` is sent.")]
IssuedAt = Annotated[datetime, msgspec.Meta(tz=True)]


class AlertIn(msgspec.Struct, forbid_unknown_fields=True):
    """One alert as a source posts it to `POST /v1/alerts`."""

    type: AlertType
    issued_at: IssuedAt
    id: AlertId | None = None
    # The taxonomy identifier; when absent the listener derives it from `type`.
    category: Annotated[Category, msgspec.Meta(
        description="The taxonomy identifier; when absent it is derived from `type`. "
                    "`all_clear` makes the alert a cancel.")] | None = None
    locations: Annotated[list[LocationName], msgspec.Meta(max_length=MAX_LOCATIONS)] | None = None
    location: LocationName | None = None
    duration_s: Annotated[int, msgspec.Meta(ge=1, le=MAX_DURATION_S)] | None = None
    kind: Literal["alert", "cancel"] = "alert"
    title: Text | None = None
    instructions: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class LegacyAlertIn(msgspec.Struct):
    """The original sources' format for `POST /api/alerts`: `duration` in minutes, `timestamp`
    the window's start (RFC 3339 or epoch seconds/milliseconds, up to 15 minutes ahead)."""

    location: LocationName
    type: AlertType
    timestamp: IssuedAt | Annotated[float, msgspec.Meta(gt=0)]
    duration: Annotated[float, msgspec.Meta(gt=0, le=LEGACY_MAX_DURATION_MIN)]


# Epoch milliseconds; the bounds keep every value (and issued_at + duration) exact in Lua's
# doubles, which hold integers exactly up to 2**53.
EpochMs = Annotated[int, msgspec.Meta(ge=0, le=2**52)]


# Fields at their defaults are left out of the queue message, so a message that uses no newer
# field (a `group`, say) is read by processors of an earlier version during a rolling upgrade.
class Alert(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """The normalized alert: the queue message body, and the processor's input.

    The constraints hold what the listener's rules produce, and apply when a queue message is
    decoded: a message that did not come from a listener (poison) and breaks them is
    dead-lettered. Strings reach the Lua scripts only as whole arguments (keys, hash fields)
    or as JSON that an encoder produced, never spliced into a format Lua parses.

    `source_names` maps an area id to the name the source wrote for it, when they differ
    ("Tel Aviv" for each of its four areas); events carry it as `source_name`.

    `group` names the message the alert came from when later messages may refer to it (a CAP
    message: its sender and identifier). `supersedes` lists such groups: an alert takes their
    place in the windows it joins (a CAP Update's alerts), a cancel closes what they opened
    wherever that was (a CAP Cancel, and the end of an Update); such a cancel needs no
    locations of its own.
    """

    id: AlertId
    kind: Literal["alert", "cancel"]
    type: AlertType
    locations: Annotated[list[LocationName], msgspec.Meta(max_length=MAX_LOCATIONS)]
    issued_at: EpochMs
    duration_s: Annotated[int, msgspec.Meta(ge=0, le=MAX_DURATION_S)]
    received_at: EpochMs
    source: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME)]
    title: Text | None = None
    instructions: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    unknown_locations: Annotated[list[LocationName],
                                 msgspec.Meta(max_length=MAX_LOCATIONS)] = []
    category: Category = "general"
    source_names: Annotated[dict[LocationName, LocationName],
                            msgspec.Meta(max_length=MAX_LOCATIONS)] = {}
    ambiguous_locations: Annotated[list[LocationName],
                                   msgspec.Meta(max_length=MAX_LOCATIONS)] = []
    group: AlertId | None = None
    supersedes: Annotated[list[AlertId], msgspec.Meta(max_length=MAX_GROUPS)] = []

    @property
    def ends_at(self) -> int:
        return self.issued_at + self.duration_s * 1000


@dataclass(frozen=True, slots=True)
class AlertRejected(Exception):
    """Bad input: `status` is the HTTP answer, `field` a JSON path into the body."""

    status: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


@dataclass(frozen=True, slots=True)
class IngestRules:
    """What the listener accepts; the values come from its settings (alertflow/settings.py)."""

    max_alerts: int
    max_age_s: int
    max_ahead_s: int
    strict_locations: bool


_T = TypeVar("_T")
# C0, DEL and C1 controls; direction marks (U+200E/F, U+202x) are text and stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_NO_NEWLINES = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MSGSPEC_PATH = re.compile(r" - at `(\$[^`]*)`$")
_NAMED_FIELD = re.compile(r"(?:unknown|missing required) field `([^`]*)`")

_v1_decoder = msgspec.json.Decoder(AlertIn | list[AlertIn])
_legacy_decoder = msgspec.json.Decoder(LegacyAlertIn | list[LegacyAlertIn])
_alert_decoder = msgspec.json.Decoder(Alert)
_encoder = msgspec.json.Encoder()


def encode_alert(alert: Alert) -> bytes:
    return _encoder.encode(alert)


def decode_alert(body: bytes) -> Alert:
    """Decode a queue message; raises `msgspec.DecodeError`/`ValidationError` when it is not one."""
    alert = _alert_decoder.decode(body)
    if not alert.locations and not (alert.kind == "cancel" and alert.supersedes):
        raise msgspec.ValidationError("Expected `array` of length >= 1 - at `$.locations`")
    if alert.group is not None and alert.group in alert.supersedes:
        raise msgspec.ValidationError("A message cannot supersede itself - at `$.supersedes`")
    if alert.kind == "alert" and alert.duration_s < 1:
        raise msgspec.ValidationError("Expected `int` >= 1 - at `$.duration_s`")
    for name, value in (("type", alert.type), ("source", alert.source),
                        ("title", alert.title)):
        if value is not None and _CONTROL_NO_NEWLINES.search(value):
            raise msgspec.ValidationError(
                f"Expected text without control characters - at `$.{name}`")
    return alert


def check_queue_message(alert: Alert, path: str = "$") -> None:
    """Raise `AlertRejected` (422) unless `alert` encodes to a message that `decode_alert`
    takes: the listener runs it on every alert before publishing, so whatever a format's parser
    produced, an accepted alert is one the processor can apply, never a dead letter."""
    try:
        decode_alert(encode_alert(alert))
    except msgspec.ValidationError as exc:
        message = str(exc)
        match = _MSGSPEC_PATH.search(message)
        field = path + (match.group(1)[1:] if match else "")
        raise AlertRejected(422, field, _MSGSPEC_PATH.sub("", message)) from None


def _decode(decoder: msgspec.json.Decoder[_T], body: bytes) -> _T:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AlertRejected(400, "$", f"body is not valid UTF-8 (byte {exc.start})") from None
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        message = str(exc)
        path_match = _MSGSPEC_PATH.search(message)
        path = path_match.group(1) if path_match else "$"
        reason = _MSGSPEC_PATH.sub("", message)
        named = _NAMED_FIELD.search(reason)
        if named:
            path = f"{path}.{named.group(1)}"
        if reason.startswith("Expected `object | array`"):
            reason = "expected an alert object or an array of alerts"
        raise AlertRejected(422, path, reason) from None
    except msgspec.DecodeError as exc:
        raise AlertRejected(400, "$", f"malformed JSON: {exc}") from None


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _check_text(path: str, value: str | None, allow_newlines: bool = False) -> None:
    pattern = _CONTROL if allow_newlines else _CONTROL_NO_NEWLINES
    if value is not None and pattern.search(value):
        raise AlertRejected(422, path, "contains control characters")


def _check_issued_at(path: str, issued_at: int, now_ms: int, rules: IngestRules) -> None:
    if issued_at < now_ms - rules.max_age_s * 1000:
        raise AlertRejected(422, path, f"is more than {rules.max_age_s} s in the past")
    if issued_at > now_ms + rules.max_ahead_s * 1000:
        raise AlertRejected(422, path, f"is more than {rules.max_ahead_s} s in the future")


@dataclass(slots=True)
class Placed:
    """Where an alert's names led: area ids (or the unresolved names as given) and how."""

    locations: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)
    source_names: dict[str, str] = field(default_factory=dict)

    def add(self, location: str, written: str) -> None:
        if location not in self.locations:
            self.locations.append(location)
            if written != location:
                self.source_names[location] = written


def place_names(
    path: str, names: Iterable[str], catalog: Catalog, rules: IngestRules,
    *, single: bool = False,
) -> Placed:
    """Resolve a source's place names (one area, a city's areas, a zone's, an alias, a close
    spelling); an unknown or ambiguous name is kept as written and listed, or refused with
    `strict_locations`. `path` is the JSON path of the list (or of the one name: `single`)."""
    placed = Placed()
    for index, name in enumerate(names):
        item_path = path if single else f"{path}[{index}]"
        _check_text(item_path, name)
        normalized = " ".join(name.split())
        if not normalized:
            raise AlertRejected(422, item_path, "is blank")
        resolution = catalog.resolve_name(normalized)
        if resolution.found:
            for area_id in resolution.areas:
                placed.add(area_id, normalized)
            continue
        ambiguous = resolution.how == "ambiguous"
        if rules.strict_locations:
            what = "ambiguous" if ambiguous else "unknown"
            raise AlertRejected(422, item_path, f"{what} location {normalized!r}")
        if normalized not in placed.unknown:
            placed.unknown.append(normalized)
            if ambiguous:
                placed.ambiguous.append(normalized)
        placed.add(normalized, normalized)
    return placed


def _check_type(path: str, value: str) -> None:
    _check_text(path, value)
    if not value.strip():
        raise AlertRejected(422, path, "is blank")


def _check_batch(path_count: int, rules: IngestRules) -> None:
    if path_count == 0:
        raise AlertRejected(422, "$", "empty batch: send at least one alert")
    if path_count > rules.max_alerts:
        raise AlertRejected(
            422, "$", f"batch of {path_count} alerts exceeds the limit of {rules.max_alerts}"
        )


def _normalize_v1(
    path: str, item: AlertIn, *, source: str, now_ms: int, catalog: Catalog, rules: IngestRules
) -> Alert:
    if item.locations is not None and item.location is not None:
        raise AlertRejected(422, f"{path}.location", "send either `location` or `locations`")
    if item.locations is None and item.location is None:
        raise AlertRejected(422, f"{path}.locations", "missing: name at least one location")
    names = item.locations if item.locations is not None else [item.location or ""]
    names_path = f"{path}.locations" if item.locations is not None else f"{path}.location"
    if not names:
        raise AlertRejected(422, names_path, "is empty: name at least one location")
    _check_type(f"{path}.type", item.type)
    category = item.category or category_of(item.type)
    # An all-clear is a cancel whatever `kind` says: it must close windows, never open one.
    kind = "cancel" if category == "all_clear" else item.kind
    if kind == "alert" and item.duration_s is None:
        raise AlertRejected(422, f"{path}.duration_s", "missing: required for kind 'alert'")
    _check_text(f"{path}.id", item.id)
    _check_text(f"{path}.title", item.title)
    _check_text(f"{path}.instructions", item.instructions, allow_newlines=True)
    issued_at = _ms(item.issued_at)
    _check_issued_at(f"{path}.issued_at", issued_at, now_ms, rules)
    placed = place_names(names_path, names, catalog, rules,
                         single=item.locations is None)
    return Alert(
        id=item.id or str(uuid.uuid4()),
        kind=kind,
        type=item.type,
        # A cancel is filed under `all_clear`, unless its source named the category whose
        # hazard it ends (`{"kind": "cancel", "category": "earthquake"}`): the processor reads
        # that (domain/hazards.py); processors before hazards ignore a cancel's category.
        category=(category if kind == "alert" or category not in ("all_clear", "general")
                  else "all_clear"),
        locations=placed.locations,
        issued_at=issued_at,
        duration_s=(item.duration_s or 0) if kind == "alert" else 0,
        received_at=now_ms,
        source=source,
        title=item.title,
        instructions=item.instructions,
        unknown_locations=placed.unknown,
        ambiguous_locations=placed.ambiguous,
        source_names=placed.source_names,
    )


def parse_v1(
    body: bytes, *, source: str, now_ms: int, catalog: Catalog, rules: IngestRules
) -> list[Alert]:
    """Validate a `POST /v1/alerts` body (one alert or a barrage) into normalized alerts."""
    decoded = _decode(_v1_decoder, body)
    if isinstance(decoded, AlertIn):
        return [
            _normalize_v1(
                "$", decoded, source=source, now_ms=now_ms, catalog=catalog, rules=rules
            )
        ]
    _check_batch(len(decoded), rules)
    return [
        _normalize_v1(
            f"$[{index}]", item, source=source, now_ms=now_ms, catalog=catalog, rules=rules
        )
        for index, item in enumerate(decoded)
    ]


def _legacy_id(source: str, item: LegacyAlertIn) -> str:
    # These sources send no id; the same report retried must stay one alert.
    raw = _encoder.encode([source, item.location, item.type, item.timestamp, item.duration])
    return "legacy-" + hashlib.sha256(raw).hexdigest()[:32]


def _legacy_timestamp_ms(value: datetime | float) -> int:
    if isinstance(value, datetime):
        return _ms(value)
    # Epoch numbers: seconds from most sources, milliseconds from JavaScript ones.
    return int(value * 1000) if value < 1e11 else int(value)


def parse_legacy(
    body: bytes, *, source: str, now_ms: int, catalog: Catalog, rules: IngestRules
) -> list[Alert]:
    """Validate a `{location, type, timestamp, duration}` body (duration in minutes)."""
    decoded = _decode(_legacy_decoder, body)
    items = [("$", decoded)] if isinstance(decoded, LegacyAlertIn) else None
    if items is None:
        assert isinstance(decoded, list)
        _check_batch(len(decoded), rules)
        items = [(f"$[{index}]", item) for index, item in enumerate(decoded)]
    alerts = []
    # These sources stamp an alert with the start of its window, up to 15 minutes ahead.
    legacy_rules = replace(rules, max_ahead_s=max(rules.max_ahead_s, LEGACY_MAX_AHEAD_S))
    for path, item in items:
        _check_type(f"{path}.type", item.type)
        category = category_of(item.type)
        cancel = category == "all_clear"
        issued_at = _legacy_timestamp_ms(item.timestamp)
        _check_issued_at(f"{path}.timestamp", issued_at, now_ms, legacy_rules)
        placed = place_names(f"{path}.location", [item.location], catalog, rules, single=True)
        alerts.append(
            Alert(
                id=_legacy_id(source, item),
                kind="cancel" if cancel else "alert",
                type=item.type,
                category=category,
                locations=placed.locations,
                issued_at=issued_at,
                duration_s=0 if cancel else max(1, round(item.duration * 60)),
                received_at=now_ms,
                source=source,
                unknown_locations=placed.unknown,
                ambiguous_locations=placed.ambiguous,
                source_names=placed.source_names,
            )
        )
    return alerts


def alert_in_schema() -> tuple[dict[str, object], dict[str, object]]:
    """JSON Schema of the v1 and legacy bodies, from the same types that validate them."""
    (v1, legacy), components = msgspec.json.schema_components(
        [AlertIn | list[AlertIn], LegacyAlertIn | list[LegacyAlertIn]],
        ref_template="#/components/schemas/{name}",
    )
    return {"v1": v1, "legacy": legacy}, components
