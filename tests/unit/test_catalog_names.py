"""The bundled catalogue's names, checked over every area and zone in every language.

The catalogue's sources cut long names at a fixed length ("Ashdod - … Te*", "الرملة-"), glued
Arabic words together ("محطةالقطار", "أورشليمالقدس") and spelled one zone several ways; these
tests keep those faults out for the whole file, not only the names that were fixed
(scripts/build_catalog.py fixes them).
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import pytest

LANGUAGES = ("he", "en", "ru", "ar")


def records() -> list[dict[str, Any]]:
    text = resources.files("alertflow").joinpath("data/areas-il-2026.json").read_text("utf-8")
    loaded: list[dict[str, Any]] = json.loads(text)
    return [record for record in loaded if record["zone"]]  # not the whole country's names


def all_names() -> list[tuple[str, str, str, str]]:
    """(area id, 'name' or 'zone', language, text) for every name in the file."""
    return [(r["id"], field, lang, r[field][lang])
            for r in records() for field in ("name", "zone") for lang in LANGUAGES]


def test_every_area_and_zone_is_named_in_every_language() -> None:
    missing = [(i, f, lang) for i, f, lang, text in all_names() if not text or not text.strip()]
    assert missing == []


def test_no_name_is_marked_as_cut() -> None:
    cut = [(i, f, lang, text) for i, f, lang, text in all_names()
           if text.rstrip().endswith(("*", ",", "-", "…")) or "*" in text]
    assert cut == []


def test_no_arabic_word_runs_on_after_a_final_letter() -> None:
    # Taa marbuta (ة) only ends a word: a letter right after it means two words were glued.
    glued = [(i, f, text) for i, f, lang, text in all_names()
             if lang == "ar" and re.search(r"ة[\u0621-\u064A]", text)]
    assert glued == []


def test_arabic_zone_names_have_at_least_as_many_words_as_the_hebrew() -> None:
    zones = {r["zone"]["he"]: r["zone"] for r in records()}
    glued = {he: z["ar"] for he, z in zones.items() if len(z["ar"].split()) < len(he.split())}
    assert glued == {}


def test_each_zone_has_one_spelling_per_language() -> None:
    spellings: dict[tuple[str, str], set[str]] = {}
    for r in records():
        for lang in LANGUAGES:
            spellings.setdefault((r["zone"]["he"], lang), set()).add(r["zone"][lang])
    assert {k: v for k, v in spellings.items() if len(v) > 1} == {}


@pytest.mark.parametrize(("area", "lang", "name"), [
    ("אשדוד - ח,ט,י,יג,יד,טז", "en", "Ashdod - Het, Tet, Yod, Yod Gimmel, Yod Dalet, Tet Zayin"),
    ("רמלה", "ar", "الرملة"),
    ("תחנת רכבת ראש העין", "ar", "محطة القطار رأس العين"),
])
def test_names_reported_cut_are_whole(area: str, lang: str, name: str) -> None:
    assert {r["id"]: r for r in records()}[area]["name"][lang] == name


@pytest.mark.parametrize(("zone", "arabic"), [
    ("עוטף עזה", "غلاف غزة"), ("ירושלים", "أورشليم القدس"), ("גליל עליון", "الجليل الأعلى"),
])
def test_arabic_zone_names_reported_glued_are_spaced(zone: str, arabic: str) -> None:
    assert {r["zone"]["he"]: r["zone"]["ar"] for r in records()}[zone] == arabic
