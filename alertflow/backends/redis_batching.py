"""Script calls made together, sent to Redis together.

A processor applies up to `prefetch` alerts at once, each with one EVALSHA. Sent one by one,
every call takes a pooled connection, a write and a read of its own; that was a third of the
processor's CPU. Calls made during one event-loop iteration go out as one pipeline instead
(non-transactional: each script is atomic by itself, and their order among concurrent alerts
was never defined). Each caller still gets its own result or its own error.

With `replication`, each pipeline ends with `WAIT n timeout` on the same connection: the calls
succeed only once their writes reached n replicas (acknowledged means replicated). A fence write
goes first, so a batch whose calls wrote nothing (a redelivered duplicate) still waits for the
replication of everything written before it, e.g. the first, unconfirmed attempt at that alert.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from alertflow.backends.ports import NotReplicated

_Call = tuple[list[Any], list[Any], "asyncio.Future[Any]"]


@dataclass(frozen=True, slots=True)
class Replication:
    """Wait for `replicas` replicas, at most `timeout_ms`; `fence_key` takes the fence write."""

    replicas: int
    timeout_ms: int
    fence_key: str


class ScriptBatcher:
    def __init__(self, client: aioredis.Redis, script: AsyncScript,
                 replication: Replication | None = None) -> None:
        self._client = client
        self._script = script
        self._replication = replication
        self._waiting: list[_Call] = []
        self._running: set[asyncio.Task[None]] = set()

    async def __call__(self, keys: list[Any], args: list[Any]) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if not self._waiting:
            loop.call_soon(self._send_waiting)
        self._waiting.append((keys, args, future))
        return await future

    def _send_waiting(self) -> None:
        batch, self._waiting = self._waiting, []
        task = asyncio.ensure_future(self._send(batch))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _send(self, batch: list[_Call]) -> None:
        try:
            results = await self._execute(batch)
            if any(isinstance(result, NoScriptError) for result in results):
                # Redis lost its script cache (a restart): load it, and redo only the calls
                # it refused (the others ran and must not run twice).
                await self._client.script_load(self._script.script)
                refused = [i for i, result in enumerate(results)
                           if isinstance(result, NoScriptError)]
                for index, result in zip(refused, await self._execute(
                        [batch[i] for i in refused]), strict=True):
                    results[index] = result
        except Exception as exc:  # the connection failed: every call of the batch did
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, _, future), result in zip(batch, results, strict=True):
            if future.done():
                continue  # its caller was cancelled
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def _execute(self, batch: list[_Call]) -> list[Any]:
        pipe = self._client.pipeline(transaction=False)
        for keys, args, _ in batch:
            pipe.evalsha(self._script.sha, len(keys), *keys, *args)
        wait = self._replication
        if wait is not None:
            pipe.incr(wait.fence_key)
            pipe.execute_command("WAIT", wait.replicas, wait.timeout_ms)
        results: list[Any] = await pipe.execute(raise_on_error=False)
        if wait is None:
            return results
        replicated = results[-1]
        results = results[:-2]
        if isinstance(replicated, Exception):
            raise replicated
        if int(replicated) < wait.replicas:
            shortfall = NotReplicated(
                f"writes reached {replicated} of {wait.replicas} replicas in {wait.timeout_ms} ms")
            # A call Redis refused keeps its own error; the others were applied, not replicated.
            return [r if isinstance(r, Exception) else shortfall for r in results]
        return results
