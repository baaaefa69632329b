"""Whether installed distributions are at the versions the lock file pins.

Some code relies on behaviour that was tested only at the locked versions (the notifier's direct
websocket writes reach into Hypercorn, python-engineio and wsproto internals). Such code asks,
once at start-up, and takes the documented library path when the answer is not empty:

    from alertflow.pinned import unlocked

    differences = unlocked("hypercorn", "python-engineio", "wsproto")
    if differences:
        log.warning("direct_send_disabled", reason="; ".join(differences))

The lock read is `alertflow/data/runtime.lock`, shipped inside the package (so the check works in
the image and in any install), written by `bash scripts/lock.sh` at the same versions as the
repository's full `requirements.lock`. Name only the distributions you rely on: the lock is
resolved for any Python 3.11, so it also pins some that later 3.11 releases never install
(async-timeout, a redis dependency below 3.11.3).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from importlib import metadata, resources

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def canonical(name: str) -> str:
    """PEP 503 name: `Python_EngineIO` and `python-engineio` are one distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_lock(text: str) -> dict[str, str]:
    """`name==version` lines of a pip requirements/lock file (hashes, comments ignored)."""
    pins: dict[str, str] = {}
    for line in text.splitlines():
        match = _PIN.match(line.strip())
        if match:
            pins[canonical(match.group(1))] = match.group(2)
    return pins


@functools.cache
def locked_versions() -> dict[str, str]:
    """The runtime lock shipped with the package, as {canonical name: version}."""
    lock = resources.files("alertflow").joinpath("data", "runtime.lock")
    return parse_lock(lock.read_text(encoding="utf-8"))


def unlocked(*names: str, lock: Mapping[str, str] | None = None) -> list[str]:
    """One sentence per named distribution that is not installed at its locked version.

    Empty when all of them match. `lock` defaults to the shipped runtime lock.
    """
    pins = locked_versions() if lock is None else lock
    differences = []
    for name in names:
        pinned = pins.get(canonical(name))
        try:
            installed: str | None = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if pinned is None:
            differences.append(f"{name} is not in the lock")
        elif installed is None:
            differences.append(f"{name} is not installed (locked {pinned})")
        elif installed != pinned:
            differences.append(f"{name} {installed} is installed, the lock pins {pinned}")
    return differences
