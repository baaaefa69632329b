"""The dashboard in a real headless Chromium against a real listener, processor and notifier."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.browser.conftest import OffMachine
from tests.e2e.conftest import Pipeline, alert_body
from tests.support import http, wait_ready

ABU_GHOSH = "אבו גוש"  # Abu Gosh, zone שפלת יהודה (the 2020 list spelled it אבו-גוש)
ABU_SNAN = "אבו סנאן"  # zone גליל עליון ("Upper Galilee")
ASHKELON = "אשקלון - דרום"  # Ashkelon - South: one of the two areas Ashkelon is today
TIMEOUT_MS = 20_000


def post(live: Pipeline, body: Any) -> None:
    status, answer = http("POST", live.listener_url + "/v1/alerts", body)
    assert status == 202, answer


def row(page: Any, location: str) -> Any:
    return page.locator(f'#active-list li[data-location="{location}"]')


def wait_state(page: Any, state: str) -> None:
    page.wait_for_selector(f'#connection-state[data-state="{state}"]', timeout=TIMEOUT_MS)


def test_an_alert_appears_counts_down_and_leaves_when_it_closes(
    live: Pipeline, page_factory: Any,
) -> None:
    page, off_machine = page_factory(live.notifier_urls[0])
    wait_state(page, "live")
    page.wait_for_selector("#all-quiet:visible", timeout=TIMEOUT_MS)
    page.wait_for_selector(f'#map [data-location="{ABU_GHOSH}"]', state="attached")

    post(live, alert_body("Abu Gosh", duration_s=8))
    row(page, ABU_GHOSH).wait_for(timeout=TIMEOUT_MS)
    assert "Abu Gosh" in row(page, ABU_GHOSH).inner_text()
    # Screen readers hear it; sounds stay off until the user turns them on.
    # Functions, not expression strings: Playwright evaluates strings with eval(), which the
    # page's CSP (no 'unsafe-eval') forbids.
    page.wait_for_function(
        "() => document.querySelector('#announce-polite').textContent.includes('Abu Gosh')"
        " || document.querySelector('#announce-assertive').textContent.includes('Abu Gosh')",
        timeout=TIMEOUT_MS)
    assert page.get_attribute("#sound-toggle", "aria-pressed") == "false"
    page.wait_for_selector(f'#map [data-location="{ABU_GHOSH}"].active', timeout=TIMEOUT_MS)
    assert page.locator("#all-quiet:visible").count() == 0

    countdown = row(page, ABU_GHOSH).locator(".countdown-window")
    first = int(countdown.get_attribute("data-seconds"))
    page.wait_for_timeout(2_000)
    assert int(countdown.get_attribute("data-seconds")) < first  # it counts down, live

    row(page, ABU_GHOSH).wait_for(state="detached", timeout=TIMEOUT_MS)  # the close
    page.wait_for_selector("#all-quiet:visible", timeout=TIMEOUT_MS)
    page.wait_for_selector(f'#history li[data-location="{ABU_GHOSH}"][data-kind="close"]',
                           timeout=TIMEOUT_MS)
    page.reload()  # history comes back from the server's stream
    page.wait_for_selector(f'#history li[data-location="{ABU_GHOSH}"][data-kind="open"]',
                           timeout=TIMEOUT_MS)
    assert off_machine.requests == [], "the page reached outside this machine"
    assert page.errors == []


def test_picking_a_zone_filters_what_arrives(live: Pipeline, page_factory: Any) -> None:
    page, _ = page_factory(live.notifier_urls[0])
    wait_state(page, "live")
    page.fill("#area-search", "Upper Galilee")
    page.locator("#area-results .result-zone").first.click()
    page.check("#mode-mine")
    page.wait_for_selector('#my-areas-list li[data-zone="גליל עליון"]', timeout=TIMEOUT_MS)
    page.wait_for_timeout(1_000)  # let the subscription's acknowledgement land

    post(live, alert_body("Abu Gosh", duration_s=60))
    post(live, alert_body("Abu Snan", duration_s=60))
    row(page, ABU_SNAN).wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(1_000)
    assert row(page, ABU_GHOSH).count() == 0
    stored = page.evaluate("JSON.parse(localStorage.getItem('alertflow.myAreas'))")
    assert stored["mode"] == "mine" and stored["zones"] == ["גליל עליון"]
    assert page.errors == []


def test_hebrew_switches_the_page_to_right_to_left(live: Pipeline, page_factory: Any) -> None:
    page, _ = page_factory(live.notifier_urls[0])
    wait_state(page, "live")
    assert page.get_attribute("html", "dir") == "ltr"
    page.select_option("#lang-select", "he")
    page.wait_for_selector('html[dir="rtl"][lang="he"]', timeout=TIMEOUT_MS)
    page.reload()  # the choice is kept
    page.wait_for_selector('html[dir="rtl"][lang="he"]', timeout=TIMEOUT_MS)


def test_hebrew_browsers_get_hebrew_first(live: Pipeline, page_factory: Any) -> None:
    page, _ = page_factory(live.notifier_urls[0], locale="he-IL")
    page.wait_for_selector('html[dir="rtl"][lang="he"]', timeout=TIMEOUT_MS)


def test_notifier_restart_shows_reconnecting_then_resumed_with_the_missed_events(
    live: Pipeline, page_factory: Any,
) -> None:
    page, _ = page_factory(live.notifier_urls[0])
    wait_state(page, "live")
    post(live, alert_body("Abu Snan", duration_s=120))
    row(page, ABU_SNAN).wait_for(timeout=TIMEOUT_MS)

    notifier = live.roles["notifier0"]
    notifier.kill()
    wait_state(page, "reconnecting")
    missed = [alert_body("Abu Gosh", duration_s=120),
              alert_body("Ashkelon - South", duration_s=120)]
    for body in missed:
        post(live, body)
    notifier.start()
    wait_ready(live.notifier_urls[0], notifier)

    wait_state(page, "resumed")
    assert page.get_attribute("#connection-state", "data-missed") == "2"
    row(page, ABU_GHOSH).wait_for(timeout=TIMEOUT_MS)
    row(page, ASHKELON).wait_for(timeout=TIMEOUT_MS)
    assert row(page, ABU_SNAN).count() == 1  # still there, not duplicated
    for body in missed:
        page.wait_for_selector(f'#history li[data-kind="open"][data-location="'
                               f'{ABU_GHOSH if body is missed[0] else ASHKELON}"]',
                               timeout=TIMEOUT_MS)


def test_a_barrage_renders_on_desktop_and_phone(
    live: Pipeline, page_factory: Any, catalog: Any, tmp_path: Path,
) -> None:
    """Screenshots of the page under a real barrage, in Hebrew, English and Arabic, for a resident
    of Ashkelon (South); ALERTFLOW_SCREENSHOTS=docs/screenshots refreshes the README's pictures."""
    centre = catalog.areas[ASHKELON]
    nearby = sorted(catalog.areas.values(),
                    key=lambda a: (a.lat - centre.lat) ** 2 + (a.lng - centre.lng) ** 2)[:60]
    pages: list[tuple[str, Any, OffMachine]] = []
    for lang in ("he", "en", "ar"):
        for name, viewport in (("desktop", {"width": 1440, "height": 900}),
                               ("phone", {"width": 390, "height": 844})):
            page, off_machine = page_factory(live.notifier_urls[0], viewport=viewport, storage={
                "alertflow.lang": lang,
                "alertflow.myAreas": {"mode": "all", "locations": [ASHKELON], "zones": []}})
            wait_state(page, "live")
            pages.append((f"{name}-{lang}", page, off_machine))
    post(live, [alert_body([area.id], duration_s=300) for area in nearby[:40]])
    post(live, alert_body([a.id for a in nearby[40:52]], duration_s=300, type="early_warning"))
    post(live, alert_body([a.id for a in nearby[52:]], duration_s=300, type="hostile_aircraft"))
    out = Path(os.environ.get("ALERTFLOW_SCREENSHOTS", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    for name, page, off_machine in pages:
        page.wait_for_function(
            "() => document.querySelectorAll('#active-list li[data-location]').length >= 60",
            timeout=TIMEOUT_MS)
        page.wait_for_selector("#my-banner:not([hidden])", timeout=TIMEOUT_MS)
        assert page.locator("#map .area.active").count() >= 60
        page.wait_for_timeout(1_500)  # let the highlight animations settle
        page.screenshot(path=str(out / f"dashboard-{name}.png"))
        assert (out / f"dashboard-{name}.png").stat().st_size > 20_000
        assert off_machine.requests == []
        assert page.errors == []


def test_the_dashboard_gets_alerts_when_websockets_are_blocked(
    live: Pipeline, browser: Any,
) -> None:
    """A network or proxy that refuses websockets: the page stays on long-polling, still live."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    refused: list[str] = []

    def refuse(websocket: Any) -> None:
        # Never connected to the server: the upgrade attempt is closed, as a blocking proxy does.
        refused.append(websocket.url)
        websocket.close()

    try:
        context.route_web_socket("**/socket.io/**", refuse)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(live.notifier_urls[0])
        wait_state(page, "live")
        post(live, alert_body("Abu Gosh", duration_s=30))
        row(page, ABU_GHOSH).wait_for(timeout=TIMEOUT_MS)
        assert "Abu Gosh" in row(page, ABU_GHOSH).inner_text()
        assert refused, "the page never tried to upgrade to a websocket"
        assert errors == []
    finally:
        context.close()
