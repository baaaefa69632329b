"""Issue 15: the dashboard's whole flow under its strict Content-Security-Policy, in Chromium,
with not one violation (every `securitypolicyviolation` event of the page is collected)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.test_dashboard import ABU_GHOSH, ABU_SNAN, TIMEOUT_MS, post, row, wait_state
from tests.e2e.conftest import Pipeline, alert_body

# Installed before any of the page's own scripts run, in every document of the context.
COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push({directive: e.violatedDirective, blocked: e.blockedURI,
                               source: e.sourceFile, line: e.lineNumber, sample: e.sample});
});
"""


@pytest.fixture
def csp_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="en-US", viewport={"width": 1440, "height": 900})
    context.add_init_script(COLLECT_VIOLATIONS)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.console, page.errors = console, errors  # type: ignore[attr-defined]
    yield page
    context.close()


def violations(page: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate("() => window.__cspViolations")
    return found


def test_the_dashboard_runs_its_whole_flow_under_the_csp_without_a_violation(
    live: Pipeline, csp_page: Any,
) -> None:
    page = csp_page
    response = page.goto(live.notifier_urls[0])
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    wait_state(page, "live")  # socket.io over the websocket, allowed by connect-src
    page.wait_for_selector(f'#map [data-location="{ABU_GHOSH}"]', state="attached")

    # My areas: search, pick a zone, only mine.
    page.fill("#area-search", "Upper Galilee")
    page.locator("#area-results .result-zone").first.click()
    page.wait_for_selector('#my-areas-list li[data-zone="גליל עליון"]', timeout=TIMEOUT_MS)
    page.check("#mode-all")
    page.click("#sound-toggle")
    page.click("#map-zoom-in")
    page.click("#map-reset")

    # Alerts arrive, render in the list, on the map and in the banner; one closes.
    post(live, alert_body("Abu Gosh", duration_s=4))
    post(live, alert_body("Abu Snan", duration_s=60))
    row(page, ABU_GHOSH).wait_for(timeout=TIMEOUT_MS)
    row(page, ABU_SNAN).wait_for(timeout=TIMEOUT_MS)
    page.wait_for_selector(f'#map [data-location="{ABU_SNAN}"].active', timeout=TIMEOUT_MS)
    page.wait_for_selector("#my-banner:not([hidden])", timeout=TIMEOUT_MS)
    page.click("#map-show-alerts")
    row(page, ABU_GHOSH).wait_for(state="detached", timeout=TIMEOUT_MS)

    # Another language (right to left), then a reload: history from the server's stream.
    page.select_option("#lang-select", "he")
    page.wait_for_selector('html[dir="rtl"]', timeout=TIMEOUT_MS)
    page.reload()
    page.uncheck("#history-mine")  # with areas chosen, history shows only theirs by default
    page.wait_for_selector(f'#history li[data-location="{ABU_GHOSH}"]', timeout=TIMEOUT_MS)
    wait_state(page, "live")
    row(page, ABU_SNAN).wait_for(timeout=TIMEOUT_MS)

    assert violations(page) == []
    assert not [text for text in page.console if "Content Security Policy" in text]
    assert page.errors == []


def test_the_policy_is_enforced_and_the_collector_sees_what_it_blocks(
    live: Pipeline, csp_page: Any,
) -> None:
    """The control: inline code injected into the page is blocked and reported, so the
    empty list above means something."""
    page = csp_page
    page.goto(live.notifier_urls[0])
    wait_state(page, "live")
    page.evaluate("""() => {
      document.body.insertAdjacentHTML('beforeend',
        '<img src="data:," onerror="window.__injected = 1"><i style="color:red">x</i>');
    }""")
    page.wait_for_function("() => window.__cspViolations.length >= 2", timeout=TIMEOUT_MS)
    directives = {v["directive"] for v in violations(page)}
    assert {"script-src-attr", "style-src-attr"} <= directives, violations(page)
    assert page.evaluate("() => window.__injected") is None
