"""`alertflow bench replication`: what "acknowledged means replicated" costs the processor.

A private Redis master with one replica (subprocesses on free ports, removed afterwards). The
processor's Redis step — `RedisStateStore.apply`, as many at once as the default prefetch — runs
against the master with `--redis-min-replicas` 0 (ack when the master answered) and 1 (ack after
`WAIT 1`), rounds interleaved: alerts applied per second, latency of each apply, this process's
CPU per alert, and the master's own time per script call.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from alertflow.backends.redis_store import RedisStateStore, connect
from alertflow.bench.measure import CpuMeter, percentiles
from alertflow.catalog import load_catalog
from alertflow.domain.alert import Alert
from alertflow.local_ports import free_port


def _spawn(directory: Path, port: int, replica_of: int | None) -> subprocess.Popen[bytes]:
    directory.mkdir(parents=True)
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
            "--save", "", "--appendonly", "no"]
    if replica_of is not None:
        args += ["--replicaof", "127.0.0.1", str(replica_of)]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def _server(directory: Path, port: int, replica_of: int | None) -> subprocess.Popen[bytes]:
    proc = await asyncio.to_thread(_spawn, directory, port, replica_of)
    client = aioredis.Redis(port=port)
    try:
        for _ in range(200):
            try:
                if replica_of is None and await client.ping():
                    return proc
                if replica_of is not None and (await client.info("replication")).get(
                        "master_link_status") == "up":
                    return proc
            except (OSError, aioredis.ConnectionError):
                pass
            await asyncio.sleep(0.05)
    finally:
        await client.aclose()
    proc.kill()
    raise RuntimeError(f"redis-server on {port} did not start")


async def _round(port: int, replicas: int, alerts: int, concurrency: int,
                 pids: dict[str, int]) -> dict[str, Any]:
    catalog = load_catalog()
    names = sorted(catalog.areas)[:50]
    prefix = "benchrepl" + uuid.uuid4().hex[:8]
    store = RedisStateStore(connect(f"redis://127.0.0.1:{port}/0"), catalog, prefix=prefix,
                            min_replicas=replicas)
    now = int(time.time() * 1000)
    batch = [Alert(id=f"{prefix}-{n}", kind="alert", type="missiles",
                   locations=[names[n % len(names)]], issued_at=now, duration_s=600,
                   received_at=now, source="bench") for n in range(alerts)]
    latencies: list[float] = []
    slots = asyncio.Semaphore(concurrency)

    async def one(alert: Alert) -> None:
        async with slots:
            began = time.perf_counter()
            await store.apply(alert, now)
            latencies.append((time.perf_counter() - began) * 1000)

    admin = aioredis.Redis(port=port)
    await admin.config_resetstat()
    cpu = CpuMeter(pids)
    cpu.start()
    started = time.perf_counter()
    await asyncio.gather(*(one(alert) for alert in batch))
    seconds = time.perf_counter() - started
    used = cpu.stop()
    stats = await admin.info("commandstats")
    await admin.delete(*[key async for key in admin.scan_iter(match="{" + prefix + "}:*")])
    await admin.aclose()
    await store.close()
    return {"min_replicas": replicas, "alerts": alerts, "alerts_per_s": round(alerts / seconds),
            "apply_ms": percentiles(latencies),
            "cpu_us_per_alert": {name: round(part["cpu_s"] / alerts * 1e6, 1)
                                 for name, part in used.items() if name in pids},
            "cpu": used,
            "master_evalsha_us_per_call": stats.get("cmdstat_evalsha", {}).get("usec_per_call"),
            "wait_calls": stats.get("cmdstat_wait", {}).get("calls", 0)}


async def _info_cost(port: int, calls: int) -> dict[str, Any]:
    """Redis's own time for a script that only reads INFO replication (what every script now
    does first, to follow the epoch) against one that does nothing."""
    admin = aioredis.Redis(port=port)
    costs = {}
    for name, body in (("empty script", "return 1"),
                       ("INFO replication", "return #redis.call('INFO', 'replication')")):
        await admin.config_resetstat()
        for _ in range(calls):
            await admin.eval(body, 0)
        costs[name] = (await admin.info("commandstats"))["cmdstat_eval"]["usec_per_call"]
    await admin.aclose()
    return {"server_us_per_call": costs}


async def replication(alerts: int, concurrency: int, rounds: int) -> dict[str, Any]:
    if shutil.which("redis-server") is None:
        raise RuntimeError("redis-server is not installed")
    directory = Path(tempfile.mkdtemp(prefix="alertflow-bench-repl-"))
    master_port, replica_port = free_port(), free_port()
    servers: list[subprocess.Popen[bytes]] = []
    try:
        servers.append(await _server(directory / "master", master_port, None))
        servers.append(await _server(directory / "replica", replica_port, master_port))
        results = []
        for _ in range(rounds):
            for replicas in (0, 1):
                results.append(await _round(master_port, replicas, alerts, concurrency, {
                    "apply (this process)": os.getpid(), "master": servers[0].pid,
                    "replica": servers[1].pid}))
        return {"scenario": "replication", "concurrency": concurrency, "rounds": results,
                "epoch_check": await _info_cost(master_port, 2000)}
    finally:
        for proc in servers:
            proc.kill()
            proc.wait(10)
        shutil.rmtree(directory, ignore_errors=True)
