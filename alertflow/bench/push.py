"""`alertflow bench push`: Web Push throughput — encryption alone, and a whole barrage.

1. Encryption alone, in this process: RFC 8291 aes128gcm bodies of a real payload for fresh
   P-256 subscriptions (what the push role does per subscriber): pushes per CPU-second.
2. A barrage: the local push service (alertflow/local_push_service.py, a subprocess on
   127.0.0.1, VAPID checked on every request, a sample decrypted) hands out N subscriptions;
   they are stored in Redis over `areas` areas; a real `alertflow push` subprocess is started;
   one `open` event per area is written to the stream exactly as the processor writes it; the
   clock runs from that write to the push service's last 201. The push role's CPU gives pushes
   per CPU-second of the whole send path (claims, encryption, VAPID, HTTP).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import psutil
import redis.asyncio as aioredis

from alertflow.backends.cleanup import delete_keys
from alertflow.backends.redis_store import connect
from alertflow.bench.measure import CpuMeter
from alertflow.domain.locations import Catalog
from alertflow.domain.push import parse_push_subscription
from alertflow.domain.push_messages import OPEN, Notice, build_message
from alertflow.local_ports import free_port
from alertflow.push import vapid
from alertflow.push.sender import encrypt
from alertflow.push.store import PushStore

ALERTFLOW = str(Path(sys.executable).parent / "alertflow")


def _event(seq: int, area: str, now_ms: int) -> dict[str, Any]:
    return {"seq": seq, "kind": "open", "reason": "alert", "location": area, "known": True,
            "names": {"he": f"אזור {area}", "en": f"Area {area}"}, "zone": f"zone-{area}",
            "zone_names": {"en": f"Zone {area}"}, "shelter_seconds": 90, "type": "missiles",
            "category": "missiles", "alert_id": f"bench-{area}", "incident_id": str(seq),
            "started_at": now_ms, "ends_at": now_ms + 600_000, "alert_count": 1,
            "issued_at": now_ms, "received_at": now_ms, "source": "bench"}


def encryption_alone(count: int) -> dict[str, Any]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from alertflow.local_push_service import _b64

    subs = []
    for n in range(count):
        public = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        subs.append(parse_push_subscription(
            {"subscription": {"endpoint": f"https://push.example.com/{n}",
                              "keys": {"p256dh": _b64(public), "auth": _b64(b"a" * 16)}},
             "locations": ["a"]}, Catalog.empty()))
    now = int(time.time() * 1000)
    message = build_message([Notice("1:open", OPEN, _event(1, "a", now))], "he", now)
    assert message is not None
    started = time.process_time()
    for sub in subs:
        encrypt(message.payload, sub)
    cpu = time.process_time() - started
    return {"pushes": count, "payload_bytes": len(message.payload), "cpu_s": round(cpu, 3),
            "pushes_per_cpu_s": round(count / cpu)}


def _spawn(args: list[str], stdout: int | None = None,
           stderr: Path | None = None) -> subprocess.Popen[str]:
    log = stderr.open("w") if stderr else None
    return subprocess.Popen(args, stdout=stdout, stderr=log, text=True)


async def _stats(session: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with session.get(url + "/stats") as response:
        result: dict[str, Any] = await response.json()
        return result


async def barrage(redis_url: str, subscribers: int, areas: int, concurrency: int,
                  timeout_s: float) -> dict[str, Any]:
    prefix = "benchpush" + uuid.uuid4().hex[:8]
    work = Path(tempfile.mkdtemp(prefix="alertflow-bench-push-"))
    key_file, public = vapid.generate(work)
    subs_file = work / "subscriptions.jsonl"
    service = _spawn([sys.executable, "-m", "alertflow.local_push_service", str(subscribers),
                      public, str(subs_file)], stdout=subprocess.PIPE)
    push: subprocess.Popen[str] | None = None
    client = aioredis.Redis.from_url(redis_url)
    try:
        assert service.stdout is not None
        port = int(await asyncio.to_thread(service.stdout.readline))
        origin = f"http://127.0.0.1:{port}"
        store = PushStore(connect(redis_url), prefix)
        names = [f"a{n}" for n in range(areas)]
        lines = subs_file.read_text("utf-8").splitlines()
        started = time.monotonic()
        for start in range(0, len(lines), 2000):
            await store.save_new([parse_push_subscription(
                {"subscription": json.loads(line), "locations": [names[(start + i) % areas]]},
                Catalog.empty(), frozenset({origin}))
                for i, line in enumerate(lines[start:start + 2000])])
        stored_s = time.monotonic() - started
        await store.close()
        http_port = free_port()
        push = _spawn([
            ALERTFLOW, "push", "--redis-url", redis_url, "--key-prefix", prefix,
            "--http-port", str(http_port), "--vapid-key-file", str(key_file),
            "--push-test-origin", origin, "--push-concurrency", str(concurrency),
            "--log-level", "warning"], stderr=work / "push.log")
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                try:
                    async with session.get(f"http://127.0.0.1:{http_port}/readyz") as ready:
                        if ready.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            meter = CpuMeter({"push": push.pid, "push_service": service.pid,
                              "redis": _redis_pid()})
            meter.start()
            now_ms = int(time.time() * 1000)
            sent_at = time.time()
            stream = "{" + prefix + "}:stream"
            async with client.pipeline(transaction=True) as pipe:
                for seq, area in enumerate(names, 1):
                    pipe.xadd(stream, {"e": json.dumps(_event(seq, area, now_ms))},
                              id=f"{seq}-0")
                await pipe.execute()
            deadline = time.monotonic() + timeout_s
            stats = await _stats(session, origin)
            while stats["accepted"] < subscribers and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                stats = await _stats(session, origin)
            cpu = meter.stop()
        last = stats["last_at"] or time.time()
        push_cpu = cpu.get("push", {}).get("cpu_s") or 0.0
        return {
            "subscribers": subscribers, "areas": areas, "concurrency": concurrency,
            "stored_subscriptions_s": round(stored_s, 1),
            "delivered": stats["accepted"], "decrypted_sample": stats["decrypted"],
            "statuses": stats["statuses"], "problems": stats["problems"],
            "barrage_s": round(last - sent_at, 2),
            "pushes_per_s": round(stats["accepted"] / max(1e-9, last - sent_at)),
            "push_role_pushes_per_cpu_s": round(stats["accepted"] / push_cpu) if push_cpu
            else None,
            "cpu": cpu,
        }
    finally:
        for process in (push, service):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
        await delete_keys(client, prefix)
        await client.aclose()


def _redis_pid() -> int:
    for process in psutil.process_iter(["name"]):
        if process.info["name"] == "redis-server":
            return int(process.pid)
    return 0


async def push_bench(redis_url: str, subscribers: int, areas: int, concurrency: int,
                     encrypt_count: int, timeout_s: float) -> dict[str, Any]:
    return {
        "scenario": "push",
        "encryption": await asyncio.to_thread(encryption_alone, encrypt_count),
        "barrage": await barrage(redis_url, subscribers, areas, concurrency, timeout_s),
        "cpus": psutil.cpu_count(),
    }
