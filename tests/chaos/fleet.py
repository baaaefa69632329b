"""A fleet of Socket.IO clients in a process of their own, driven by JSON lines on stdin.

Hundreds of clients decoding thousands of events each would saturate the test's event loop and
slow the source below the rate a scenario asks for; here they cost another process instead.
Each command line gets one JSON answer line on stdout:

  {"cmd": "connect", "urls": [...], "count": N, "resuming": true}  → {"clients": N}
  {"cmd": "status", "opens": N}  → {"settled": bool, "events": [min, max], "connected": k, …}
  {"cmd": "dump", "path": FILE}  → {"ok": true}; FILE holds every client's events and snapshots
  {"cmd": "close"}               → {"ok": true}, then the process exits
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from tests.chaos.harness import close_clients, connect_clients, settled


def status(clients: list[Any], opens: int) -> dict[str, Any]:
    counts = [len(c.events) for c in clients] or [0]
    return {
        "settled": all(settled(c, opens) for c in clients),
        "events": [min(counts), max(counts)],
        "connected": sum(1 for c in clients if c.connected),
        "connections": sum(getattr(c, "connections", 1) for c in clients),
        "drops": sum(getattr(c, "drops", 0) for c in clients),
    }


def dump(clients: list[Any], path: str) -> None:
    Path(path).write_text(json.dumps(
        [{"events": c.events, "snapshots": c.snapshots, "snapshot_at": c.snapshot_at,
          "connections": getattr(c, "connections", 1),
          "drops": getattr(c, "drops", 0)} for c in clients]))


async def main() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    clients: list[Any] = []
    while line := await reader.readline():
        command = json.loads(line)
        answer: dict[str, Any] = {"ok": True}
        try:
            if command["cmd"] == "connect":
                clients += await connect_clients(command["urls"], command["count"],
                                                 resuming=command.get("resuming", True),
                                                 spread=command.get("spread", True))
                answer = {"clients": len(clients)}
            elif command["cmd"] == "status":
                answer = status(clients, command["opens"])
            elif command["cmd"] == "dump":
                dump(clients, command["path"])
            elif command["cmd"] == "close":
                await close_clients(clients)
                print(json.dumps(answer), flush=True)
                return
        except Exception as exc:  # answer the test instead of dying silently
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    try:
        import uvloop  # the fleet's own cost matters: the faster loop where installed
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
