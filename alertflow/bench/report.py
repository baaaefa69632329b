"""Output: one JSON line on stdout (for machines and docs), a readable table on stderr."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict) and value and not (
            prefix.endswith("statuses") or prefix.endswith("first_errors")):
        rows: list[tuple[str, str]] = []
        for key, item in value.items():
            rows += _flatten(item, f"{prefix}.{key}" if prefix else str(key))
        return rows
    if isinstance(value, list):
        return [(prefix, ", ".join(str(item) for item in value))]
    if isinstance(value, dict):
        return [(prefix, ", ".join(f"{k}: {v}" for k, v in value.items()))]
    return [(prefix, str(value))]


def table(result: dict[str, Any]) -> str:
    rows = _flatten({key: value for key, value in result.items() if key != "deployment"})
    width = max(len(name) for name, _ in rows)
    title = f"alertflow bench {result.get('scenario', '')}"
    lines = [title, "-" * max(len(title), width + 20)]
    lines += [f"{name.ljust(width)}  {value}" for name, value in rows]
    return "\n".join(lines)


def emit(result: dict[str, Any], append_to: str = "", out: TextIO | None = None,
         human: TextIO | None = None) -> None:
    line = json.dumps(result, ensure_ascii=False, separators=(",", ":"))
    print(table(result), file=human or sys.stderr, flush=True)
    print(line, file=out or sys.stdout, flush=True)
    if append_to:
        with Path(append_to).open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
