"""Sampling profiles of the server processes during the load, with py-spy (`--py-spy DIR`).

py-spy (PyPI, in the `bench` extra) samples a running process from outside; it needs ptrace
rights over it (root, or the same user with ptrace allowed). For each role it writes
`DIR/ROLE.txt` (collapsed stacks, one `frame;frame;… count` line per stack, the input of
flamegraph tools and speedscope) and `DIR/ROLE.top.txt`: the functions with the most samples,
by own time (the leaf of the stack) and by total time (anywhere on the stack).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


class Profiler:
    def __init__(self, directory: str, pids: dict[str, int], rate: int = 100) -> None:
        self._dir = Path(directory)
        self._pids = pids
        self._rate = rate
        self._procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self) -> None:
        binary = py_spy()
        if binary is None:
            raise RuntimeError("--py-spy needs py-spy (pip install 'alertflow[bench]')")
        self._dir.mkdir(parents=True, exist_ok=True)
        for name, pid in self._pids.items():
            self._procs[name] = subprocess.Popen(
                [binary, "record", "--pid", str(pid), "--rate", str(self._rate), "--format",
                 "raw", "--nonblocking", "--output", str(self._dir / f"{name}.txt")],
                stdout=subprocess.DEVNULL, stderr=(self._dir / f"{name}.py-spy.log").open("wb"))

    def stop(self) -> dict[str, str]:
        """Stop sampling, write the summaries; returns {role: summary path}."""
        for proc in self._procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        written: dict[str, str] = {}
        for name, proc in self._procs.items():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            stacks = self._dir / f"{name}.txt"
            if stacks.exists():
                summary = self._dir / f"{name}.top.txt"
                summary.write_text(summarize(stacks.read_text(errors="replace")))
                written[name] = str(summary)
        return written


def _function(frame: str) -> str:
    # py-spy raw frames look like "handle (alertflow/roles/processor.py:88)"; drop the line.
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0] if where else ""
    for marker in ("site-packages/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})" if path else name


# Frames every sample passes through (interpreter start, CLI, event loop): not informative.
_ROOTS = ("<frozen runpy>", "alertflow/__main__.py", "typer/", "click/", "alertflow/cli.py",
          "alertflow/roles/run.py", "uvloop/__init__.py", "asyncio/runners.py",
          "asyncio/base_events.py")


def _package(function: str) -> str:
    path = function.rpartition(" (")[2].rstrip(")")
    if "/" not in path:
        return path or "?"
    head, _, rest = path.partition("/")
    return f"{head}/{rest.partition('/')[0]}" if head == "alertflow" else head


def summarize(collapsed: str, top: int = 25) -> str:
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    samples = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_function(frame) for frame in stack.split(";") if frame]
        if not frames:
            continue
        samples += count
        own[frames[-1]] += count
        packages[_package(frames[-1])] += count
        for function in set(frames):
            if not any(root in function for root in _ROOTS):
                total[function] += count

    def block(title: str, counter: Counter[str]) -> list[str]:
        lines = [title]
        for function, count in counter.most_common(top):
            lines.append(f"{100 * count / max(1, samples):6.1f}%  {function}")
        return lines

    return "\n".join([f"{samples} samples (py-spy counts only samples where the process ran)",
                      *block("-- own time, by package", packages), "",
                      *block("-- own time", own), "",
                      *block("-- total time (on the stack)", total)]) + "\n"
