"""The Lua scripts that make each processor step atomic in Redis, loaded from `lua/*.lua`.

They implement `alertflow.domain.aggregation` (the property tests hold the two to the same
results). Every key is `<P>…` where P = "{prefix}:" — one hash tag, so they are Redis-Cluster-safe.

Keys: P.."seq" (last event seq), P.."epoch" (id of this stream's history: new whenever it may
have been rolled back, see `ensure_epoch` in common.lua), P.."replid" (the replication id the
epoch belongs to), P.."epoch_seq" and P.."epoch_snapshot" (where the epoch began and the
incidents open there), P.."stream"
(events, entry id "<seq>-0", field "e" = the event JSON), P.."wdue" (zset "<hazard>:<loc>" →
ends_at), P.."win:<hazard>:<loc>" (hash: the open window of one hazard in one area, "hz" its
hazard; alert fields "a:<id>" = a JSON record {i: issued, e: ends, t: type, c: category,
n: source_name, f: cause fragment, g: group, s: source}, written with cjson.encode and read
with cjson.decode; "types" a JSON array), P.."wgrp:"..group (set of "<hazard>:<loc>"),
P.."seen:"..id (dedup claim, TTL), P.."wct:<hazard>:<len(source)>:<source>:<loc>" (the source's
all-clear time for that hazard and area, TTL). Windows from before hazards (P.."inc:"..loc,
P.."due", P.."grp:", P.."ct:"..loc) are still read, swept and ended until they end
(docs/protocol.md, "Redis keys and upgrading").
channel P.."events" (a JSON array of the events of one call).

Events are built by concatenating JSON that an encoder produced (Python's fragments, cjson's
strings); no text a source sent is ever spliced raw or split on a separator.

Each script is sent as `common.lua` followed by its own file. Redis reports errors by line of
what it was sent (`user_script:N`); `locate_error` turns that back into the file and line.
"""

from __future__ import annotations

import re
from importlib.resources import files

from alertflow.domain.hazards import WINDOWS

_LUA = files("alertflow.backends") / "lua"
# domain/hazards.py's table, for the scripts (the hazard of a window opened before hazards).
# Declared first, on the line before common.lua, so error lines keep pointing into the file.
HAZARDS_LUA = "local HAZARD_OF = {" + ", ".join(
    f'["{category}"] = "{hazard}"' for hazard, categories in WINDOWS.items()
    for category in categories) + "}\n"
_COMMON = HAZARDS_LUA + (_LUA / "common.lua").read_text(encoding="utf-8")
_COMMON_LINES = _COMMON.count("\n")


def _script(name: str) -> str:
    return _COMMON + (_LUA / name).read_text(encoding="utf-8")


APPLY_ALERT = _script("apply_alert.lua")
SWEEP = _script("sweep.lua")
SNAPSHOT = _script("snapshot.lua")
EPOCH_START = _script("epoch_start.lua")
EVENTS_AFTER = _script("events_after.lua")
_BY_SOURCE = {APPLY_ALERT: "apply_alert.lua", SWEEP: "sweep.lua", SNAPSHOT: "snapshot.lua",
              EPOCH_START: "epoch_start.lua", EVENTS_AFTER: "events_after.lua"}
_LINE = re.compile(r"user_script:(\d+)")


def locate_error(message: str, script: str) -> str:
    """`message` from Redis with each `user_script:N` replaced by the .lua file and line."""
    name = _BY_SOURCE.get(script, "script")

    def where(match: re.Match[str]) -> str:
        line = int(match.group(1))
        if line <= _COMMON_LINES:
            return f"common.lua:{line - 1}"
        return f"{name}:{line - _COMMON_LINES}"

    return _LINE.sub(where, message)
