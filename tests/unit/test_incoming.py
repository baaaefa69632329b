"""Foreign alerts under the shared rules: names resolve as in alertflow's own JSON."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from alertflow.catalog import load_catalog
from alertflow.domain import cap
from alertflow.domain.alert import Alert, AlertRejected
from alertflow.domain.geo import AreaIndex
from alertflow.domain.incoming import to_alerts
from alertflow.schemas import cap12
from alertflow.settings import DEFAULT_SETTINGS
from tests.feed_samples import SDEROT, SDEROT_POLYGON, cap_message

CATALOG = load_catalog()
INDEX = AreaIndex.of(CATALOG)
RULES = DEFAULT_SETTINGS.ingest_rules()


def alerts_of(body: bytes, strict: bool = False) -> list[Alert]:
    now = datetime.now(UTC).replace(microsecond=0)
    message = cap.parse(body, cap12(), INDEX)
    rules = dataclasses.replace(RULES, strict_locations=strict)
    return to_alerts(list(message.alerts), source="s", now_ms=int(now.timestamp() * 1000),
                     catalog=CATALOG, rules=rules)


def message(**changes: object) -> bytes:
    now = datetime.now(UTC).replace(microsecond=0)
    return cap_message("i", sent=now, **changes)  # type: ignore[arg-type]


def test_a_city_named_in_area_desc_is_all_its_areas() -> None:
    [alert] = alerts_of(message(area_desc="Tel Aviv"))
    assert len(alert.locations) == 4 and all("תל אביב" in area for area in alert.locations)
    assert set(alert.source_names.values()) == {"Tel Aviv"}


def test_a_description_beside_a_shape_is_not_an_unknown_location() -> None:
    [alert] = alerts_of(message(area_desc="Sector 7", polygon=SDEROT_POLYGON))
    assert alert.locations == [SDEROT] and alert.unknown_locations == []


def test_unknown_descriptions_follow_strict_locations() -> None:
    [alert] = alerts_of(message(area_desc="Atlantis"))
    assert alert.unknown_locations == ["Atlantis"]
    with pytest.raises(AlertRejected) as refused:
        alerts_of(message(area_desc="Atlantis"), strict=True)
    assert refused.value.field == "/alert/info[1]/area[1]/areaDesc"
