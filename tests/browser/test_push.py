"""Web Push in real Chromium: the service worker, the switch in "My areas", the notification.

The browser cannot reach a real push service here, so only `pushManager.subscribe`'s result is
stubbed in the page: it returns a subscription of the local push service (real keys). All the
rest is real: the notifier stores what the page posts, a barrage goes through the pipeline, the
push role encrypts and sends it, the local push service decrypts it, and that payload is handed
to the page's service worker with the DevTools protocol (`ServiceWorker.deliverPushMessage`),
which shows the notification read back with `registration.getNotifications()`.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import redis

from alertflow.catalog import load_catalog
from alertflow.domain.push import subscription_id
from tests.browser.conftest import ARGS, CHROMIUM  # noqa: F401 - the browser's flags
from tests.e2e.conftest import alert_body
from tests.e2e.push_harness import PushRun, push_run  # noqa: F401 - the fixture
from tests.support import http

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

STUB = """
const SUBSCRIPTION = %s;
// Only the push service's answer is made up: a subscription of the tests' local push service.
PushManager.prototype.subscribe = async function (options) {
  window.__subscribeOptions = { userVisibleOnly: options.userVisibleOnly,
    key: btoa(String.fromCharCode(...new Uint8Array(options.applicationServerKey))) };
  return { endpoint: SUBSCRIPTION.endpoint, toJSON: () => SUBSCRIPTION,
           unsubscribe: async () => true };
};
"""


def wait_until(condition: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(what)
        time.sleep(0.1)


def test_the_switch_subscribes_and_a_push_shows_the_right_notification(
        browser: Any, push_run: PushRun, tmp_path: Path) -> None:  # noqa: F811 - the fixture
    run, service = push_run, push_run.service
    catalog = load_catalog()
    sderot = next(a for a in catalog.areas.values() if a.names.get("en") == "Sderot, Ibim")
    other = next(a for a in catalog.areas.values() if a.names.get("en") == "Ashkelon - South")
    subscription = run.threaded.call(service.subscribe, run.public_key)
    notifier = run.pipeline.notifier_urls[0]

    context = browser.new_context(locale="he-IL")
    context.grant_permissions(["notifications"], origin=notifier)
    context.add_init_script(STUB % json.dumps(subscription))
    mine = json.dumps(json.dumps({"mode": "mine", "locations": [sderot.id], "zones": []}))
    context.add_init_script(
        "if (!localStorage.getItem('alertflow.myAreas')) {"
        f"localStorage.setItem('alertflow.myAreas', {mine});"
        "localStorage.setItem('alertflow.lang', '\"he\"'); }")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    cdp = context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda event: registrations.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    try:
        page.goto(notifier + "/")
        # The service worker installs and controls the page's scope.
        assert page.evaluate("navigator.serviceWorker.ready.then(r => r.active.state)") in (
            "activated", "activating")
        page.wait_for_selector("#push-toggle:not([disabled])", timeout=15_000)
        assert page.inner_text("#push-label") == "הודיעו לי גם כשהדף סגור"

        # Switch on: permission (granted), subscribe with the server's key, POST the body.
        with page.expect_response(lambda r: r.url.endswith("/v1/push/subscriptions")
                                  and r.request.method == "POST") as posted:
            page.click("#push-toggle")
        assert posted.value.status == 201
        assert posted.value.request.post_data_json == {
            "subscription": subscription, "locations": [sderot.id], "zones": [], "lang": "he"}
        server_key = base64.b64encode(base64.urlsafe_b64decode(run.public_key + "==")).decode()
        assert page.evaluate("window.__subscribeOptions") == {
            "userVisibleOnly": True, "key": server_key}

        # Changing areas updates the same subscription.
        page.fill("#area-search", other.names["en"])
        with page.expect_response(lambda r: r.url.endswith("/v1/push/subscriptions")
                                  and r.request.method == "POST") as updated:
            page.click("#area-results li >> nth=0")
        assert updated.value.status == 200
        assert sorted(updated.value.request.post_data_json["locations"]) == sorted(
            [sderot.id, other.id])

        # A real alert through the pipeline: the push role sends it, the push service decrypts.
        run.start_push_role("push0")
        status, answer = http("POST", run.pipeline.listener_url + "/v1/alerts",
                              alert_body(sderot.id, duration_s=120))
        assert status == 202, answer
        [message] = wait_until(lambda: run.threaded.call(service.mailbox,
                                                         subscription["endpoint"]),
                               60, f"no push reached the local push service: "
                               f"{service.statuses} {service.problems}\n{run.pipeline.logs()}")
        payload = message.payload
        assert [i["location"] for i in payload["items"]] == [sderot.id]

        # ...and handed to the page's service worker as the push service would.
        scope = next(r for r in registrations if r["scopeURL"].startswith(notifier))
        cdp.send("ServiceWorker.deliverPushMessage", {
            "origin": notifier + "/", "registrationId": scope["registrationId"],
            "data": json.dumps(payload)})
        shown = wait_until(lambda: page.evaluate(
            """navigator.serviceWorker.ready.then(r => r.getNotifications()).then(ns => ns.map(
                 n => ({title: n.title, body: n.body, tag: n.tag, dir: n.dir,
                        requireInteraction: n.requireInteraction, url: n.data.url})))"""),
            30, "no notification shown")
        [notification] = shown
        assert notification["title"] == "ירי רקטות וטילים"
        lines = notification["body"].split("\n")
        assert lines[0] == sderot.names["he"]
        assert lines[1] == f"היכנסו למרחב המוגן תוך {sderot.shelter_seconds} שניות."
        assert "מרחב המוגן" in lines[2]
        assert notification["tag"] == payload["tag"]
        assert notification["requireInteraction"] and notification["dir"] == "rtl"
        assert f"area={sderot.id}" in unquote(notification["url"])

        # Switch off: DELETE removes it from the server.
        with page.expect_response(lambda r: r.url.endswith("/v1/push/subscriptions")
                                  and r.request.method == "DELETE") as deleted:
            page.click("#push-toggle")
        assert deleted.value.status == 204
        client = redis.Redis.from_url(run.pipeline.redis_url)
        try:
            assert not client.exists("{" + run.pipeline.queue + "}:push:sub:"
                                     + subscription_id(subscription["endpoint"]))
        finally:
            client.close()

        # Offline, the page still opens from the service worker's cache.
        context.set_offline(True)
        page.reload()
        assert page.wait_for_selector("#push-panel", state="attached", timeout=10_000)
        assert page.title().startswith("alertflow")
        context.set_offline(False)
        assert errors == []
        page.screenshot(path=str(tmp_path / "push-switch.png"))
    finally:
        context.close()


def test_the_push_subscription_follows_where_i_am_and_never_hears_the_position(
        browser: Any, push_run: PushRun) -> None:  # noqa: F811 - the fixture
    """ "Where I am" changes my areas, so the server's copy of the push subscription follows the
    person (the same re-registration as a change by hand); a spoofed jump changes nothing."""
    run, service = push_run, push_run.service
    catalog = load_catalog()
    sderot = next(a for a in catalog.areas.values() if a.names.get("en") == "Sderot, Ibim")
    abu_gosh, yad = catalog.areas["אבו גוש"], catalog.areas["יד השמונה"]
    inside = {"latitude": 31.81223, "longitude": 35.09606, "accuracy": 15}  # Abu Gosh, off centre
    subscription = run.threaded.call(service.subscribe, run.public_key)
    notifier = run.pipeline.notifier_urls[0]
    context = browser.new_context(locale="en-US", geolocation=inside)
    context.grant_permissions(["notifications", "geolocation"], origin=notifier)
    context.add_init_script(STUB % json.dumps(subscription))
    mine = json.dumps(json.dumps({"mode": "mine", "locations": [sderot.id], "zones": []}))
    context.add_init_script("if (!localStorage.getItem('alertflow.myAreas'))"
                            f" localStorage.setItem('alertflow.myAreas', {mine});")
    page = context.new_page()
    posts: list[Any] = []
    page.on("request", lambda r: posts.append(r.post_data_json)
            if r.url.endswith("/v1/push/subscriptions") and r.method == "POST" else None)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def registered(*locations: str) -> None:
        for _ in range(150):  # Playwright hands over events only while it is called
            if posts and posts[-1]["locations"] == list(locations):
                return
            page.wait_for_timeout(100)
        raise AssertionError(f"the push subscription did not follow to {locations}: {posts[-1:]}")

    try:
        page.goto(notifier + "/")
        page.wait_for_selector("#push-toggle:not([disabled])", timeout=15_000)
        page.wait_for_selector("#map path.region", state="attached", timeout=15_000)
        page.click("#push-toggle")
        registered(sderot.id)
        page.click("#here-toggle")
        registered(sderot.id, abu_gosh.id)
        context.set_geolocation({"latitude": yad.lat, "longitude": yad.lng, "accuracy": 15})
        registered(sderot.id, yad.id)
        count = len(posts)
        context.set_geolocation({"latitude": 33.89, "longitude": 35.5, "accuracy": 15})  # Beirut
        page.wait_for_selector('#here-status[data-reason="jump"]', timeout=15_000)
        page.wait_for_timeout(1_000)  # past the 300 ms debounce: nothing more was sent
        assert len(posts) == count
        sent = json.dumps(posts)
        assert "31.81" not in sent and "35.09" not in sent and "33.89" not in sent
        assert errors == []
    finally:
        context.close()
