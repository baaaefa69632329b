"""Hazards: which categories share a window, and what an all-clear ends. ONE table.

An incident (a window) is an area under one *hazard*. Alerts of categories of one hazard share
the area's window for it (one guidance, one countdown, one end); alerts of different hazards in
one area are different windows, each with its own. The Python rules (`aggregation.py`), the
Redis scripts (which get the hazard from here as an argument) and the in-memory store all key
windows by (hazard, area); docs/protocol.md ("Hazards") describes this table for clients.

- `aerial`: rockets and missiles, hostile aircraft, and the early warnings of them. The feed's
  early warning ("alerts are expected in your area in the next minutes", "approach a protected
  space") announces a launch or an aircraft it cannot yet tell apart; the alert that follows
  turns the same window into a rocket (or aircraft) window rather than opening a second one
  beside it. Rockets and aircraft share it: the same guidance (enter a protected space), and
  the national feed ends both with one "event ended".
- `infiltration`: terrorists infiltrating: lock yourself in, which is not the guidance for
  rockets; its own window. The feed's "event ended" ends it too.
- `earthquake`, `tsunami`, `hazmat`, `nonconventional`, `radiological`: each its own window,
  with its own guidance; the feed's "event ended" never ends them.
- `drill`: a drill never merges with the real thing (and a real all-clear never ends a drill).
- `general`: news flashes and types no table knows: shown, in a window of their own.

`all_clear` is no hazard: it is what ends one (see `hazards_ended`).
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from alertflow.domain.categories import CATEGORIES, Category, category_of

Hazard = Literal["aerial", "infiltration", "earthquake", "tsunami", "hazmat",
                 "nonconventional", "radiological", "drill", "general"]
HAZARDS: Final[tuple[Hazard, ...]] = get_args(Hazard)

# The table: each hazard and the categories whose alerts share its window.
WINDOWS: Final[dict[Hazard, tuple[Category, ...]]] = {
    "aerial": ("missiles", "hostile_aircraft", "early_warning"),
    "infiltration": ("infiltration",),
    "earthquake": ("earthquake",),
    "tsunami": ("tsunami",),
    "hazmat": ("hazmat",),
    "nonconventional": ("nonconventional",),
    "radiological": ("radiological",),
    "drill": ("drill",),
    "general": ("general",),
}

# What the national feed's all-clear ("האירוע הסתיים", "event ended") ends, and so what an
# all-clear that names no hazard ends: the feed sends it after rocket, aircraft and
# infiltration events (and the early warnings of them), never after an earthquake or tsunami.
FEED_ALL_CLEAR_ENDS: Final[tuple[Hazard, ...]] = ("aerial", "infiltration")

_HAZARD_OF: Final[dict[str, Hazard]] = {
    category: hazard for hazard, categories in WINDOWS.items() for category in categories}
if set(_HAZARD_OF) != set(CATEGORIES) - {"all_clear"} or len(_HAZARD_OF) != sum(
        len(categories) for categories in WINDOWS.values()):
    raise AssertionError("every category but all_clear belongs to exactly one hazard")


def hazard_of(category: str) -> Hazard:
    """The hazard whose window an alert of `category` joins (`general` for anything else)."""
    return _HAZARD_OF.get(category, "general")


def _named_hazard(category: str) -> Hazard | None:
    hazard = _HAZARD_OF.get(category)
    return None if hazard is None or hazard == "general" else hazard


def hazards_ended(category: str, type_: str | None = None) -> tuple[Hazard, ...]:
    """The hazards an all-clear ends in the areas it names.

    The hazard its `category` names when that is one (`{"kind": "cancel", "category":
    "earthquake"}`), else the one its `type` names (`{"kind": "cancel", "type": "Earthquake"}`:
    the listener files every cancel under `all_clear`), else what the national feed's
    all-clear ends (`FEED_ALL_CLEAR_ENDS`): a bare "all clear", and the feed's own "… - האירוע
    הסתיים", end rockets, aircraft, infiltration and their early warnings, never an
    earthquake, a tsunami, a hazmat event or a drill (those need an all-clear naming them).
    """
    named = _named_hazard(category)
    if named is None and type_:
        named = _named_hazard(category_of(type_))
    return (named,) if named is not None else FEED_ALL_CLEAR_ENDS
