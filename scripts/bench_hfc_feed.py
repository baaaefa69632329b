"""One-off bench: requests per notifier CPU-second on the national feed's paths.

Starts `alertflow dev` (listener, processor and notifier in one process; the notifier's feed
routes are the same code as `alertflow notify`'s), opens 40 alert windows over real areas, then
polls `/WarningMessages/alert/Alerts.json` from this process with CONNECTIONS keep-alive
connections for SECONDS seconds, plain and conditional (If-None-Match: a CDN revalidating), and
reports requests per CPU-second of the server process. Run it under the bench lock:

    flock /tmp/alertflow-bench.lock .venv/bin/python scripts/bench_hfc_feed.py
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import psutil

SECONDS = 10.0
CONNECTIONS = 32
TOKEN = "bench-token-0123456789abcdef"
AREAS = ["Ashkelon", "Sderot", "Abu Ghosh", "Haifa", "Nahariya", "Metula", "Kiryat Shmona",
         "Ashdod", "Netivot", "Ofakim"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def load(url: str, headers: dict[str, str]) -> tuple[int, dict[int, int]]:
    statuses: dict[int, int] = {}
    deadline = time.monotonic() + SECONDS
    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def worker() -> None:
            while time.monotonic() < deadline:
                async with session.get(url, headers=headers) as response:
                    await response.read()
                    statuses[response.status] = statuses.get(response.status, 0) + 1
        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return sum(statuses.values()), statuses


def main() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items()
           if k not in ("ALERTFLOW_AMQP_URL", "ALERTFLOW_REDIS_URL")}
    alertflow = str(Path(sys.executable).with_name("alertflow"))
    server = subprocess.Popen([alertflow, "dev", "--port", str(port), "--token",
                               f"bench:{TOKEN}", "--log-level", "warning"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(base + "/readyz", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        asyncio.run(measure(base, psutil.Process(server.pid)))
    finally:
        server.terminate()
        server.wait(timeout=20)


async def measure(base: str, process: psutil.Process) -> None:
    async with aiohttp.ClientSession() as session:
        for index in range(40):
            async with session.post(base + "/v1/alerts", json={
                    "id": f"bench-{index}", "type": "ירי רקטות וטילים",
                    "locations": [AREAS[index % len(AREAS)]], "duration_s": 3600,
                    "issued_at": datetime.now(UTC).isoformat()},
                    headers={"Authorization": f"Bearer {TOKEN}"}) as response:
                assert response.status == 202, await response.text()
        await asyncio.sleep(1)
        async with session.get(base + "/WarningMessages/alert/Alerts.json") as response:
            body, etag = await response.read(), response.headers["ETag"]
    print(f"Alerts.json: {len(body)} bytes")
    for name, headers in (("plain GET (200 with the body)", {}),
                          ("If-None-Match (304)", {"If-None-Match": etag})):
        cpu0, wall0 = process.cpu_times(), time.monotonic()
        machine0 = psutil.cpu_times()
        own0 = psutil.Process().cpu_times()
        count, statuses = await load(base + "/WarningMessages/alert/Alerts.json", headers)
        cpu1, wall = process.cpu_times(), time.monotonic() - wall0
        machine1, own1 = psutil.cpu_times(), psutil.Process().cpu_times()
        server_cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
        busy = ((machine1.user - machine0.user) + (machine1.system - machine0.system)
                + (machine1.nice - machine0.nice))
        client_cpu = (own1.user - own0.user) + (own1.system - own0.system)
        others = busy - server_cpu - client_cpu
        print(f"{name}: {count} requests in {wall:.1f} s = {count / wall:.0f}/s; "
              f"server CPU {server_cpu:.2f} s = {count / server_cpu:.0f} requests per "
              f"CPU-second; statuses {statuses}; load generator CPU {client_cpu:.2f} s; "
              f"others {others:.2f} CPU-s ({others / wall:.2f} cores)")


if __name__ == "__main__":
    main()
