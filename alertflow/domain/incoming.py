"""An alert as a foreign format (the national feed, CAP) describes it, before the shared rules.

The format parsers (`domain/hfc.py`, `domain/cap.py`) turn their bodies into `Incoming` alerts;
the listener then applies the same rules as to its own JSON (the clock window, name resolution,
strict locations) to make queue messages. Keeping this step separate lets each parser stay
pure and lets one module own the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from alertflow.domain.categories import Category


@dataclass(frozen=True, slots=True)
class Incoming:
    """One alert of a foreign format. `path` says where in the body it came from (for errors)."""

    id: str
    kind: Literal["alert", "cancel"]
    type: str
    category: Category
    issued_at: int  # epoch ms
    duration_s: int
    path: str
    # Place names as the source wrote them, each with its own path in the body.
    names: tuple[tuple[str, str], ...] = ()
    # Names used only when they resolve: a CAP <areaDesc> beside shapes, <geocode> values.
    optional_names: tuple[tuple[str, str], ...] = ()
    # Catalog area ids already found by geometry (CAP polygons and circles).
    area_ids: tuple[str, ...] = ()
    title: str | None = None
    instructions: str | None = None
