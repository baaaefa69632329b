"""The taxonomy: every way sources name a kind of alert lands on one category, and the national
feed's titles are read by what they say (tests/data/feed-titles.json holds the real ones)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alertflow.domain import categories, hfc_out
from alertflow.domain.categories import (
    CATEGORIES,
    category_of,
    category_of_cap,
    fold,
    is_category,
    normalize,
    rule_categories,
    title_category,
)
from tests import feed_samples

CORPUS: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "data" / "feed-titles.json").read_text(encoding="utf-8"))
TITLES: list[tuple[str, str]] = [(entry["title"], entry["category"]) for entry in CORPUS["titles"]]

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



# --- The corpus of real titles ------------------------------------------------------------------

def test_the_corpus_says_where_each_title_was_seen() -> None:
    assert all(entry["source"] in CORPUS["sources"] for entry in CORPUS["titles"])
    assert all(entry["category"] in CATEGORIES for entry in CORPUS["titles"])


def test_the_corpus_holds_every_title_of_the_domain_tables_and_the_feed_samples() -> None:
    held = set(TITLES)
    for category, names in categories._ALIASES.items():
        assert {(name, category) for name in names} <= held, category
    assert (feed_samples.MISSILES_TITLE + hfc_out.ENDED_SUFFIX, "all_clear") in held
    for title, category in [(feed_samples.EARLY_WARNING_TITLE, "early_warning"),
                            (feed_samples.HISTORY_EARLY_WARNING_TITLE, "early_warning"),
                            (feed_samples.MISSILES_TITLE, "missiles"),
                            (feed_samples.ENDED_TITLE, "all_clear")]:
        assert (title, category) in held


@pytest.mark.parametrize(("title", "category"), TITLES)
def test_each_real_title_is_read_as_what_it_is(title: str, category: str) -> None:
    assert title_category(title) == category  # known: never counted as an unknown title


@pytest.mark.parametrize(("title", "category"),
                         [(t, c) for t, c in TITLES if c != "all_clear"])
def test_no_all_clear_rule_matches_a_title_that_is_not_an_all_clear(title: str,
                                                                    category: str) -> None:
    """Not only does the order of the rules put the alert first: no all-clear rule finds
    anything in it at all."""
    assert "all_clear" not in rule_categories(title), (title, category)


@pytest.mark.parametrize("title", [
    "יש לשהות בסמיכות למרחב המוגן", "איום מלבנון - התקרבו למרחב מוגן", "הארוע הסתיים",
])
def test_the_titles_issue_23_found_misread_are_no_longer_general(title: str) -> None:
    assert category_of(title) != "general"


# --- Phrasings the rules are for (constructed: variants of the real ones above) -----------------

PHRASINGS = {
    # Hebrew: spacing, geresh and gershayim, defective spellings, the "alert" written two ways
    "האירוע  הסתיים": "all_clear",
    "האירוע הסתים": "all_clear",
    "הארוע הסתים": "all_clear",
    "ירי רקטות וטילים – הארוע הסתיים": "all_clear",
    "כטב״ם - האירוע הסתיים": "all_clear",
    "ההתרעה הסתיימה": "all_clear",
    "האירוע הסתיים באזורים הבאים:": "all_clear",
    "השוהים במרחב המוגן יכולים לצאת": "all_clear",
    "סיום אירוע": "all_clear",
    "יש לשהות בסמיכות למרחב מוגן": "early_warning",
    "יש לשהות בסמיכות לממ״ד": "early_warning",
    "היכונו להיכנס למרחב המוגן": "early_warning",
    "התקרבו למרחב המוגן": "early_warning",
    "הישארו קרוב למרחב מוגן": "early_warning",
    "איום מלבנון - יש להישאר בקרבת המרחב המוגן": "early_warning",
    "בדקות הקרובות צפויות להתקבל התראות באיזורך": "early_warning",
    "בדקות הקרובות ייתכן ויופעלו התרעות באזורך": "early_warning",
    "התראה מקדימה": "early_warning",
    "תרגיל - בדקות הקרובות צפויות להתקבל התרעות": "drill",
    "היכנסו מייד למרחב המוגן": "general",
    # English, Russian and Arabic, as the feed's pages in those languages would put them
    "Rocket and missile fire - The event has ended": "all_clear",
    "Hostile aircraft intrusion – event ended": "all_clear",
    "You may leave the protected space": "all_clear",
    "The event is over": "all_clear",
    "Stay close to the protected space": "early_warning",
    "Alerts are expected in your area within the next few minutes": "early_warning",
    "You may leave the protected space but stay close to it": "early_warning",
    "Pre-alert": "early_warning",
    "Ракетный обстрел - событие завершилось": "all_clear",
    "Отбой тревоги": "all_clear",
    "Можно выйти из защищённого помещения": "all_clear",
    "В ближайшие минуты ожидаются оповещения в вашем районе": "early_warning",
    "Оставайтесь рядом с защищённым помещением": "early_warning",
    "إطلاق قذائف وصواريخ - انتهى الحدث": "all_clear",
    "يمكن الخروج من الحيز المحمي": "all_clear",
    "يجب البقاء بالقرب من الحيز المحمي": "early_warning",
    "من المتوقع تفعيل الإنذارات في منطقتك خلال الدقائق القادمة": "early_warning",
    # not an end: a negation, "until", or a preposition where an all-clear word could be
    "האירוע טרם הסתיים": "general",
    "האירוע לא הסתיים - היכנסו למרחב המוגן": "general",
    "עד סיום האירוע יש לשהות במרחב המוגן": "general",
    "לא ניתן לצאת מהמרחב המוגן": "general",
    "The event has not ended": "general",
    "Rocket alerts over Tel Aviv": "missiles",
    "Событие не завершено": "general",
    "لم ينته الحدث": "general",
}


@pytest.mark.parametrize("title", list(PHRASINGS))
def test_phrasings_are_read_by_what_they_say(title: str) -> None:
    assert category_of(title) == PHRASINGS[title]
    if PHRASINGS[title] != "all_clear":
        assert "all_clear" not in rule_categories(title)


def test_a_title_no_rule_knows_is_general_and_says_so() -> None:
    for title in ("איום חדש לגמרי", "Something new", "פיקוד העורף"):
        assert title_category(title) is None and category_of(title) == "general"
    assert title_category("מבזק") == "general"  # known to say nothing more: not drift


def test_fold_writes_one_spelling() -> None:
    assert fold("הארוע  הסתיים!") == fold("האירוע הסתיים") == "האירוע הסתיים"
    assert fold("התראות באיזורך") == fold("התרעות באזורך")
    assert fold("إنذار مبكر") == fold("انذار مبكر")
    assert fold("Отбой ещё") == "отбой еще"


def test_a_title_is_read_once_then_from_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = categories._recognise

    def counting(text: str) -> Any:
        calls.append(text)
        return real(text)

    monkeypatch.setattr(categories, "_recognise", counting)
    title = "ירי רקטות וטילים - האירוע הסתיים (cache test)"
    assert [category_of(title) for _ in range(3)] == ["all_clear"] * 3
    assert calls == [title]


# --- Whatever surrounds them ----------------------------------------------------------------------

ALERT_PHRASES = sorted({title for title, category in TITLES if category != "all_clear"} | {
    title for title, category in PHRASINGS.items() if category != "all_clear"})
ALL_CLEAR_PHRASES = sorted({title for title, category in TITLES if category == "all_clear"} | {
    title for title, category in PHRASINGS.items() if category == "all_clear"})
EARLY_WARNINGS = sorted({title for title, category in TITLES if category == "early_warning"} | {
    title for title, category in PHRASINGS.items() if category == "early_warning"})
HAZARDS = ["ירי רקטות וטילים", "חדירת כלי טיס עוין", "Rocket and missile fire", "Ракетный обстрел",
           "إطلاق قذائف وصواريخ", "רעידת אדמה", "חדירת מחבלים", "איום מלבנון"]
AREAS = ["אשקלון - דרום", "תל אביב - דרום העיר ויפו", "שדרות, איבים", "ג'וליס", "דוב''ב",
         "באזורך", "באזורים הבאים:", "Ashkelon", "12:04", "(עדכון)"]
SEPARATORS = [" ", "  ", " - ", " – ", " — ", ": ", ", ", " | ", "\u200f ", "\n"]
# Misspellings and marks the feed's titles come with: a defective spelling, the other word for
# "alert", a geresh for an apostrophe, an RTL mark, niqqud.
MUTATIONS = [
    lambda text: text, lambda text: text.replace("אירוע", "ארוע"),
    lambda text: text.replace("התרעות", "התראות"), lambda text: text.replace("'", "\u05f3"),
    lambda text: text.replace(" ", "  "), lambda text: text + "\u200f",
    lambda text: text.replace("הסתיים", "הסתים"), lambda text: text.replace("אזור", "איזור"),
    lambda text: text.upper(), lambda text: text.replace("ר", "\u05b8ר"),
]


@st.composite
def surrounded(draw: st.DrawFn, phrases: list[str], noise: list[str]) -> str:
    """One of `phrases` among noise, each part joined by a separator, the whole misspelled."""
    parts = draw(st.lists(st.sampled_from(noise), max_size=3))
    parts.insert(draw(st.integers(0, len(parts))), draw(st.sampled_from(phrases)))
    text = parts[0]
    for part in parts[1:]:
        text += draw(st.sampled_from(SEPARATORS)) + part
    mutated: str = draw(st.sampled_from(MUTATIONS))(text)
    return mutated


@given(surrounded(ALERT_PHRASES, ALERT_PHRASES + HAZARDS + AREAS))
def test_no_alert_or_early_warning_title_is_ever_read_as_an_all_clear(title: str) -> None:
    assert category_of(title) != "all_clear"


@given(surrounded(ALL_CLEAR_PHRASES, HAZARDS + AREAS))
def test_an_all_clear_among_names_and_misspellings_stays_an_all_clear(title: str) -> None:
    assert category_of(title) == "all_clear"


@given(surrounded(EARLY_WARNINGS, HAZARDS + AREAS))
def test_an_early_warning_among_names_and_misspellings_stays_an_early_warning(title: str) -> None:
    assert category_of(title) == "early_warning"
