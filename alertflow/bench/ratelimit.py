"""`alertflow bench ratelimit`: what the shared per-source rate limit costs per request.

Two views:
- the limiter alone, in this process: one `take` on the local bucket vs. one Lua call to Redis
  (round trip, and the server's own time per call from INFO commandstats);
- a real listener (subprocess of the CLI) taking single-alert POSTs with the limit off, local,
  and shared through Redis (limit set far above the load, so every request passes it), rounds
  interleaved: requests/s, listener CPU per request, Redis CPU per request, POST latency.
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from alertflow.backends.cleanup import delete_keys, delete_queues
from alertflow.backends.ratelimit import LocalRateLimiter, RedisRateLimiter
from alertflow.backends.redis_store import connect
from alertflow.bench.measure import CpuMeter, percentiles
from alertflow.local_ports import free_port

MODES = ("off", "local", "shared")


async def _limiter_alone(redis_url: str, prefix: str, calls: int) -> dict[str, Any]:
    local = LocalRateLimiter(1e9, 1_000_000_000)
    started = time.perf_counter()
    for n in range(calls):
        await local.take(f"s{n % 8}")
    local_us = (time.perf_counter() - started) / calls * 1e6
    admin = aioredis.Redis.from_url(redis_url)
    await admin.config_resetstat()
    shared = RedisRateLimiter(connect(redis_url), prefix, 1e9, 1_000_000_000)
    samples = []
    for n in range(calls):
        began = time.perf_counter()
        await shared.take(f"s{n % 8}")
        samples.append((time.perf_counter() - began) * 1_000_000)
    assert shared.shared, "Redis did not answer: nothing shared was measured"
    stats = await admin.info("commandstats")
    server = stats.get("cmdstat_evalsha", {})
    await shared.close()
    await delete_keys(admin, prefix)
    await admin.aclose()
    return {"calls": calls, "local_take_us": round(local_us, 2),
            "redis_take_us": percentiles(samples),
            "redis_server_us_per_call": server.get("usec_per_call")}


def _alert() -> dict[str, Any]:
    return {"id": f"rl-{uuid.uuid4()}", "type": "missiles", "locations": ["Sderot"],
            "issued_at": datetime.now(UTC).isoformat(), "duration_s": 60}


async def _post_all(url: str, secret: str, requests: int, posters: int,
                    ) -> tuple[list[float], dict[int, int], float]:
    samples: list[float] = []
    statuses: dict[int, int] = {}
    remaining = iter(range(requests))
    headers = {"Authorization": f"Bearer {secret}"}

    async def poster(session: aiohttp.ClientSession) -> None:
        for _ in remaining:
            began = time.perf_counter()
            async with session.post(url + "/v1/alerts", json=_alert(),
                                    headers=headers) as response:
                await response.read()
            samples.append((time.perf_counter() - began) * 1000)
            statuses[response.status] = statuses.get(response.status, 0) + 1

    connector = aiohttp.TCPConnector(limit=posters)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(poster(session) for _ in range(posters)))
        wall = time.perf_counter() - started
    return samples, statuses, wall


async def _wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            if proc.poll() is not None:
                raise RuntimeError(f"the listener exited ({proc.returncode})")
            try:
                async with session.get(url + "/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError("the listener did not become ready")


def _spawn(args: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen(args, stdout=log, stderr=log)


async def _listener_round(mode: str, amqp_url: str, redis_url: str, redis_pid: int | None,
                          requests: int, posters: int, log_dir: Path) -> dict[str, Any]:
    queue = "benchrl" + uuid.uuid4().hex[:10]
    secret = secrets.token_hex(16)
    port = free_port()
    args = [sys.executable, "-m", "alertflow", "listen", "--amqp-url", amqp_url, "--queue",
            queue, "--queue-type", "classic", "--port", str(port), "--token",
            f"bench:{secret}", "--key-prefix", queue, "--log-level", "warning"]
    if mode != "off":
        args += ["--rate-limit", "1000000:1000000"]
    if mode == "shared":
        args += ["--redis-url", redis_url]
    proc = _spawn(args, log_dir / f"listener-{mode}.log")
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_ready(url, proc)
        await _post_all(url, secret, 300, posters)  # warm-up: connections, caches
        pids = {"listener": proc.pid} | ({"redis": redis_pid} if redis_pid else {})
        meter = CpuMeter(pids)
        meter.start()
        samples, statuses, wall = await _post_all(url, secret, requests, posters)
        cpu = meter.stop()
    finally:
        proc.terminate()
        await asyncio.to_thread(proc.wait, 20)
        delete_queues(amqp_url, queue)
    per_request = {name: round(cpu[name]["cpu_s"] / requests * 1e6)
                   for name in pids if name in cpu}
    return {"mode": mode, "requests_per_s": round(requests / wall), "statuses": statuses,
            "post_ms": percentiles(samples), "cpu_us_per_request": per_request,
            "machine_core_fraction": cpu["machine"]["core_fraction"],
            "others_core_fraction": cpu["others"]["core_fraction"]}


async def ratelimit(amqp_url: str, redis_url: str, requests: int, posters: int, rounds: int,
                    calls: int) -> dict[str, Any]:
    admin = aioredis.Redis.from_url(redis_url)
    info = await admin.info("server")
    await admin.aclose()
    redis_pid = int(info["process_id"]) if "127.0.0.1" in redis_url else None
    alone = await _limiter_alone(redis_url, "benchrl" + uuid.uuid4().hex[:10], calls)
    log_dir = Path(tempfile.mkdtemp(prefix="alertflow-bench-rl-"))
    listener = []
    for _ in range(rounds):
        for mode in MODES:  # interleaved: a change in the machine's load hits every mode
            listener.append(await _listener_round(mode, amqp_url, redis_url, redis_pid,
                                                  requests, posters, log_dir))
    return {"scenario": "ratelimit", "limiter_alone": alone, "listener": listener,
            "parameters": {"requests": requests, "posters": posters, "rounds": rounds,
                           "log_dir": str(log_dir)}}
