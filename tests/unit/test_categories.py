"""The taxonomy: every way sources name a kind of alert lands on one category."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alertflow.domain.categories import (
    CATEGORIES,
    category_of,
    category_of_cap,
    is_category,
    normalize,
)

NAMED = {
    "Rocket Alert": "missiles",
    "rocket alert": "missiles",
    "  ROCKET   ALERT ": "missiles",
    "Rocket-Alert!": "missiles",
    "missiles": "missiles",
    "ירי רקטות וטילים": "missiles",
    "Hostile aircraft intrusion": "hostile_aircraft",
    "חדירת כלי טיס עוין": "hostile_aircraft",
    'כטב"ם': "hostile_aircraft",
    "כטב״ם": "hostile_aircraft",  # gershayim
    "רעידת אדמה": "earthquake",
    "Earthquake": "earthquake",
    "צונאמי": "tsunami",
    "Tsunami": "tsunami",
    "חדירת מחבלים": "infiltration",
    "Terrorist infiltration": "infiltration",
    "חומרים מסוכנים": "hazmat",
    "Hazardous Materials": "hazmat",
    "אירוע רדיולוגי": "radiological",
    "Radiological event": "radiological",
    "נשק לא קונבנציונלי": "nonconventional",
    "Non-conventional missile": "nonconventional",
    "בדקות הקרובות צפויות להתקבל התרעות באזורך": "early_warning",
    "בדקות הקרובות צפויות להתקבל התרעות באיזורים הבאים:": "early_warning",
    "Early warning": "early_warning",
    "האירוע הסתיים": "all_clear",
    "ירי רקטות וטילים - האירוע הסתיים": "all_clear",
    "חדירת כלי טיס עוין - האירוע הסתיים": "all_clear",
    "All clear": "all_clear",
    "תרגיל": "drill",
    "ירי רקטות וטילים - תרגיל": "drill",
    "Drill": "drill",
    "Ракетный обстрел": "missiles",
    "إطلاق صواريخ وقذائف": "missiles",
    "ירי רקטות וטילים\u200f": "missiles",  # a trailing RTL mark
}


@pytest.mark.parametrize("text", list(NAMED))
def test_names_in_english_and_hebrew_find_their_category(text: str) -> None:
    assert category_of(text) == NAMED[text]


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_identifier_names_itself(category: str) -> None:
    assert category_of(category) == category
    assert is_category(category)


@pytest.mark.parametrize("text", ["Solar flare", "", None, "???", "פיקוד העורף", "tornado"])
def test_an_unknown_type_is_general(text: str | None) -> None:
    assert category_of(text) == "general"


def test_a_word_inside_another_word_is_not_taken() -> None:
    assert category_of("Drilling works") == "general"
    assert category_of("Testing") == "general"


@pytest.mark.parametrize("event, cap, expected", [
    ("Rocket Alert", ["Security"], "missiles"),
    ("ירי רקטות וטילים", ["Safety"], "missiles"),
    ("Seismic activity report", ["Geo"], "earthquake"),
    ("Chemical spill", ["CBRNE"], "hazmat"),
    ("Storm", ["Met"], "general"),
    ("Something", ["Other", "Geo"], "earthquake"),
    ("Something", [" cbrne "], "hazmat"),
    (None, [], "general"),
])
def test_cap_event_first_then_cap_category(event: str | None, cap: list[str],
                                           expected: str) -> None:
    assert category_of_cap(event, cap) == expected


def test_normalize_ignores_case_spacing_punctuation_and_marks() -> None:
    assert normalize("  Rocket-ALERT!! ") == "rocket alert"
    assert normalize("כטב״ם") == normalize('כטב"ם') == "כטבם"
    assert normalize("שָׁלוֹם") == "שלום"  # niqqud


@given(st.text(max_size=200))
def test_any_text_gets_a_category(text: str) -> None:
    assert category_of(text) in CATEGORIES
