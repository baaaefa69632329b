"""Clients of Node's official socket.io-client (node_clients.mjs) for the benchmark: with
default options (long-polling, then the upgrade) or long-polling only, in a process of their
own so their cost is not the bench's."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

from alertflow.bench.measure import percentiles

SCRIPT = Path(__file__).resolve().parent / "node_clients.mjs"
SUMMARY_LIMIT = 256 * 2**20  # the summary is one line holding every latency sample


class NodeClients:
    def __init__(self, url: str, mode: str, count: int, alert_type: str,
                 node_modules: str, keepalive: bool = False) -> None:
        self.url, self.mode, self.count, self.alert_type = url, mode, count, alert_type
        self.keepalive = keepalive  # keep-alive HTTP connections, as browsers (not Node) do
        self.node_modules = Path(node_modules).resolve()
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    async def start(self, timeout: float) -> NodeClients:
        node = shutil.which("node")
        if node is None or not (self.node_modules / "socket.io-client").is_dir():
            raise RuntimeError(f"Node clients need `node` and socket.io-client in "
                               f"{self.node_modules} (`npm ci` in tests/js)")
        self._proc = await asyncio.create_subprocess_exec(
            node, str(SCRIPT), self.url, self.mode, str(self.count), self.alert_type,
            *(["keepalive"] if self.keepalive else []),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "ALERTFLOW_NODE_MODULES": str(self.node_modules)},
            limit=SUMMARY_LIMIT)
        assert self._proc.stdout is not None
        try:
            line = await asyncio.wait_for(self._proc.stdout.readline(), timeout)
        except TimeoutError:
            raise RuntimeError(f"{self.mode} Node clients: not all {self.count} connected "
                               f"within {timeout:.0f} s") from None
        if json.loads(line or b"{}").get("ready") != self.count:
            raise RuntimeError(f"{self.mode} Node clients did not all connect: {line[:200]!r}")
        return self

    async def finish(self, accepted: int) -> dict[str, Any]:
        """Stop the clients; what they received of the `accepted` alerts."""
        assert self._proc is not None and self._proc.stdin and self._proc.stdout
        self._proc.stdin.close()
        summary = json.loads(await asyncio.wait_for(self._proc.stdout.readline(), 60))
        await self._proc.wait()
        opens = summary["opens"] or [0]
        expected = summary["clients"] * accepted
        return {
            "mode": self.mode, "notifier_url": self.url, "clients": summary["clients"],
            "ready": summary["ready"],
            "transports_at_end": summary["transports"], "lost": summary["lost"],
            "opens_per_client": [min(opens), max(opens)],
            "delivered_fraction": round(sum(opens) / expected, 6) if expected else 0.0,
            "duplicates": summary["duplicates"],
            "after_listener_ms": percentiles(float(v) for v in summary["latencies_ms"]),
        }

    async def kill(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.kill()
            await self._proc.wait()
