"""Garbage collection for a process that holds thousands of connections.

A notifier with 2,000 websocket clients holds a few million objects that the cyclic garbage
collector tracks. CPython's default young threshold (700 net allocations) promotes every object
that lives a few milliseconds, and each long-polling request's objects (its connection, h11
state, tasks, engineio's per-request environ) live longer than that. Once enough has been
promoted, a full collection walks every tracked object with the event loop stopped: 0.4–0.7 s
here, every ~2.5 s with 200 polling clients, which held every websocket delivery for as long
(docs/benchmarks.md, "The long-polling hold…" and "GC thresholds"). A young generation of 50,000
lets a request's objects die young, where collecting them is cheap; full collections still run
on CPython's own rules, only far less often, so no garbage is kept for good. Since long-polls
leave no reference cycles (roles/hypercorn_cycles.py, request_environ.py), reference counting
frees their objects as they end, and no collection at all ran while alerts flowed beside 200
polling clients ("Garbage per long-poll"); the thresholds still keep what is in flight (open
requests, a fan-out's batch) from being promoted when one does run.
"""

from __future__ import annotations

import gc
from typing import Final

THRESHOLDS: Final = (50_000, 3, 10)


def tune_for_many_connections() -> None:
    """Call once the process is set up, before it serves: what start-up built (modules, the
    catalog, the app) lives as long as the process, so no collection needs to walk it again."""
    gc.collect()  # start-up's own garbage first: nothing frozen is ever freed
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
