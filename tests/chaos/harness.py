"""What the chaos tests share: a cluster of real role processes, a paced source, clients, checks.

Every scenario asserts what users rely on (docs/reliability.md): each alert answered 202 reaches
every client as exactly one `open`, each window closes exactly once, nothing is invented, and
neither the queue nor its dead-letter queue holds anything at the end.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from alertflow.catalog import load_catalog
from tests.conftest import free_port
from tests.support import (
    TOKEN,
    Collector,
    ResumingClient,
    Role,
    metrics,
    now_iso,
    queue_depths,
    wait_ready,
)

Client = Collector | ResumingClient
REPOSITORY = Path(__file__).resolve().parents[2]


def real_locations(count: int) -> list[str]:
    """`count` real alert areas of the bundled catalog, by their English names (as sources
    would send them; the notifier reports their ids)."""
    catalog = load_catalog()
    names = []
    for area_id in sorted(catalog.areas):
        english = (catalog.areas[area_id].names or {}).get("en")
        if english and catalog.resolve(english) == area_id:
            names.append(english)
        if len(names) == count:
            return names
    raise AssertionError("the bundled catalog has too few areas")


def alert(location: str, duration_s: int, **extra: Any) -> dict[str, Any]:
    return {"id": f"chaos-{uuid.uuid4()}", "type": "missiles", "locations": [location],
            "issued_at": now_iso(), "duration_s": duration_s, **extra}


@dataclass
class Cluster:
    """Listeners, processors and notifiers as real `alertflow` subprocesses on one queue and
    one key prefix; any of them can be killed, terminated and started again."""

    tmp_path: Path
    amqp_url: str
    redis_url: str
    queue: str = field(default_factory=lambda: "chaos" + uuid.uuid4().hex[:10])
    roles: dict[str, Role] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)  # role name → its HTTP base URL
    # What the roles are given when it differs from what the test itself uses: several broker
    # nodes (comma-separated), a redis+sentinel:// URL (the test reads the master directly).
    role_amqp_url: str = ""
    role_redis_url: str = ""

    def add(self, kind: str, index: int, extra: Sequence[str] = (), wait: bool = True) -> Role:
        name, port = f"{kind}{index}", free_port()
        common = ["--log-level", "info"]
        amqp_url = self.role_amqp_url or self.amqp_url
        redis_url = self.role_redis_url or self.redis_url
        if kind == "listener":
            args = ["listen", "--amqp-url", amqp_url, "--queue", self.queue, "--port",
                    str(port), "--token", f"chaos:{TOKEN}", "--confirm-timeout-s", "3", *common]
        elif kind == "processor":
            args = ["process", "--amqp-url", amqp_url, "--queue", self.queue,
                    "--redis-url", redis_url, "--key-prefix", self.queue,
                    "--http-port", str(port), *common]
        else:
            args = ["notify", "--redis-url", redis_url, "--key-prefix", self.queue,
                    "--port", str(port), *common]
        self.roles[name] = Role(name, [*args, *extra], self.tmp_path)
        self.urls[name] = f"http://127.0.0.1:{port}"
        if wait:
            wait_ready(self.urls[name], self.roles[name])
        return self.roles[name]

    def restart(self, name: str, wait: bool = True) -> None:
        role = self.roles[name]
        assert not role.alive(), f"{name} is still running"
        role.start()
        if wait:
            wait_ready(self.urls[name], role)

    def of(self, kind: str) -> list[str]:
        return [self.urls[name] for name in self.roles if name.startswith(kind)]

    def metric(self, name: str, sample: str) -> float:
        return metrics(self.urls[name]).get(sample, 0.0)

    def outcomes(self) -> dict[str, float]:
        """alertflow_alerts_processed_total by outcome, summed over the running processors
        (a processor killed loses its counts)."""
        totals: Counter[str] = Counter()
        for name in self.roles:
            if name.startswith("processor") and self.roles[name].alive():
                try:
                    samples = metrics(self.urls[name])
                except OSError:
                    continue
                for key, value in samples.items():
                    if key.startswith("alertflow_alerts_processed_total{"):
                        totals[key.split('"')[1]] += int(value)
        return dict(totals)

    def stream_position(self) -> tuple[int, int]:
        """(last seq, stream length) in Redis: what the processors have published."""
        import redis

        client = redis.Redis.from_url(self.redis_url)
        try:
            root = "{" + self.queue + "}:"
            return int(client.get(root + "seq") or 0), int(client.xlen(root + "stream"))
        finally:
            client.close()

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n{role.log()[-3000:]}" for name, role in self.roles.items())

    def all_logs(self) -> str:
        return "\n".join(role.log() for role in self.roles.values())

    def stop(self) -> None:
        for role in self.roles.values():
            if role.alive():
                try:
                    role.terminate(timeout=20)
                except Exception:
                    role.kill()


class Clusters:
    """Makes Clusters on given services and remembers them, to stop them and show their logs."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.made: list[Cluster] = []

    def __call__(self, amqp_url: str, redis_url: str) -> Cluster:
        self.made.append(Cluster(self.tmp_path, amqp_url, redis_url))
        return self.made[-1]


@dataclass
class Answer:
    status: int  # 0: no HTTP answer (connection refused, reset, timed out)
    seconds: float
    started: float  # monotonic


class Source:
    """A source posting alerts at a steady rate (open loop: the next request leaves on time
    whether or not the previous ones were answered, up to `concurrency` in flight)."""

    def __init__(self, listener_urls: Sequence[str], rate: float = 250, concurrency: int = 64,
                 retry_until_accepted: bool = False, timeout_s: float = 30) -> None:
        self.urls = list(listener_urls)
        self.rate = rate
        self.concurrency = concurrency
        self.retry = retry_until_accepted
        self.timeout_s = timeout_s
        self.answers: dict[str, list[Answer]] = {}
        self.bodies: dict[str, dict[str, Any]] = {}
        self.started = 0.0
        self.finished = 0.0
        self.posted = 0

    @property
    def accepted(self) -> set[str]:
        return {i for i, answers in self.answers.items() if any(a.status == 202 for a in answers)}

    def statuses(self) -> Counter[int]:
        return Counter(a.status for answers in self.answers.values() for a in answers)

    @property
    def offered_rate(self) -> float:
        """Alerts posted per second, first request to last request sent."""
        return self.posted / max(self.finished - self.started, 1e-9)

    async def run(self, bodies: Iterable[dict[str, Any]],
                  during: Callable[[int], Any] | None = None) -> None:
        """Post every body; `during(n)` runs after the n-th post is sent (a fault injector)."""
        limit = asyncio.Semaphore(self.concurrency)
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        tasks: list[asyncio.Task[None]] = []
        async with aiohttp.ClientSession(timeout=timeout) as session:
            self.started = time.monotonic()
            for index, body in enumerate(bodies):
                delay = self.started + index / self.rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                await limit.acquire()
                self.bodies[body["id"]] = body
                tasks.append(asyncio.create_task(self._post(session, body, index, limit)))
                self.posted += 1
                if during is not None:
                    result = during(index + 1)
                    if asyncio.iscoroutine(result):
                        await result
            self.finished = time.monotonic()
            await asyncio.gather(*tasks)

    async def _post(self, session: aiohttp.ClientSession, body: dict[str, Any], index: int,
                    limit: asyncio.Semaphore) -> None:
        attempt = 0
        try:
            while True:
                url = self.urls[(index + attempt) % len(self.urls)] + "/v1/alerts"
                started = time.monotonic()
                status = 0
                retry_after = 0.2
                try:
                    async with session.post(url, data=json.dumps(body), headers={
                            "Authorization": f"Bearer {TOKEN}",
                            "Content-Type": "application/json"}) as response:
                        status = response.status
                        await response.read()
                        retry_after = float(response.headers.get("Retry-After", 0.2))
                except (aiohttp.ClientError, TimeoutError, OSError):
                    status = 0
                self.answers.setdefault(body["id"], []).append(
                    Answer(status, time.monotonic() - started, started))
                if status == 202 or not self.retry or status not in (0, 429, 503):
                    return
                attempt += 1
                await asyncio.sleep(min(retry_after, 1.0))
        finally:
            limit.release()


async def connect_clients(urls: Sequence[str], count: int, resuming: bool = False,
                          batch: int = 25, spread: bool = True) -> list[Any]:
    """`count` clients connected a batch at a time, each with its snapshot: spread over `urls`,
    or (`spread=False`) all on the first, the others being where they go when it is lost."""
    clients: list[Any] = []
    for start in range(0, count, batch):
        group: list[Any] = []
        for index in range(start, min(start + batch, count)):
            turn = index % len(urls) if spread else 0
            shifted = list(urls[turn:]) + list(urls[:turn])
            group.append(ResumingClient(shifted) if resuming else Collector(shifted[0]))
        await asyncio.gather(*(client.connect() for client in group))
        clients += group
    for client in clients:
        await client.wait_for(lambda c: bool(c.snapshots), what="the snapshot on connect")
    return clients


async def close_clients(clients: Sequence[Any]) -> None:
    for client in clients:
        try:
            if isinstance(client, ResumingClient):
                await client.close()
            else:
                await client.disconnect()
        except Exception:  # already gone: nothing to release
            pass


def settled(client: Any, expected_opens: int) -> bool:
    """`expected_opens` opens and a close for each window opened, counted on what the client
    keeps after its resync snapshots (`after_rollbacks`), as the checks count them. Events a
    resync voided do not count: after a failover that rolled back history, their alerts are
    still on their way (after a second failover the clients once looked "settled" on voided
    opens while 135 accepted alerts were still unacked in RabbitMQ, waiting for the new master
    to have a replica for WAIT)."""
    kept = after_rollbacks(client)
    opens = [e for e in kept if e["kind"] == "open"]
    closed = {e["incident_id"] for e in kept if e["kind"] == "close"}
    return len(opens) >= expected_opens and {e["incident_id"] for e in opens} <= closed


async def settle(clients: Sequence[Any], expected_opens: int, timeout: float,
                 quiet_s: float = 1.0) -> bool:
    """Wait until every client is `settled`, then for `quiet_s` more, so late duplicates would
    show up. False at `timeout` (the exactly-once check then says what is wrong)."""
    deadline = time.monotonic() + timeout
    while not all(settled(client, expected_opens) for client in clients):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)
    await asyncio.sleep(quiet_s)
    return True


@dataclass
class Recorded:
    """One fleet client's record, as dumped: what the checks need of a client."""

    events: list[dict[str, Any]]
    snapshots: list[dict[str, Any]]
    snapshot_at: list[int] = field(default_factory=list)
    connections: int = 1
    drops: int = 0

    def opens(self) -> list[dict[str, Any]]:
        return [event for event in self.events if event["kind"] == "open"]

    def closes(self) -> list[dict[str, Any]]:
        return [event for event in self.events if event["kind"] == "close"]


class Fleet:
    """Clients in a process of their own (tests/chaos/fleet.py), so that decoding their
    events does not slow the source posting from the test's event loop."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> Fleet:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.chaos.fleet", cwd=REPOSITORY,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=(self.tmp_path / "fleet.log").open("ab"), limit=1 << 24)
        return self

    async def command(self, timeout: float = 120, **command: Any) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(command).encode() + b"\n")
        await self.proc.stdin.drain()
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not line:
            log = (self.tmp_path / "fleet.log").read_text(errors="replace")[-3000:]
            raise AssertionError(f"the client fleet died:\n{log}")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise AssertionError(f"fleet {command['cmd']}: {answer['error']}")
        return answer

    async def connect(self, urls: Sequence[str], count: int, resuming: bool = True,
                      spread: bool = True) -> None:
        await self.command(cmd="connect", urls=list(urls), count=count, resuming=resuming,
                           spread=spread)

    async def status(self, opens: int) -> dict[str, Any]:
        return await self.command(cmd="status", opens=opens)

    async def settle(self, opens: int, timeout: float, quiet_s: float = 1.0) -> bool:
        """Like `settle`, for the fleet's clients."""
        deadline = time.monotonic() + timeout
        while not (await self.status(opens))["settled"]:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.25)
        await asyncio.sleep(quiet_s)
        return True

    async def dump(self) -> list[Recorded]:
        path = self.tmp_path / f"fleet-{uuid.uuid4().hex[:6]}.json"
        await self.command(cmd="dump", path=str(path))
        records = [Recorded(**record) for record in json.loads(path.read_text())]
        path.unlink()
        return records

    async def close(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        try:
            await self.command(cmd="close", timeout=30)
            await asyncio.wait_for(self.proc.wait(), 10)
        except Exception:
            self.proc.kill()
            await self.proc.wait()


@dataclass
class Delivery:
    """What the clients received, counted for docs/reliability.md."""

    clients: int
    opens_per_client: list[int]
    duplicates: int
    missing: int
    invented: int
    closes_per_client: list[int]
    double_closes: int
    unclosed: int
    resyncs: int

    def summary(self) -> str:
        return (f"clients={self.clients} opens/client={min(self.opens_per_client)}…"
                f"{max(self.opens_per_client)} duplicates={self.duplicates} "
                f"missing={self.missing} invented={self.invented} "
                f"closes/client={min(self.closes_per_client)}…{max(self.closes_per_client)} "
                f"double_closes={self.double_closes} unclosed={self.unclosed} "
                f"resyncs={self.resyncs}")


def after_rollbacks(client: Any) -> list[dict[str, Any]]:
    """The events a client keeps once it has applied its resync snapshots: a `resync: true`
    snapshot at seq X says the stream's history after X was rolled back (a failover lost it),
    so the events received before it with a seq above X are void; what follows replaces them."""
    kept: list[dict[str, Any]] = []
    position = 0
    for snapshot, at in zip(client.snapshots, client.snapshot_at, strict=True):
        if not snapshot.get("resync"):
            continue
        kept += client.events[position:at]
        position = at
        kept = [event for event in kept if event["seq"] <= snapshot["seq"]]
    return kept + client.events[position:]


def check_exactly_once(clients: Sequence[Any], accepted: set[str], posted: set[str],
                       opens_per_alert: int = 1, stream_last: int | None = None,
                       rollbacks: bool = False) -> Delivery:
    """Every accepted alert opened exactly once per client (per location), nothing that was
    not posted, every window opened closed exactly once, `seq` strictly increasing; with
    `stream_last` (clients subscribed to everything), every seq from the client's first
    snapshot to `stream_last`, none missing.

    With `rollbacks` (a failover may lose the newest history), a client may get resync
    snapshots: they are counted, and the checks apply to the events it keeps after them
    (`after_rollbacks`). Without, any resync is a failure: nothing may have been lost."""
    problems: list[str] = []
    duplicates = missing = invented = double_closes = unclosed = resyncs = 0
    opens_counts, closes_counts = [], []
    for number, raw in enumerate(clients):
        client = Recorded(after_rollbacks(raw), raw.snapshots) if rollbacks else raw
        counts = Counter(e["alert_id"] for e in client.opens())
        opens_counts.append(sum(counts.values()))
        dup = sum(n - opens_per_alert for i, n in counts.items() if n > opens_per_alert)
        miss = sum(1 for i in accepted if counts.get(i, 0) < opens_per_alert)
        extra = sum(1 for i in counts if i not in posted)
        closes = Counter(e["incident_id"] for e in client.closes())
        closes_counts.append(sum(closes.values()))
        twice = sum(n - 1 for n in closes.values() if n > 1)
        opened = {e["incident_id"] for e in client.opens()}
        never_closed = len(opened - set(closes))
        closed_unopened = len(set(closes) - opened)
        seqs = [e["seq"] for e in client.events]
        ordered = all(a < b for a, b in itertools.pairwise(seqs))
        gaps = 0
        if stream_last is not None and client.snapshots:
            expected = range(client.snapshots[0]["seq"] + 1, stream_last + 1)
            gaps = len(set(expected) - set(seqs))
        resync = sum(1 for s in client.snapshots if s.get("resync"))
        duplicates, missing, invented = duplicates + dup, missing + miss, invented + extra
        double_closes, unclosed, resyncs = double_closes + twice, unclosed + never_closed, (
            resyncs + resync)
        if dup or miss or extra or twice or never_closed or closed_unopened or not ordered \
                or (resync and not rollbacks) or gaps:
            problems.append(
                f"client {number}: {dup} duplicate opens, {miss} of {len(accepted)} accepted "
                f"alerts missing (e.g. {sorted(i for i in accepted if not counts.get(i))[:2]}),"
                f" {extra} invented, {twice} windows closed twice, {never_closed} never "
                f"closed, {closed_unopened} closed but not opened, seq ordered: {ordered}, "
                f"{gaps} seqs of the stream missing, {resync} resync snapshots")
    delivery = Delivery(len(clients), opens_counts, duplicates, missing, invented,
                        closes_counts, double_closes, unclosed, resyncs)
    assert not problems, "\n".join(problems[:10]) + f"\n({len(problems)} clients wrong)"
    return delivery


async def wait_queue_empty(amqp_url: str, queue: str, timeout: float = 30) -> tuple[int, int]:
    """The queue's and its dead-letter queue's depth once the queue is empty (or at timeout)."""
    deadline = time.monotonic() + timeout
    depths = queue_depths(amqp_url, queue)
    while depths[0] and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        depths = queue_depths(amqp_url, queue)
    return depths


async def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> float:
    """Seconds it took for `predicate` to hold; fails after `timeout`."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.1)
    return time.monotonic() - started


def report(name: str, **numbers: Any) -> None:
    """Print the scenario's numbers (pytest -s shows them; docs/reliability.md records them)."""
    print(f"\n[{name}] " + " ".join(f"{k}={v}" for k, v in numbers.items()), flush=True)
