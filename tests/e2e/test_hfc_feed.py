"""The national feed's paths on the notifier, after alerts posted through the real pipeline:
read as the feed's consumers read the real one (plain JSON, or stripping a BOM first; alertflow's
own follower parser), with the validators a CDN and pollers rely on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import aiohttp

from alertflow.domain import hfc
from tests.e2e.conftest import Pipeline, alert_body
from tests.support import now_iso

ASHKELON = "אשקלון - דרום"
ABU_GHOSH = "אבו גוש"
REALTIME = "/WarningMessages/alert/Alerts.json"
HISTORY = "/warningMessages/alert/History/AlertsHistory.json"


async def fetch(url: str, headers: dict[str, str] | None = None
                ) -> tuple[int, bytes, Mapping[str, str]]:
    async with aiohttp.ClientSession() as session, session.get(
            url, headers=headers or {}) as response:
        return response.status, await response.read(), response.headers.copy()


def consumer_json(body: bytes) -> Any:
    """What the feed's consumers do: strip a BOM if there is one, then parse."""
    return json.loads(body.decode("utf-8-sig")) if body.strip() else None


async def until(url: str, done: Any, what: str) -> tuple[bytes, Mapping[str, str]]:
    for _ in range(200):
        status, body, headers = await fetch(url)
        assert status == 200, (status, body)
        if done(consumer_json(body)):
            return body, headers
        await asyncio.sleep(0.05)
    raise AssertionError(f"never served {what}: {body!r}")


async def test_the_feed_paths_follow_the_windows_with_validators(pipeline: Pipeline) -> None:
    base = pipeline.notifier_urls[0]
    status, body, headers = await fetch(base + REALTIME)
    assert (status, body) == (200, b"")  # nothing active: an empty body, as the feed answers
    assert headers["Cache-Control"] == "public, max-age=1" and headers["ETag"]

    issued = now_iso()
    for where in ("Ashkelon - South", "Abu Ghosh"):
        status, _ = await pipeline.post(alert_body(where, duration_s=600, issued_at=issued,
                                                   title="ירי רקטות וטילים"))
        assert status == 202
    body, headers = await until(base + REALTIME,
                                lambda d: d is not None and len(d["data"]) == 2, "both areas")
    document = consumer_json(body)
    assert (document["cat"], document["title"], sorted(document["data"])) == (
        "1", "ירי רקטות וטילים", sorted([ASHKELON, ABU_GHOSH]))
    assert document["id"].isdigit() and document["desc"] == ""
    assert json.loads(body) == document  # no BOM: plain JSON parsers read it too
    followed = hfc.parse(body, 0)  # and alertflow's follower, as it reads the real feed
    assert {(a.category, a.names[0][0]) for a in followed} == {
        ("missiles", ASHKELON), ("missiles", ABU_GHOSH)}

    # Either spelling of the path; the same body and validators.
    status, lower, lower_headers = await fetch(base + "/warningMessages/alert/Alerts.json")
    assert (status, lower, lower_headers["ETag"]) == (200, body, headers["ETag"])
    # Conditional requests that hold the current body: 304 without one. (If-Modified-Since
    # equal to Last-Modified may be a 200: two bodies may have shared that second.)
    modified = parsedate_to_datetime(headers["Last-Modified"])
    for condition in ({"If-None-Match": headers["ETag"]},
                      {"If-None-Match": f'"other", {headers["ETag"]}'},
                      {"If-Modified-Since": format_datetime(modified + timedelta(seconds=1),
                                                            usegmt=True)}):
        status, empty, _ = await fetch(base + REALTIME, condition)
        assert (status, empty) == (304, b""), condition
    for condition in ({"If-None-Match": '"other"'},
                      {"If-Modified-Since": format_datetime(modified - timedelta(seconds=1),
                                                            usegmt=True)}):
        status, again, _ = await fetch(base + REALTIME, condition)
        assert (status, again) == (200, body), condition

    history, _ = await until(base + HISTORY, lambda d: d is not None and len(d) >= 2,
                             "the history")
    entries = consumer_json(history)
    assert {(e["data"], e["category"], e["title"]) for e in entries} == {
        (ASHKELON, 1, "ירי רקטות וטילים"), (ABU_GHOSH, 1, "ירי רקטות וטילים")}
    sent = datetime.fromisoformat(issued.replace("Z", "+00:00")).timestamp() * 1000
    for entry in entries:
        assert abs(hfc.parse_alert_date(entry["alertDate"], "$") - sent) < 1000

    # All-clear for both: the realtime body empties, and the old ETag no longer matches.
    for where in ("Ashkelon - South", "Abu Ghosh"):
        status, _ = await pipeline.post({"type": "missiles", "kind": "cancel",
                                         "location": where, "issued_at": now_iso(0.01)})
        assert status == 202
    await until(base + REALTIME, lambda d: d is None, "the empty body after the all-clear")
    status, body, after = await fetch(base + REALTIME, {"If-None-Match": headers["ETag"]})
    assert (status, body) == (200, b"") and after["ETag"] != headers["ETag"]
    # The history is newest first: a later alert comes before the earlier ones. (Issued
    # clearly after the all-clear, which would otherwise cancel it.)
    status, _ = await pipeline.post(alert_body("Ashkelon - South", duration_s=600,
                                               issued_at=now_iso(1), type="hostile aircraft"))
    assert status == 202
    history, _ = await until(base + "/WarningMessages/alert/History/AlertsHistory.json",
                             lambda d: len(d) >= 3, "the third entry")
    newest = consumer_json(history)[0]
    assert (newest["data"], newest["category"], newest["title"]) == (
        ASHKELON, 2, "hostile aircraft")
