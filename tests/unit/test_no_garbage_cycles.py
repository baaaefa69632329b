"""Long-polls leave no garbage cycles in the notifier.

Whatever a request leaves in a reference cycle waits for CPython's cyclic garbage collector, and
each collection stops the event loop, websocket deliveries included: with hundreds of polls a
second that was a 50–180 ms pause every few seconds (docs/benchmarks.md, "Garbage per
long-poll"). Here a real notifier (in-memory store, Hypercorn, python-engineio) answers long-polls
on a new TCP connection each, as Node's socket.io-client sends them, with the collector off;
then one collection must find nothing of the server's among the garbage.
"""

from __future__ import annotations

import collections
import gc
import json
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from alertflow.backends.memory import MemoryStateStore
from alertflow.domain.locations import Catalog
from alertflow.notifier import Notifier, NotifierConfig
from tests.support import apply_alert_now, serving

SERVER_MODULES = ("hypercorn", "h11", "engineio", "socketio", "starlette", "alertflow")
POLLS = 12


def _from_server(thing: Any) -> str | None:
    kind = thing if isinstance(thing, type) else type(thing)
    module = kind.__module__ or ""
    return f"{module}.{kind.__qualname__}" if module.startswith(SERVER_MODULES) else None


@pytest.fixture
def collector_saving_garbage() -> Iterator[list[Any]]:
    """The collector off; `collect()` afterwards saves what it finds unreachable."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


async def _get(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url) as answer:
        assert answer.status == 200, await answer.text()
        return await answer.text()


async def test_long_polls_on_new_connections_leave_no_cycles(
        catalog: Catalog, collector_saving_garbage: list[Any]) -> None:
    store = MemoryStateStore(catalog)
    config = NotifierConfig(poll_hold_s=0.01)  # the hold's timer runs too
    notifier = Notifier(store, store.feed(), catalog, config)
    async with serving(notifier) as url:
        endpoint = f"{url}/socket.io/?EIO=4&transport=polling"
        # A connection per request, as Node's socket.io-client polls.
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as http:
            opened = await _get(http, endpoint)
            assert opened.startswith("0{"), opened
            sid = json.loads(opened[1:])["sid"]
            polling = f"{endpoint}&sid={sid}"
            async with http.post(polling, data="40") as answer:  # the namespace
                assert answer.status == 200
            assert (await _get(http, polling)).startswith("40"), "the namespace did not open"
            gc.collect()  # start-up's own garbage (connecting, the snapshot) is not counted
            gc.garbage.clear()
            received = ""
            for _ in range(POLLS):
                await apply_alert_now(store, "Haifa")
                received += await _get(http, polling)
        assert received.count('"kind":"open"') == POLLS, received  # the polls did deliver
        gc.collect()
    server_side = collections.Counter(
        name for name in map(_from_server, collector_saving_garbage) if name is not None)
    assert not server_side, f"left in reference cycles by {POLLS} polls: {server_side}"
