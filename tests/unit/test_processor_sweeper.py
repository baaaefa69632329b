"""The processor's sweeper outlives an unexpected error: windows still close.

A sweep that raised anything but StoreUnavailable used to end the sweeping task silently while
alerts kept flowing in, so every window stayed open for good. The store here fails its first
sweeps with an error of the kind a script or a half-failed-over server can raise.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from redis.exceptions import ResponseError

from alertflow import metrics
from alertflow.backends.memory import MemoryQueue, MemoryStateStore
from alertflow.backends.ports import Sweep
from alertflow.domain.alert import Alert
from alertflow.domain.locations import Catalog
from alertflow.roles.processor import Processor
from tests.support import poll_until

ABU_GHOSH = "אבו-גוש"


class FailingSweeps(MemoryStateStore):
    def __init__(self, catalog: Catalog, failures: int) -> None:
        super().__init__(catalog)
        self.failures = failures

    async def sweep(self, now_ms: int) -> Sweep:
        if self.failures:
            self.failures -= 1
            raise ResponseError("MISCONF or any other error the sweep did not expect")
        return await super().sweep(now_ms)


async def test_windows_close_after_the_sweep_failed(catalog: Catalog) -> None:
    store = FailingSweeps(catalog, failures=3)
    queue = MemoryQueue()
    processor = Processor(queue, store, sweep_interval_s=0.02)
    failures_before = metrics.sweep_failures._value.get()
    shutdown = asyncio.Event()
    running = asyncio.create_task(processor.run(shutdown))
    try:
        now = int(time.time() * 1000)
        await queue.publish([Alert(id="a1", kind="alert", type="missiles", locations=[ABU_GHOSH],
                                   issued_at=now, duration_s=1, received_at=now,
                                   source="radar")])
        await poll_until(lambda: any(e["kind"] == "open" for e in store._stream), 5,
                         lambda: "the window never opened")
        await poll_until(lambda: any(e["kind"] == "close" for e in store._stream), 10,
                         lambda: f"the window never closed: {list(store._stream)}")
        assert store.failures == 0
        assert metrics.sweep_failures._value.get() - failures_before == 3
        assert not running.done()
    finally:
        shutdown.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(running, 10)
