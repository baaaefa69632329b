"""CAP 1.2 out after alerts posted through the real pipeline: the Atom feed lists the open
windows, each link a message that validates against the OASIS schema; an all-clear turns a
window's message into a Cancel of it."""

from __future__ import annotations

import asyncio
from urllib.parse import urljoin
from xml.etree.ElementTree import Element

import aiohttp
from defusedxml.ElementTree import fromstring

from tests.cap_xsd import assert_valid_cap
from tests.e2e.conftest import Pipeline, alert_body
from tests.support import now_iso

CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
ATOM = "{http://www.w3.org/2005/Atom}"


async def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, str]:
    async with aiohttp.ClientSession() as session, session.get(
            url, headers=headers or {}) as response:
        return response.status, await response.read(), response.headers.get("ETag", "")


async def entries(feed_url: str, count: int) -> list[str]:
    """The feed's message links (resolved as an Atom reader resolves them), once it has `count`."""
    for _ in range(200):
        status, body, _ = await fetch(feed_url)
        assert status == 200, body
        links = [urljoin(feed_url, e.find(f"{ATOM}link").get("href"))
                 for e in fromstring(body).iter(f"{ATOM}entry")]
        if len(links) == count:
            return links
        await asyncio.sleep(0.05)
    raise AssertionError(f"the feed never listed {count} entries: {body!r}")


async def message(url: str) -> Element:
    status, body, _ = await fetch(url)
    assert status == 200, body
    assert_valid_cap(body)
    root: Element = fromstring(body)
    return root


async def test_the_cap_feed_follows_the_windows(pipeline: Pipeline) -> None:
    feed_url = pipeline.notifier_urls[0] + "/v1/cap"
    assert await entries(feed_url, 0) == []
    status, _ = await pipeline.post(alert_body(["Ashkelon - South", "Abu Gosh"], duration_s=600,
                                               title="ירי רקטות וטילים"))
    assert status == 202
    links = await entries(feed_url, 2)
    alerts = {}
    for link in links:
        root = await message(link)
        assert (root.findtext(f"{CAP}msgType"), root.findtext(f"{CAP}status")) == (
            "Alert", "Actual")
        alerts[root.findtext(f"{CAP}info/{CAP}area/{CAP}areaDesc")] = (link, root)
        # Each area with its outline (Google Public Alerts requires a shape per area).
        assert root.findtext(f"{CAP}info/{CAP}area/{CAP}polygon")
    assert set(alerts) == {"אשקלון - דרום", "אבו גוש"}
    _, _, etag = await fetch(feed_url)
    assert (await fetch(feed_url, {"If-None-Match": etag}))[0] == 304

    status, _ = await pipeline.post({"type": "missiles", "kind": "cancel",
                                     "location": "Ashkelon - South",
                                     "issued_at": now_iso(0.01)})
    assert status == 202
    assert await entries(feed_url, 1) == [alerts["אבו גוש"][0]]
    link, opened = alerts["אשקלון - דרום"]
    cancelled = await message(link)
    assert cancelled.findtext(f"{CAP}msgType") == "Cancel"
    assert cancelled.findtext(f"{CAP}info/{CAP}area/{CAP}polygon")
    assert cancelled.findtext(f"{CAP}references") == ",".join(
        opened.findtext(f"{CAP}{tag}") or "" for tag in ("sender", "identifier", "sent"))
    status, body, _ = await fetch(pipeline.notifier_urls[0] + "/v1/cap/no-such-window.xml")
    assert status == 404 and b"incident_id" in body
