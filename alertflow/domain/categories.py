"""The alert taxonomy: what kind of danger an alert is, whatever words its source used.

Sources name alert types in free text ("Rocket Alert", "ירי רקטות וטילים", a CAP `<event>`).
Every alert also gets one `category` from the fixed set below, found through ONE alias table
(`category_of`). A type the table does not know is `general` and is still shown as written.

The national feed numbers categories differently in its realtime and history shapes; its number
tables live with its parser, which maps them to these identifiers (and calls `category_of` on
its titles first, since the titles are what tell an all-clear or an early warning apart).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal, get_args

from alertflow.domain.text import words

Category = Literal[
    "missiles", "hostile_aircraft", "earthquake", "tsunami", "infiltration", "hazmat",
    "nonconventional", "radiological", "early_warning", "all_clear", "general", "drill",
]
CATEGORIES: Final[tuple[Category, ...]] = get_args(Category)
GENERAL: Final[Category] = "general"

# Whole names, compared after `normalize`. English and Hebrew as the Home Front Command and its
# apps write them, plus the short forms sources use; Russian and Arabic for the commonest ones.
_ALIASES: Final[dict[Category, tuple[str, ...]]] = {
    "missiles": (
        "missiles", "missile", "rockets", "rocket", "rocket alert", "rocket alerts",
        "missile alert", "red alert", "code red", "rocket and missile fire",
        "rockets and missiles", "rocket fire", "missile fire", "rocket attack",
        "ירי רקטות וטילים", "ירי רקטות", "ירי טילים", "רקטות וטילים", "צבע אדום", "טילים",
        "רקטות", "התרעה על ירי רקטות וטילים",
        "ракетный обстрел", "обстрел ракетами и снарядами",
        "إطلاق صواريخ وقذائف", "اطلاق صواريخ وقذائف", "إطلاق قذائف وصواريخ", "صواريخ",
    ),
    "hostile_aircraft": (
        "hostile aircraft", "hostile aircraft intrusion", "hostile aircraft infiltration",
        "aircraft intrusion", "uav", "uav intrusion", "drone", "hostile drone",
        "unmanned aircraft", "hostile uav",
        "חדירת כלי טיס עוין", "כלי טיס עוין", "חדירת כטב\"ם", "כטב\"ם", "כטבם", "רחפן",
        "проникновение вражеского летательного аппарата", "вражеский беспилотник",
        "تسلل طائرة معادية", "طائرة مسيرة معادية",
    ),
    "earthquake": (
        "earthquake", "earthquakes", "quake", "seismic", "רעידת אדמה", "רעידות אדמה",
        "землетрясение", "هزة أرضية", "زلزال",
    ),
    "tsunami": ("tsunami", "צונאמי", "цунами", "تسونامي"),
    "infiltration": (
        "infiltration", "terrorist infiltration", "terrorists infiltration",
        "hostile infiltration", "חדירת מחבלים", "חשש לחדירת מחבלים", "חדירת מחבל",
        "проникновение террористов", "تسلل مخربين", "تسلل إرهابيين",
    ),
    "hazmat": (
        "hazmat", "hazardous materials", "hazardous material", "hazardous materials incident",
        "chemical leak", "חומרים מסוכנים", "אירוע חומרים מסוכנים", "דליפת חומרים מסוכנים",
        "опасные вещества", "مواد خطرة",
    ),
    "nonconventional": (
        "nonconventional", "non conventional", "unconventional", "unconventional weapons",
        "non conventional weapons", "nonconventional weapons", "non conventional missile",
        "unconventional missile", "נשק לא קונבנציונלי", "טיל לא קונבנציונלי",
        "неконвенциональное оружие", "سلاح غير تقليدي",
    ),
    "radiological": (
        "radiological", "radiological event", "radiological incident", "radiation",
        "אירוע רדיולוגי", "радиологическое событие", "حدث إشعاعي",
    ),
    "early_warning": (
        "early warning", "early warnings", "pre alert", "preliminary alert",
        "alerts expected", "alerts expected soon", "התרעה מקדימה", "התראה מקדימה",
        "раннее предупреждение", "إنذار مبكر",
    ),
    "all_clear": (
        "all clear", "all clear signal", "event ended", "the event has ended", "end of event",
        "האירוע הסתיים", "סיום אירוע", "ניתן לצאת מהמרחב המוגן", "השוהים במרחב המוגן יכולים לצאת",
        "событие завершено", "انتهى الحدث",
    ),
    "general": ("general", "news flash", "מבזק", "הודעה כללית"),
    "drill": (
        "drill", "exercise", "test alert", "תרגיל", "תרגול", "учения", "تمرين",
    ),
}

# Phrases that decide the category wherever they stand in a longer title, in this order: the
# feed's titles append "- האירוע הסתיים" to the event they end, and announce an early warning
# with a sentence whose tail varies ("באזורך", "באיזורים הבאים:").
_PHRASES: Final[tuple[tuple[str, Category], ...]] = (
    ("האירוע הסתיים", "all_clear"),
    ("event has ended", "all_clear"),
    ("event ended", "all_clear"),
    ("all clear", "all_clear"),
    ("בדקות הקרובות צפויות להתקבל התרעות", "early_warning"),
    ("בדקות הקרובות צפויות להתקבל התראות", "early_warning"),
    ("alerts are expected", "early_warning"),
    ("alerts expected", "early_warning"),
    ("early warning", "early_warning"),
    ("התרעה מקדימה", "early_warning"),
    ("תרגיל", "drill"),
    ("drill", "drill"),
    ("ירי רקטות", "missiles"),
    ("rocket", "missiles"),
    ("rockets", "missiles"),
    ("missile", "missiles"),
    ("missiles", "missiles"),
    ("כלי טיס עוין", "hostile_aircraft"),
    ("hostile aircraft", "hostile_aircraft"),
    ("רעידת אדמה", "earthquake"),
    ("earthquake", "earthquake"),
    ("צונאמי", "tsunami"),
    ("tsunami", "tsunami"),
    ("חדירת מחבלים", "infiltration"),
    ("infiltration", "infiltration"),
    ("חומרים מסוכנים", "hazmat"),
    ("hazardous material", "hazmat"),
    ("רדיולוגי", "radiological"),
    ("radiological", "radiological"),
    ("לא קונבנציונלי", "nonconventional"),
)

# CAP 1.2 `<category>` values: only a fallback when the `<event>` text says nothing we know.
CAP_CATEGORIES: Final[dict[str, Category]] = {
    "geo": "earthquake", "met": GENERAL, "safety": GENERAL, "security": GENERAL,
    "rescue": GENERAL, "fire": GENERAL, "health": GENERAL, "env": GENERAL,
    "transport": GENERAL, "infra": GENERAL, "cbrne": "hazmat", "other": GENERAL,
}

normalize = words  # the alias table's keys: case, spacing and punctuation never matter


def _build(aliases: dict[Category, tuple[str, ...]]) -> dict[str, Category]:
    table: dict[str, Category] = {category: category for category in CATEGORIES}
    for category, names in aliases.items():
        for name in names:
            key = normalize(name)
            if table.get(key, category) != category:
                raise ValueError(f"alias {name!r} names two categories")
            table[key] = category
    return table


_TABLE: Final[dict[str, Category]] = _build(_ALIASES)
_NORMALIZED_PHRASES: Final[tuple[tuple[str, Category], ...]] = tuple(
    (normalize(phrase), category) for phrase, category in _PHRASES
)


_CACHE_LIMIT = 4096
_cache: dict[str, Category] = {}


def category_of(text: str | None) -> Category:
    """The category a type or title names; `general` when nothing in it is known."""
    if not text:
        return GENERAL
    found = _cache.get(text)
    if found is None:
        found = _lookup(text)
        if len(_cache) < _CACHE_LIMIT:  # sources use a handful of types; a flood must not grow it
            _cache[text] = found
    return found


def _lookup(text: str) -> Category:
    key = normalize(text)
    found = _TABLE.get(key)
    if found is not None:
        return found
    padded = f" {key} "
    for phrase, category in _NORMALIZED_PHRASES:
        if f" {phrase} " in padded or (" " in phrase and phrase in key):
            return category
    return GENERAL


def category_of_cap(event: str | None, cap_categories: Iterable[str] = ()) -> Category:
    """A CAP `<info>`'s category: its `<event>` text first, then its `<category>` values."""
    found = category_of(event)
    if found != GENERAL:
        return found
    for value in cap_categories:
        mapped = CAP_CATEGORIES.get(value.strip().casefold())
        if mapped is not None and mapped != GENERAL:
            return mapped
    return GENERAL


def is_category(value: str) -> bool:
    return value in CATEGORIES
