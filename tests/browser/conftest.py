"""Debian's headless Chromium driven by Playwright against a real pipeline.

Never `playwright install` (it downloads a browser, which this network refuses): the tests use
/usr/bin/chromium, installed by scripts/test.sh from Debian's packages.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.e2e.conftest import Pipeline, start_roles, stop_all

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Module scope, not session: Playwright's sync API keeps an event loop running in this
    # thread while it lives, which would break every asyncio test collected after it.
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: scripts/test.sh installs it", pytrace=False)
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def live(tmp_path: Path, rabbitmq: str, redis_url: str) -> Iterator[Pipeline]:
    pipeline = start_roles(tmp_path, rabbitmq, redis_url)
    yield pipeline
    stop_all(pipeline)


class OffMachine:
    """Records every request the page makes that does not go to this machine."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    def __call__(self, request: Any) -> None:
        host = urlparse(request.url).hostname or ""
        if request.url.startswith(("data:", "blob:", "about:")):
            return
        if host not in ("127.0.0.1", "localhost", "::1"):
            self.requests.append(request.url)


@pytest.fixture
def page_factory(browser: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def open_page(url: str, locale: str = "en-US", viewport: dict[str, int] | None = None,
                  color_scheme: str = "light", storage: dict[str, Any] | None = None,
                  ) -> tuple[Any, OffMachine]:
        context = browser.new_context(locale=locale, color_scheme=color_scheme,
                                      viewport=viewport or {"width": 1440, "height": 900})
        if storage:
            # The page's saved preferences (my areas, language…) before its first script runs.
            context.add_init_script(
                "if (!sessionStorage.getItem('seeded')) { sessionStorage.setItem('seeded', '1');"
                + "".join(f"localStorage.setItem({json.dumps(k)}, {json.dumps(json.dumps(v))});"
                          for k, v in storage.items()) + "}")
        contexts.append(context)
        page = context.new_page()
        off_machine = OffMachine()
        page.on("request", off_machine)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        # A Content-Security-Policy refusal is an error too (inline style or script).
        page.on("console", lambda msg: errors.append(msg.text)
                if "Content Security Policy" in msg.text else None)
        page.errors = errors  # type: ignore[attr-defined]
        page.goto(url)
        return page, off_machine

    yield open_page
    for context in contexts:
        context.close()
