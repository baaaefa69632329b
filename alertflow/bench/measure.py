"""Numbers: percentiles, CPU seconds and memory of processes, machine load, descriptor limits."""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import psutil


def percentiles(samples_ms: Iterable[float]) -> dict[str, float | int]:
    """count, p50, p95, p99, max and mean (nearest rank) of samples in milliseconds."""
    ordered = sorted(samples_ms)
    count = len(ordered)
    if not count:
        return {"count": 0}

    def rank(q: float) -> float:
        return round(ordered[min(count - 1, max(0, int(q * count + 0.5) - 1))], 2)

    return {"count": count, "p50": rank(0.50), "p95": rank(0.95), "p99": rank(0.99),
            "max": round(ordered[-1], 2), "mean": round(sum(ordered) / count, 2)}


def raise_open_files_limit() -> int:
    """Raise this process's soft descriptor limit to the hard one; returns the new soft limit.

    N local clients need about N descriptors here and N in the notifier; child processes
    (the roles under `--start`) inherit the raised limit.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def pid_listening_on(port: int) -> int | None:
    """The pid of the local process listening on TCP `port` (root sees every process)."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except (psutil.AccessDenied, OSError):
        return None
    for conn in connections:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
            return conn.pid
    return None


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


@dataclass
class CpuMeter:
    """CPU seconds each named process spent between `start()` and `stop()`."""

    pids: Mapping[str, int]
    _procs: dict[str, psutil.Process] = field(default_factory=dict)
    _before: dict[str, float] = field(default_factory=dict)
    _started: float = 0.0
    _machine_before: float = 0.0

    def start(self) -> None:
        self._procs = {}
        self._before = {}
        for name, pid in self.pids.items():
            try:
                process = psutil.Process(pid)
                self._before[name] = _cpu_seconds(process)
                self._procs[name] = process
            except psutil.Error:
                continue
        self._machine_before = _machine_busy()
        self._started = time.monotonic()

    def stop(self) -> dict[str, dict[str, float]]:
        """{name: {cpu_s, core_fraction}}; core_fraction = CPU seconds / wall seconds.

        Also `machine`: all CPUs' busy time, and `others`: the part no measured process used
        (other programs on the machine, and the kernel's interrupt work for the traffic: when
        it is much more than the loopback traffic explains, the run was disturbed).
        """
        wall = max(1e-9, time.monotonic() - self._started)
        busy = _machine_busy() - self._machine_before
        result: dict[str, dict[str, float]] = {}
        for name, process in self._procs.items():
            try:
                used = _cpu_seconds(process) - self._before[name]
            except psutil.Error:
                continue
            result[name] = {"cpu_s": round(used, 2), "core_fraction": round(used / wall, 3)}
        others = max(0.0, busy - sum(item["cpu_s"] for item in result.values()))
        result["machine"] = {"cpu_s": round(busy, 2), "core_fraction": round(busy / wall, 3)}
        result["others"] = {"cpu_s": round(others, 2), "core_fraction": round(others / wall, 3)}
        return result


def _machine_busy() -> float:
    """CPU seconds all cores spent running something since boot (steal and idle excluded;
    interrupt time included: loopback networking is mostly softirq, in no process's account)."""
    times = psutil.cpu_times()
    busy = times.user + times.system + getattr(times, "nice", 0.0)
    return float(busy + getattr(times, "irq", 0.0) + getattr(times, "softirq", 0.0))


def rss_bytes(pid: int) -> int | None:
    try:
        return int(psutil.Process(pid).memory_info().rss)
    except psutil.Error:
        return None
