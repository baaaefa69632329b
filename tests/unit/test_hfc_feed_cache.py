"""The feed paths' cached body: rebuilt once per change of the feed's position, however many
requests wait; validators that name one body."""

from __future__ import annotations

import asyncio

import pytest

from alertflow.backends.ports import StoreUnavailable
from alertflow.notifier.routes.hfc_feed import CachedBody


async def test_one_rebuild_per_position_for_any_number_of_requests() -> None:
    position = ("e", 1)
    builds: list[tuple[str, int]] = []

    async def build() -> bytes:
        builds.append(position)
        await asyncio.sleep(0)  # let the other requests arrive while it builds
        return f"body {position[1]}".encode()

    cached = CachedBody(lambda: position, build)
    bodies = await asyncio.gather(*(cached.current() for _ in range(50)))
    assert builds == [("e", 1)] and {b.data for b in bodies} == {b"body 1"}
    first = bodies[0]
    assert (await cached.current()) is first  # unchanged position: no rebuild
    position = ("e", 2)
    second = await cached.current()
    assert builds == [("e", 1), ("e", 2)] and second.data == b"body 2"
    assert second.etag != first.etag
    # Both bodies were built within a second or two: if in the same second, that
    # Last-Modified names two bodies and the second one says so.
    assert second.shared_second == (second.modified_s == first.modified_s)


async def test_the_same_content_keeps_its_validators() -> None:
    position = ("e", 1)
    cached = CachedBody(lambda: position, lambda: asyncio.sleep(0, b""))
    first = await cached.current()
    position = ("e", 2)
    second = await cached.current()
    assert (second.etag, second.modified_s) == (first.etag, first.modified_s)


async def test_an_unreadable_store_keeps_the_last_body_or_fails_without_one() -> None:
    position = ("e", 1)
    fail = True

    async def build() -> bytes:
        if fail:
            raise StoreUnavailable("down")
        return b"[]"

    cached = CachedBody(lambda: position, build)
    with pytest.raises(StoreUnavailable):
        await cached.current()
    fail = False
    kept = await cached.current()
    position, fail = ("e", 2), True
    assert (await cached.current()).data == kept.data == b"[]"
