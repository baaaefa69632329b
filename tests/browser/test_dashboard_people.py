"""Issue 16: the dashboard as a resident on a phone, an operator in a barrage, and in four
languages — in real Chromium against a real listener, processor and notifier.

One pipeline serves the whole module (starting three roles per test would cost more than the
tests); each test uses its own areas, or waits for its windows to close, so none sees another's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import AMQP_URL, REDIS_URL, require_service
from tests.e2e.conftest import Pipeline, alert_body, start_roles, stop_all
from tests.support import http, now_iso

TIMEOUT_MS = 20_000
ASHKELON = "אשקלון - דרום"  # Ashkelon - South: 30 s to shelter, zone "West Lachish"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    require_service("RabbitMQ", AMQP_URL, 5672)
    require_service("Redis", REDIS_URL, 6379)
    pipeline = start_roles(tmp_path_factory.mktemp("roles"), AMQP_URL, REDIS_URL)
    yield pipeline
    stop_all(pipeline)


def post(live: Pipeline, body: Any) -> None:
    status, answer = http("POST", live.listener_url + "/v1/alerts", body)
    assert status == 202, answer


def mine(*locations: str, zones: tuple[str, ...] = (), mode: str = "all") -> dict[str, Any]:
    return {"alertflow.myAreas": {"mode": mode, "locations": list(locations), "zones": list(zones)}}


def row(page: Any, location: str) -> Any:
    return page.locator(f'#active-list li.alert-row[data-location="{location}"]')


def live_page(page_factory: Any, live: Pipeline, **options: Any) -> Any:
    page, _ = page_factory(live.notifier_urls[0], **options)
    page.wait_for_selector('#connection-state[data-state="live"]', timeout=TIMEOUT_MS)
    page.wait_for_selector("#map .area", state="attached", timeout=TIMEOUT_MS)
    return page


def wait_for_areas(page: Any, areas: list[str]) -> None:
    """Until each of these areas has its row: a count of rows is not enough on the module's
    shared pipeline, where earlier tests' windows may still be open."""
    page.wait_for_function(
        "ids => ids.every(id => [...document.querySelectorAll('#active-list li.alert-row')]"
        ".some(row => row.dataset.location === id))", arg=areas, timeout=TIMEOUT_MS)


def areas_of(catalog: Any, shelter: int) -> list[str]:
    """Areas with this time to shelter. Each test takes its own slice of them: the module's
    pipeline is shared, and an alert for an area already under alert extends that window."""
    return sorted(a.id for a in catalog.areas.values()
                  if a.shelter_seconds == shelter and a.id != ASHKELON)


# -- 6. accessibility (first: axe takes longer the more rows the shared pipeline holds) ----

def serious_violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    # The map's SVG is hidden from assistive technology and draws 1,449 areas: axe skips it.
    results = Axe().run(page, context={"exclude": [["#map svg"]]})
    return [f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(str(n["target"]) for n in v["nodes"][:4])
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def test_axe_finds_no_serious_violation_in_any_language_or_theme(
    shared: Pipeline, page_factory: Any, catalog: Any,
) -> None:
    quake = areas_of(catalog, 30)[:3]
    rockets = areas_of(catalog, 30)[3:12]
    drill = areas_of(catalog, 30)[12:14]
    for areas, category in ((rockets, "missiles"), (quake, "earthquake"), (drill, "drill"),
                            (areas_of(catalog, 30)[14:18], "early_warning")):
        post(shared, alert_body(areas, duration_s=600, type=category))
    page = live_page(page_factory, shared, storage=mine(rockets[0], quake[0]))
    page.wait_for_selector("#my-banner:not([hidden])", timeout=TIMEOUT_MS)
    wait_for_areas(page, rockets + quake + drill + areas_of(catalog, 30)[14:18])
    found = {}
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for lang in ("he", "en", "ru", "ar"):
            page.select_option("#lang-select", lang)
            page.wait_for_selector(f'html[lang="{lang}"]')
            # My rows on screen (rows out of view are not painted, so axe cannot measure them).
            row(page, rockets[0]).scroll_into_view_if_needed()
            page.wait_for_timeout(600)  # transitions end: axe measures the final colours
            problems = serious_violations(page)
            if problems:
                found[f"{lang}/{scheme}"] = problems
    assert found == {}
    assert page.errors == []


# -- 1. guidance per category -----------------------------------------------------------------

def test_an_earthquake_gets_its_own_instruction_and_no_shelter_countdown(
    shared: Pipeline, page_factory: Any, catalog: Any,
) -> None:
    quake, rocket = areas_of(catalog, 45)[:2]
    page = live_page(page_factory, shared, storage=mine(quake, rocket))
    post(shared, alert_body(quake, duration_s=60, type="earthquake",
                            title="Earthquake felt", instructions="Stay outside until told."))
    row(page, quake).wait_for(timeout=TIMEOUT_MS)
    assert row(page, quake).get_attribute("data-category") == "earthquake"
    assert row(page, quake).locator(".timer-shelter").is_hidden()
    assert "Leave the building" in row(page, quake).inner_text()
    assert "Stay outside until told." in row(page, quake).inner_text()  # the source's words
    banner = page.locator("#my-banner")
    banner.wait_for(timeout=TIMEOUT_MS)
    assert banner.locator(".banner-timer").is_hidden()
    assert "Earthquake" in banner.inner_text() and "Reach shelter" not in banner.inner_text()

    # A rocket alert in my other area: its group comes first, with the countdown.
    post(shared, alert_body(rocket, duration_s=60))
    page.wait_for_selector("#banner-groups li:nth-child(2)", timeout=TIMEOUT_MS)
    groups = banner.locator("#banner-groups > li")
    assert [groups.nth(i).get_attribute("data-category") for i in range(2)] == [
        "missiles", "earthquake"]
    assert banner.locator(".banner-timer").is_visible()
    assert row(page, rocket).locator(".timer-shelter").is_visible()
    assert page.errors == []


def test_a_drill_is_labelled_a_drill_and_drawn_neutral(
    shared: Pipeline, page_factory: Any, catalog: Any,
) -> None:
    area = areas_of(catalog, 45)[2]
    page = live_page(page_factory, shared, storage=mine(area))
    post(shared, alert_body(area, duration_s=60, type="drill"))
    row(page, area).wait_for(timeout=TIMEOUT_MS)
    assert row(page, area).get_attribute("data-kind") == "drill"
    assert row(page, area).locator(".row-badge").text_content() == "Drill"
    assert row(page, area).locator(".timer-shelter").is_hidden()
    page.wait_for_selector("#my-banner.banner-drill", timeout=TIMEOUT_MS)
    assert page.locator("#banner-title").inner_text() == "Drill in your area"
    assert page.locator("#my-banner").evaluate("e => getComputedStyle(e).borderStyle") == "dashed"
    assert page.errors == []


def test_an_early_warning_says_stay_near_a_protected_space(
    shared: Pipeline, page_factory: Any, catalog: Any,
) -> None:
    area = areas_of(catalog, 45)[3]
    page = live_page(page_factory, shared, locale="he-IL", storage=mine(area))
    post(shared, alert_body(area, duration_s=60, type="early_warning"))
    page.wait_for_selector("#my-banner.banner-early", timeout=TIMEOUT_MS)
    assert "הישארו בקרבת מרחב מוגן" in page.locator("#my-banner").inner_text()
    assert page.locator("#my-banner .banner-timer").is_hidden()


# -- 2. phone first ----------------------------------------------------------------------------

def test_on_a_phone_the_banner_stays_on_screen_and_my_areas_come_first(
    shared: Pipeline, page_factory: Any, catalog: Any,
) -> None:
    crowd = areas_of(catalog, 60)[:80]
    area = crowd[0]
    page = live_page(page_factory, shared, viewport=PHONE, storage=mine(area))
    mine_top = page.locator("#my-areas-section").bounding_box()["y"]
    assert mine_top < page.locator("#active-section").bounding_box()["y"]
    post(shared, [alert_body(crowd[i:i + 20], duration_s=60) for i in range(0, 80, 20)])
    wait_for_areas(page, crowd)
    page.wait_for_selector("#my-banner:not([hidden])", timeout=TIMEOUT_MS)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_timeout(300)
    assert page.evaluate("window.scrollY") > 2_000  # really at the bottom of a long page
    box = page.locator("#my-banner").bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]
    assert page.locator("#banner-title").is_visible()
    # One tap reaches a section, and its heading is not hidden under the sticky banner.
    page.locator('.sections a[href="#history-section"]').click()
    page.wait_for_timeout(500)
    heading = page.locator("#history-title").bounding_box()
    dock = page.locator("#dock").bounding_box()
    assert heading is not None and dock is not None
    assert dock["y"] + dock["height"] <= heading["y"] + 1 and heading["y"] < PHONE["height"]
    assert page.errors == []


# -- 3. history that survives -----------------------------------------------------------------

def test_history_of_my_areas_survives_a_reload_after_two_busy_minutes(
    shared: Pipeline, page_factory: Any, catalog: Any,
) -> None:
    """Two minutes of barrage traffic are posted with issued_at over the last two minutes rather
    than waited for: the stream, the route and the page see the same events either way (the
    page asks for the last 24 h by event time), and the test stays fast."""
    page = live_page(page_factory, shared, storage=mine(ASHKELON))
    for minutes in range(8):  # eight alerts for Ashkelon over the previous six minutes
        post(shared, alert_body(ASHKELON, duration_s=600,
                                issued_at=now_iso(-60 * (6 - minutes * 0.7))))
    others = areas_of(catalog, 90)[100:340]
    for second in range(0, 120, 5):  # 480 area alerts, a busy day's two minutes
        start = second * 4 % 240
        post(shared, alert_body(others[start:start + 20], duration_s=180,
                                issued_at=now_iso(second - 120)))
    # The nationwide "last 200 events" no longer reach Ashkelon's (once all are processed).
    deadline = time.monotonic() + 20
    while True:
        status, recent = http("GET", shared.notifier_urls[0] + "/v1/events?limit=200")
        if status == 200 and ASHKELON not in {e["location"] for e in recent["events"]}:
            break
        assert time.monotonic() < deadline, "the barrage was not processed"
        time.sleep(0.2)

    page.reload()
    page.wait_for_selector('#connection-state[data-state="live"]', timeout=TIMEOUT_MS)
    selector = f'#history li[data-location="{ASHKELON}"][data-kind="open"]'
    page.wait_for_function(f"() => document.querySelectorAll({json.dumps(selector)}).length >= 8",
                           timeout=TIMEOUT_MS)
    assert page.errors == []


# -- 4. the operator ---------------------------------------------------------------------------

def test_the_operator_finds_the_most_urgent_row_in_one_action(
    shared: Pipeline, page_factory: Any, catalog: Any,
) -> None:
    urgent = areas_of(catalog, 30)[20:30]
    calm = areas_of(catalog, 90)[:60]
    page = live_page(page_factory, shared)
    post(shared, alert_body(urgent, duration_s=60))
    page.wait_for_timeout(300)
    post(shared, alert_body(calm, duration_s=60))  # newer: on top in the default order
    wait_for_areas(page, urgent + calm)
    first = page.locator("#active-list li.alert-row").first
    assert first.get_attribute("data-location") in calm

    page.select_option("#sort-rows", "shelter")  # the one action
    order = page.locator("#active-list li.alert-row").evaluate_all(
        "rows => rows.map(r => [r.dataset.location,"
        " Number(r.querySelector('.countdown-shelter').dataset.seconds || 1e9)])")
    seconds = [left for _, left in order]
    running = [left for left in seconds if 0 < left < 1e9]
    assert seconds[:len(running)] == sorted(running)  # running countdowns first, least on top
    places = [location for location, _ in order]
    assert max(places.index(a) for a in urgent) < min(places.index(a) for a in calm)

    # The summary names zones; grouping shows them with counts, and a zone collapses.
    summary = page.locator("#active-summary").inner_text()
    zone_en = catalog.areas[calm[0]].zone_names["en"]
    assert "areas under alert" in summary and "(" in summary
    page.check("#group-zones")
    groups = page.locator("#active-list > li.zone-group")
    assert groups.count() >= 2
    # Groups follow the sort, which changes as countdowns run out: hold one by its zone.
    zone = groups.first.get_attribute("data-zone")
    group = page.locator(f'#active-list > li.zone-group[data-zone="{zone}"]')
    head = group.locator(".zone-toggle")
    assert head.get_attribute("aria-expanded") == "true"
    assert any(char.isdigit() for char in head.inner_text())
    head.click()
    assert head.get_attribute("aria-expanded") == "false"
    assert group.locator("li.alert-row").first.is_hidden()
    head.click()

    # Filter by name in another language than the page's.
    target = catalog.areas[calm[5]]
    page.fill("#filter-rows", target.names["ar"])
    page.wait_for_timeout(200)
    shown = page.locator("#active-list li.alert-row:visible")
    assert target.id in [shown.nth(i).get_attribute("data-location") for i in range(shown.count())]
    assert shown.count() < 70
    page.fill("#filter-rows", zone_en)
    page.wait_for_timeout(200)
    assert page.locator("#active-list li.alert-row:visible").count() >= 1
    assert page.errors == []


# -- 6. keyboard -------------------------------------------------------------------------------

def test_the_alert_list_is_one_tab_stop_and_keeps_focus_when_a_row_closes(
    shared: Pipeline, page_factory: Any, catalog: Any,
) -> None:
    short, long_ = areas_of(catalog, 90)[360:361], areas_of(catalog, 90)[361:364]
    page = live_page(page_factory, shared)
    post(shared, alert_body(long_, duration_s=120))
    post(shared, alert_body(short, duration_s=4))
    wait_for_areas(page, long_ + short)
    tabbable = page.locator("#active-list [tabindex='0'], #active-list a[href]")
    assert tabbable.count() == 1
    # Arrow keys move within the list; Home reaches the newest row: the short alert's.
    focused_row = "document.activeElement.closest('li.alert-row').dataset.location"
    page.locator("#active-list [tabindex='0']").focus()
    page.keyboard.press("ArrowDown")
    second = page.evaluate(focused_row)
    page.keyboard.press("ArrowUp")
    assert page.evaluate(focused_row) != second
    page.keyboard.press("Home")
    assert page.evaluate(focused_row) == short[0]
    row(page, short[0]).wait_for(state="detached", timeout=TIMEOUT_MS)
    page.wait_for_timeout(200)
    focused = page.evaluate(
        "document.activeElement.closest('#active-list li.alert-row')?.dataset.location")
    assert focused in long_
    assert page.locator("#active-list [tabindex='0']").count() == 1


# -- 7. names ----------------------------------------------------------------------------------

def test_searching_an_exonym_finds_the_place(shared: Pipeline, page_factory: Any) -> None:
    page = live_page(page_factory, shared)
    page.fill("#area-search", "عسقلان")  # Ashkelon's Arabic exonym, from the alias table
    first = page.locator("#area-results .result").first
    first.wait_for(timeout=TIMEOUT_MS)
    assert "Ashkelon" in first.inner_text() and "عسقلان" in first.inner_text()
    page.fill("#area-search", "Tel Aviv-Yafo")  # a split city: every one of its areas
    page.wait_for_selector("#area-results .result", timeout=TIMEOUT_MS)
    names = page.locator("#area-results .result .result-name").all_inner_texts()
    assert len(names) >= 3 and all(name.startswith("Tel Aviv") for name in names)
    page.fill("#area-search", "عسقلان")
    page.keyboard.press("Enter")
    page.wait_for_selector(f'#my-areas-list li[data-location="{ASHKELON}"]', timeout=TIMEOUT_MS)
    assert page.errors == []


# -- 5. the map --------------------------------------------------------------------------------

def test_the_map_has_the_country_outline_borders_and_zone_names_offline(
    shared: Pipeline, page_factory: Any, catalog: Any,
) -> None:
    page, off_machine = page_factory(shared.notifier_urls[0], locale="ar")
    page.wait_for_selector("#map .land.outline", state="attached", timeout=TIMEOUT_MS)
    assert len(page.get_attribute("#map .land.outline", "d") or "") > 1000  # a coast, not discs
    assert len(page.get_attribute("#map .borders", "d") or "") > 1000
    zones = {area.zone for area in catalog.areas.values()}
    labels = page.locator("#map .zone-label").all_text_contents()
    assert len(labels) == len(zones)
    assert "غلاف غزة" in labels  # the Gaza Envelope, in the page's language
    assert off_machine.requests == [] and page.errors == []


def test_the_map_draws_regions_clusters_zones_when_zoomed_out_and_keeps_a_popup_off_its_area(
    shared: Pipeline, page_factory: Any, catalog: Any,
) -> None:
    yeruham = "ירוחם"
    page, off_machine = page_factory(shared.notifier_urls[0], viewport=DESKTOP)
    page.wait_for_selector('#connection-state[data-state="live"]', timeout=TIMEOUT_MS)
    page.wait_for_selector(f'#map path.region[data-region="{yeruham}"]', state="attached",
                           timeout=TIMEOUT_MS)
    # Every catalogue area has its outline (v1/locations/regions.json, built by the notifier).
    assert page.locator("#map path.region").count() == len(catalog.areas)

    # The whole country: zone clusters, no zone names, and no two clusters overlap on screen.
    assert "clustered" in (page.get_attribute("#map svg", "class") or "")
    assert page.locator("#map .zone-label").first.is_hidden()
    boxes = page.locator("#map .cluster circle").evaluate_all(
        "cs => cs.map(c => { const r = c.getBoundingClientRect();"
        " return [r.left, r.top, r.right, r.bottom]; })")
    zones = {area.zone for area in catalog.areas.values()}
    assert 3 <= len(boxes) < len(zones)
    for i, a in enumerate(boxes):
        assert a[2] - a[0] > 10  # drawn, not empty
        for b in boxes[i + 1:]:
            overlap_x = min(a[2], b[2]) - max(a[0], b[0])
            overlap_y = min(a[3], b[3]) - max(a[1], b[1])
            assert overlap_x <= 1 or overlap_y <= 1, (a, b)

    post(shared, alert_body("Yeruham", duration_s=60))
    region = page.locator(f'#map path.region[data-region="{yeruham}"]')
    page.wait_for_selector(f'#map path.region[data-region="{yeruham}"].active.kind-alert',
                           timeout=TIMEOUT_MS)
    assert page.locator("#map .cluster.has-alert").count() >= 1

    # Zoomed in on the area: regions and names, no clusters; its popup leaves the area visible.
    row(page, yeruham).locator(".row-name").click()
    page.wait_for_selector("#map .map-tooltip.pinned:not([hidden])", timeout=TIMEOUT_MS)
    page.wait_for_timeout(500)  # the smooth scroll to the map
    assert "clustered" not in (page.get_attribute("#map svg", "class") or "")
    assert page.locator("#map .cluster").count() == 0
    assert page.locator("#map .zone-label").first.is_visible()
    tip = page.locator("#map .map-tooltip").bounding_box()
    area = region.bounding_box()
    dot = page.locator(f'#map circle.area[data-location="{yeruham}"]').bounding_box()
    assert tip and area and dot

    def apart(a: dict[str, float], b: dict[str, float]) -> bool:
        return (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])

    assert apart(tip, dot)
    assert apart(tip, area)
    assert off_machine.requests == [] and page.errors == []
