"""Free TCP ports for roles started on this machine by the benchmark and the tests.

Not part of the product (no role imports it); it lives outside alertflow.bench so the tests can
use it without importing the benchmark.

A port is only reserved once the role binds it, which happens seconds after it is picked, so
two hazards have to be designed out: the kernel handing the same port to the next caller (it
did: a listener and a notifier once got the same one), and the port being taken meanwhile as
the source port of some outgoing connection. Ports therefore come from below the kernel's
ephemeral range, at random, and never twice from one process. When several test runs share the
machine (scripts/test.sh runs the chaos tests beside the rest), `ALERTFLOW_PORT_SLICE=k/n` gives
each its own k-th of that range, inherited by everything it starts: no other process's check can
see a port it picked but has not bound yet.
"""

from __future__ import annotations

import os
import random
import re
import socket
from pathlib import Path

_handed_out: set[int] = set()
_LOWEST = 10_000


def _ephemeral_floor() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default


def _port_range() -> tuple[int, int]:
    """[lowest, ceiling): below the ephemeral range, narrowed to ALERTFLOW_PORT_SLICE's part."""
    lowest, ceiling = _LOWEST, max(_ephemeral_floor(), _LOWEST + 1_000)
    value = os.environ.get("ALERTFLOW_PORT_SLICE", "0/1")
    match = re.fullmatch(r"(\d+)/(\d+)", value)
    index, count = (int(match[1]), int(match[2])) if match else (0, 0)
    width = (ceiling - lowest) // count if count else 0
    if not index < count or width < 100:
        raise ValueError(f"ALERTFLOW_PORT_SLICE={value!r}: expected k/n with 0 <= k < n, and n "
                         f"small enough for 100 ports each between {lowest} and {ceiling}")
    return lowest + index * width, lowest + (index + 1) * width


def free_port(host: str = "127.0.0.1") -> int:
    """A port on `host` that is bindable now and that this process has not handed out before."""
    lowest, ceiling = _port_range()
    for _ in range(1_000):
        port = random.randrange(lowest, ceiling)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port on {host} between {lowest} and {ceiling}")
