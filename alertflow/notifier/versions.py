"""Whether the notifier may take its shortcuts into Hypercorn and python-engineio.

direct_send.py, handshake.py and request_environ.py reach objects those libraries do not
publish. They run only when the installed versions are the locked ones (alertflow.pinned); with
any other version the notifier takes the libraries' own paths, slower but correct, and says so
once in its log. Upgrading: regenerate the lock (scripts/lock.sh), run the suite
(tests/unit/test_direct_send.py, test_handshake.py, test_request_environ.py and
test_no_garbage_cycles.py fail if the objects moved).
"""

from __future__ import annotations

import functools

import structlog

from alertflow.pinned import unlocked

log = structlog.get_logger("alertflow.notifier")

REACHED_INTO = ("hypercorn", "python-engineio", "python-socketio", "wsproto")


@functools.cache
def shortcuts_allowed() -> bool:
    """True when the installed versions are the locked ones; warns once when they are not."""
    differences = unlocked(*REACHED_INTO)
    if differences:
        log.warning("untested dependency versions: direct websocket writes, the compression "
                    "refusal and the cycle-free request environ are off (library paths instead)",
                    reason="; ".join(differences))
    return not differences
