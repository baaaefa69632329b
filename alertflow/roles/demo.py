"""`alertflow dev --demo`: realistic barrages over real areas, for the dashboard to show.

Each salvo picks an area and its nearest neighbours (sirens sound in clusters), sometimes with an
early warning first and sometimes an all-clear before the window ends.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
import uuid

import structlog

from alertflow.backends.ports import AlertPublisher, BrokerUnavailable
from alertflow.domain.alert import Alert
from alertflow.domain.categories import category_of
from alertflow.domain.locations import Area, Catalog

log = structlog.get_logger("alertflow.demo")


def _nearest(catalog: Catalog, centre: Area, count: int) -> list[str]:
    def distance(area: Area) -> float:
        return math.hypot(area.lat - centre.lat, (area.lng - centre.lng) * 0.85)

    return [area.id for area in sorted(catalog.areas.values(), key=distance)[:count]]


# Types as the national feed titles them; the category comes from the same alias table the
# listener uses, so the demo shows what real sources would.
_TYPES = {"missiles": "ירי רקטות וטילים", "hostile_aircraft": "חדירת כלי טיס עוין",
          "earthquake": "רעידת אדמה",
          "early_warning": "בדקות הקרובות צפויות להתקבל התרעות באזורך",
          "all_clear": "האירוע הסתיים"}


def _alert(kind: str, category: str, locations: list[str], duration_s: int) -> Alert:
    now = int(time.time() * 1000)
    alert_type = _TYPES["all_clear" if kind == "cancel" else category]
    return Alert(id=f"demo-{uuid.uuid4()}", kind=kind,  # type: ignore[arg-type]
                 type=alert_type, category=category_of(alert_type), locations=locations,
                 issued_at=now, duration_s=duration_s, received_at=now, source="demo")


async def run_demo(publisher: AlertPublisher, catalog: Catalog, seed: int | None = None) -> None:
    if not len(catalog):
        log.warning("demo needs a location catalog; none loaded")
        return
    rng = random.Random(seed)
    areas = list(catalog.areas.values())
    await asyncio.sleep(1.0)
    while True:
        centre = rng.choice(areas)
        cluster = _nearest(catalog, centre, rng.randint(3, 25))
        alert_type = rng.choices(["missiles", "hostile_aircraft", "earthquake"], [8, 3, 1])[0]
        try:
            if rng.random() < 0.3:
                await publisher.publish([_alert("alert", "early_warning", cluster, 60)])
                await asyncio.sleep(rng.uniform(2, 5))
            await publisher.publish([_alert("alert", alert_type, cluster, rng.randint(20, 90))])
            if rng.random() < 0.25:
                await asyncio.sleep(rng.uniform(5, 15))
                await publisher.publish([_alert("cancel", alert_type, cluster, 0)])
        except BrokerUnavailable as exc:
            log.warning("demo alert not accepted", error=str(exc))
        await asyncio.sleep(rng.uniform(3, 10))
