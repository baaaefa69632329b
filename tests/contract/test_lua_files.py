"""The Lua scripts live in .lua files, and Redis's errors point into those files."""

from __future__ import annotations

import re

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from alertflow.backends import redis_scripts
from alertflow.backends.redis_store import RedisStateStore, key_root
from alertflow.domain.locations import Catalog


def test_each_script_is_common_lua_followed_by_its_own_file() -> None:
    """(After one generated line: domain/hazards.py's table, as Lua.)"""
    from importlib.resources import files

    lua = files("alertflow.backends") / "lua"
    common = (lua / "common.lua").read_text(encoding="utf-8")
    for script, name in [(redis_scripts.APPLY_ALERT, "apply_alert.lua"),
                         (redis_scripts.SWEEP, "sweep.lua"),
                         (redis_scripts.SNAPSHOT, "snapshot.lua")]:
        assert script == (redis_scripts.HAZARDS_LUA + common
                          + (lua / name).read_text(encoding="utf-8"))
    assert redis_scripts.HAZARDS_LUA.count("\n") == 1
    assert '["early_warning"] = "aerial"' in redis_scripts.HAZARDS_LUA


@pytest.mark.integration
async def test_a_script_error_names_the_lua_file_and_line(
    redis_client: aioredis.Redis, unique: str,
) -> None:
    store = RedisStateStore(redis_client, Catalog.empty(), prefix=unique)
    # A sweep whose limit is not a number fails inside sweep.lua, on the line that uses it.
    with pytest.raises(ResponseError) as raised:
        await store._sweep(keys=[key_root(unique)], args=[0, 10, "epoch", "not a number"])
    located = redis_scripts.locate_error(str(raised.value), redis_scripts.SWEEP)
    match = re.search(r"sweep\.lua:(\d+)", located)
    assert match, located
    from importlib.resources import files

    lines = (files("alertflow.backends") / "lua" / "sweep.lua").read_text().splitlines()
    assert "ZRANGEBYSCORE" in lines[int(match.group(1)) - 1]
    assert "user_script" not in located
