"""Random points, polygons and circles against the bundled catalog's outlines: every answer is
a list of catalog areas or `ShapeError`, never anything else (degenerate rings, bow ties,
shapes over the whole globe or across the antimeridian, NaN and other text for numbers)."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, example, given, settings

from alertflow.catalog import load_catalog
from alertflow.domain.geo import AreaIndex, ShapeError
from tests.fuzz.shapes import circle_text, numbers, polygon_text

pytestmark = pytest.mark.fuzz

CATALOG = load_catalog()
INDEX = AreaIndex.of(CATALOG)
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

def answered(query: object, *args: object) -> None:
    try:
        found = query(*args)  # type: ignore[operator]
    except ShapeError as exc:
        assert str(exc)
        return
    assert isinstance(found, list) and set(found) <= set(CATALOG.areas)
    assert len(found) == len(set(found))


@SETTINGS
@given(polygon_text)
@example("-90,-180 90,-180 90,180 -90,180 -90,-180")
def test_any_polygon_text(text: str) -> None:
    answered(INDEX.in_polygon, text)


@SETTINGS
@given(circle_text)
@example("90,0 1000")
@example("-90,180 1000")
@example("31.5,180 1000")
@example("31.5,34.6 nan")
def test_any_circle_text(text: str) -> None:
    answered(INDEX.in_circle, text)


@SETTINGS
@given(numbers, numbers)
@example(math.nan, 35.0)
@example(90.0, 180.0)
def test_any_point(lat: float, lng: float) -> None:
    answered(INDEX.at, lat, lng)
