"""The scenarios of issue 4. Each returns one result dict (the JSON line)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

from alertflow.bench import deployment as deployments
from alertflow.bench.config import Close, Ingest, Load, Target
from alertflow.bench.deployment import Deployment
from alertflow.bench.load import AlertFactory, Posted, Poster, Prepared
from alertflow.bench.measure import CpuMeter, load_average, percentiles, rss_bytes
from alertflow.bench.node import NodeClients
from alertflow.bench.profile import Profiler
from alertflow.bench.swarm import Frame, Swarm

POLL_S = 0.02
SERVICES = ("rabbitmq", "redis")


class MeasuredInterval:
    """The measured part of a run: CPU seconds of every process, and py-spy if asked."""

    def __init__(self, running: Deployment, target: Target,
                 extra: dict[str, int] | None = None) -> None:
        self._meter = CpuMeter({**running.pids, "bench": os.getpid(), **(extra or {})})
        roles = {name: pid for name, pid in running.pids.items() if name not in SERVICES}
        self._profiler = Profiler(target.py_spy_dir, roles) if target.py_spy_dir else None
        self.load_before: list[float] = []
        self.profiles: dict[str, str] = {}

    def start(self) -> None:
        self.load_before = load_average()
        if self._profiler is not None:
            self._profiler.start()
        self._meter.start()

    def stop(self) -> dict[str, dict[str, float]]:
        cpu = self._meter.stop()
        if self._profiler is not None:
            self.profiles = self._profiler.stop()
        return cpu

    def report(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"profiles": self.profiles} if self._profiler else {}
        return {"load_avg_before": self.load_before, "load_avg_after": load_average(), **extra}


@asynccontextmanager
async def system(target: Target) -> AsyncIterator[Deployment]:
    """The deployment for one run; started roles are stopped and cleaned up at the end, and
    their logs kept only when the run failed (or `--log-dir` was given)."""
    running = await deployments.start(target) if target.start else deployments.attach(target)
    try:
        yield running
    except BaseException:
        await running.stop()
        if running.log_dir is not None:
            print(f"alertflow bench: role logs kept in {running.log_dir}", file=sys.stderr)
        raise
    await running.stop()
    running.discard_logs()


async def _wait(predicate: Callable[[], bool], timeout: float,
                check: Callable[[], None] | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        if check is not None:
            check()
        await asyncio.sleep(POLL_S)
    return True


def _open_latencies(frames: list[Frame], posted: Posted) -> Iterator[float]:
    sent_at = posted.sent_at
    for frame in frames:
        sends = [sent_at[alert_id] for alert_id in frame.opens if alert_id in posted.accepted]
        for received in frame.recv:
            for sent in sends:
                yield (received - sent) * 1000


def _after_listener(frames: list[Frame]) -> Iterator[float]:
    """Listener accepted (the event's `received_at`) → event received: queue, processor,
    Redis and notifier. Meaningful when the listener's clock is this machine's."""
    for frame in frames:
        for received in frame.recv:
            for accepted_at in frame.received_at:
                yield received * 1000 - accepted_at


def _requests(factory: AlertFactory, mode: str, size: int) -> Callable[[], Prepared]:
    """The next request of an ingest mode: own JSON, the national feed's shape, or CAP 1.2."""
    if mode == "cap":
        return factory.cap_request
    if mode == "feed":
        return lambda: factory.feed_request(size)
    return lambda: factory.json_request(size)


def _close_lateness(frames: list[Frame]) -> Iterator[float]:
    for frame in frames:
        for received in frame.recv:
            for ends_at in frame.closes:
                yield received * 1000 - ends_at


def _per_cpu(count: int, cpu: dict[str, dict[str, float]], role: str) -> float | None:
    """`count` per CPU second of the processes whose name starts with `role`."""
    seconds = sum(item["cpu_s"] for name, item in cpu.items() if name.startswith(role))
    return round(count / seconds, 1) if seconds > 0 else None


def _last_receipt(frames: list[Frame]) -> float:
    return max((max(frame.recv) for frame in frames if frame.recv), default=0.0)


def _notifier_rss(running: Deployment) -> int | None:
    sizes = [rss_bytes(pid) for pid in running.notifier_pids]
    if not sizes or any(size is None for size in sizes):
        return None
    return sum(size for size in sizes if size is not None)


def _clients(swarm: Swarm, requested: int, connect_s: float) -> dict[str, Any]:
    errors = swarm.errors()
    return {"requested": requested, "ready": swarm.ready_count, "lost": swarm.lost(),
            "connect_s": round(connect_s, 2), "errors": len(errors),
            "first_errors": sorted(set(errors))[:3]}


def _delivery(swarm: Swarm, accepted: set[str], closes: bool = False,
              per_alert: int = 1) -> dict[str, Any]:
    """Opens of accepted alerts (and closes) received, against clients × accepted alerts ×
    the windows each alert opens (`per_alert`: every area, for an alert for the whole country).

    An alert the listener did not accept (say a 503 whose confirm came late) may still come
    out — nothing was promised either way — so it counts neither as delivered nor as missing.
    """
    live = len(swarm.live())
    expected = live * len(accepted) * per_alert * (2 if closes else 1)
    received = sum(len(frame.recv) * sum(1 for alert_id in frame.opens if alert_id in accepted)
                   for frame in swarm.frames)
    if closes:
        received += swarm.received_closes()
    return {
        "delivered_fraction": round(received / expected, 6) if expected else 0.0,
        "missing": max(0, expected - received),
        "duplicates": swarm.duplicates(),
    }


async def _connect(swarm: Swarm, running: Deployment, clients: int,
                   timeout: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """Connect the clients; returns (client summary, notifier memory figures)."""
    before = _notifier_rss(running)
    bench_before = rss_bytes(os.getpid())
    started = time.monotonic()
    await swarm.connect(clients, timeout)
    connect_s = time.monotonic() - started
    return _clients(swarm, clients, connect_s), {"rss_before": before,
                                                  "bench_rss_before": bench_before}


def _memory(running: Deployment, swarm: Swarm, before: dict[str, Any]) -> dict[str, Any]:
    after = _notifier_rss(running)
    ready = max(1, swarm.ready_count)
    result: dict[str, Any] = {"notifier_rss_mib": round(after / 2**20, 1) if after else None,
                              "notifier_rss_per_conn_kib": None, "bench_rss_per_conn_kib": None}
    if after is not None and before["rss_before"] is not None:
        result["notifier_rss_per_conn_kib"] = round((after - before["rss_before"]) / ready / 1024,
                                                    2)
    bench_after = rss_bytes(os.getpid())
    if bench_after is not None and before["bench_rss_before"] is not None:
        result["bench_rss_per_conn_kib"] = round(
            (bench_after - before["bench_rss_before"]) / ready / 1024, 2)
    return result


async def deliveries(name: str, target: Target, load: Load) -> dict[str, Any]:
    """latency, fanout and burst: N clients, alerts posted at a fixed rate, one per request."""
    async with system(target) as running:
        factory = AlertFactory(load.alert_type, load.window_s, load.seed)
        per_alert = len(factory.locations) if load.nationwide else 1
        urls = running.notifier_urls
        swarm_urls, node_url = (urls[:-1], urls[-1]) if load.node_apart else (urls, urls[0])
        swarm = Swarm(swarm_urls, factory.is_ours, deflate=load.deflate,
                      connect_concurrency=load.connect_concurrency)
        poster = Poster(running.listener_url, running.token)
        groups = [NodeClients(node_url, mode, count, load.alert_type,
                              load.node_modules, keepalive=keepalive)
                  for mode, count, keepalive in (
                      ("default", load.node_clients, False),
                      ("polling", load.polling_clients, load.polling_keepalive)) if count]
        try:
            clients, before = await _connect(swarm, running, load.clients, load.connect_timeout_s)
            for group in groups:
                await group.start(load.connect_timeout_s)
            await asyncio.sleep(load.settle_s)
            memory = _memory(running, swarm, before)
            node_pids = {f"node_{g.mode}": g.pid for g in groups if g.pid is not None}
            measured = MeasuredInterval(running, target, node_pids)
            measured.start()
            started = time.monotonic()
            count = max(1, round(load.rate * load.duration_s))
            make = factory.nationwide if load.nationwide else factory.alert
            await poster.at_rate(lambda _i: make(), count, load.rate)
            posting_s = time.monotonic() - started
            accepted = len(poster.posted.accepted) * per_alert
            live = swarm.live()
            drained = await _wait(lambda: all(c.opens >= accepted for c in live),
                                  load.drain_timeout_s, running.check_alive)
            if groups:
                await asyncio.sleep(2.0)  # their last deliveries (they report at the end)
            cpu = measured.stop()
            wall_s = time.monotonic() - started
            node = {f"node_{group.mode}_clients": await group.finish(accepted)
                    for group in groups}
        finally:
            await poster.close()
            await swarm.close()
            for group in groups:
                await group.kill()
    posted = poster.posted
    delivered = swarm.received_opens() + swarm.received_closes()
    last = _last_receipt(swarm.frames)
    span = last - posted.first_sent if last else 0.0
    return {
        "scenario": name, "deployment": running.describe(),
        "params": {"clients": load.clients, "rate": load.rate, "duration_s": load.duration_s,
                   "connect_concurrency": load.connect_concurrency,
                   "window_s": load.window_s, "deflate": load.deflate,
                   "processors": target.processors, "notifiers": target.notifiers,
                   "queue_type": target.queue_type, "node_clients": load.node_clients,
                   "polling_clients": load.polling_clients,
                   "polling_keepalive": load.polling_keepalive,
                   "node_apart": load.node_apart, "nationwide": load.nationwide},
        "clients": clients, **node, "posted": posted.summary(), "windows_per_alert": per_alert,
        "achieved_rate": round(posted.requests / posting_s, 1) if posting_s else 0.0,
        "e2e_ms": percentiles(_open_latencies(swarm.frames, posted)),
        "after_listener_ms": percentiles(_after_listener(swarm.frames)),
        "post_answer_ms": percentiles(posted.answer_ms),
        "deliveries": delivered,
        "deliveries_per_s": round(delivered / span, 1) if span > 0 else 0.0,
        # The websocket clients' notifiers only: with --node-apart the last one serves Node's.
        "deliveries_per_notifier_cpu_s": _per_cpu(delivered, {
            name: item for name, item in cpu.items()
            if not (load.node_apart and name == f"notifier{len(swarm_urls)}")}, "notifier"),
        **_delivery(swarm, posted.accepted, per_alert=per_alert), "drained": drained,
        "cpu": cpu, **memory, "wall_s": round(wall_s, 2),
        **measured.report(),
    }


async def close(target: Target, spec: Close) -> dict[str, Any]:
    """Many short windows over distinct areas: how late after `ends_at` each close arrives."""
    async with system(target) as running:
        factory = AlertFactory(spec.alert_type, spec.max_window_s, spec.seed)
        locations = factory.distinct_locations(spec.windows)
        span_s = spec.max_window_s - spec.min_window_s + 1
        swarm = Swarm(running.notifier_urls, factory.is_ours, deflate=spec.deflate)
        poster = Poster(running.listener_url, running.token)
        try:
            clients, _ = await _connect(swarm, running, spec.clients, 60)
            measured = MeasuredInterval(running, target)
            measured.start()
            started = time.monotonic()
            await poster.at_rate(
                lambda i: factory.alert(locations[i], spec.min_window_s + i % span_s),
                spec.windows, spec.rate)
            accepted = len(poster.posted.accepted)
            live = swarm.live()
            drained = await _wait(lambda: all(c.closes >= accepted for c in live),
                                  spec.max_window_s + spec.drain_timeout_s, running.check_alive)
            cpu = measured.stop()
            wall_s = time.monotonic() - started
        finally:
            await poster.close()
            await swarm.close()
    posted = poster.posted
    return {
        "scenario": "close", "deployment": running.describe(),
        "params": {"windows": spec.windows, "rate": spec.rate, "clients": spec.clients,
                   "window_s": [spec.min_window_s, spec.max_window_s], "deflate": spec.deflate,
                   "processors": target.processors, "queue_type": target.queue_type},
        "clients": clients, "posted": posted.summary(),
        "close_lateness_ms": percentiles(_close_lateness(swarm.frames)),
        "e2e_ms": percentiles(_open_latencies(swarm.frames, posted)),
        "closes": swarm.received_closes(),
        **_delivery(swarm, posted.accepted, closes=True), "drained": drained,
        "cpu": cpu, "wall_s": round(wall_s, 2),
        **measured.report(),
    }


async def ingest(target: Target, spec: Ingest) -> dict[str, Any]:
    """32 closed-loop posters: single alerts, then barrages; then check each came out."""
    async with system(target) as running:
        factory = AlertFactory(spec.alert_type, spec.window_s, spec.seed)
        swarm = Swarm(running.notifier_urls, factory.is_ours, deflate=False)
        phases: dict[str, Any] = {}
        posters: list[Poster] = []
        try:
            clients, _ = await _connect(swarm, running, 1, 60)
            measured = MeasuredInterval(running, target)
            measured.start()
            started = time.monotonic()
            for mode in spec.modes:
                size = 1 if mode in ("single", "cap") else spec.barrage
                poster = Poster(running.listener_url, running.token, spec.posters)
                posters.append(poster)
                phase_meter = CpuMeter({**running.pids, "bench": os.getpid()})
                phase_meter.start()
                wall = await poster.closed_loop(_requests(factory, mode, size), spec.posters,
                                                spec.duration_s)
                posted = poster.posted
                phase_cpu = phase_meter.stop()
                phases[mode] = {
                    "alerts_per_request": size, **posted.summary(), "wall_s": round(wall, 2),
                    "accepted_per_s": round(len(posted.accepted) / wall, 1),
                    "requests_per_s": round(posted.requests / wall, 1),
                    "answer_ms": percentiles(posted.answer_ms),
                    # capacity apart from the machine's other work: alerts per CPU second
                    "accepted_per_listener_cpu_s": _per_cpu(len(posted.accepted), phase_cpu,
                                                            "listener"),
                    "cpu": phase_cpu,
                }
            posting_done = time.monotonic()
            accepted_ids = set().union(*(poster.posted.accepted for poster in posters))
            accepted = len(accepted_ids)
            live = swarm.live()
            drained = await _wait(lambda: all(c.opens >= accepted for c in live),
                                  spec.drain_timeout_s, running.check_alive)
            drain_s = time.monotonic() - posting_done
            cpu = measured.stop()
            wall_s = time.monotonic() - started
        finally:
            for poster in posters:
                await poster.close()
            await swarm.close()
    first_sent = min((poster.posted.first_sent for poster in posters), default=0.0)
    last = _last_receipt(swarm.frames)
    delivery = _delivery(swarm, accepted_ids)
    return {
        "scenario": "ingest", "deployment": running.describe(),
        "params": {"posters": spec.posters, "duration_s": spec.duration_s,
                   "barrage": spec.barrage, "modes": list(spec.modes),
                   "processors": target.processors, "queue_type": target.queue_type},
        "clients": clients, "phases": phases, "alerts_accepted": accepted,
        **delivery, "alerts_out": accepted * len(live) - delivery["missing"],
        "lost": delivery["missing"], "drained": drained, "drain_s": round(drain_s, 2),
        "pipeline_alerts_per_s": round(accepted / (last - first_sent), 1)
        if last > first_sent else 0.0,
        "alerts_per_processor_cpu_s": _per_cpu(accepted, cpu, "processor"),
        "cpu": cpu, "wall_s": round(wall_s, 2),
        **measured.report(),
    }
