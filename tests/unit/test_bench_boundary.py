"""The benchmark is outside the product's import path: `alertflow bench` loads it when run."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alertflow import cli

ROOT = Path(__file__).resolve().parents[2]


def test_the_product_loads_neither_the_bench_nor_its_extra() -> None:
    code = (
        "import sys\n"
        "import alertflow.cli, alertflow.roles.run, alertflow.notifier, alertflow.listener\n"
        "import alertflow.push\n"
        "from typer.testing import CliRunner\n"
        "assert CliRunner().invoke(alertflow.cli.app, ['--help']).exit_code == 0\n"
        "print(sorted(m for m in sys.modules\n"
        "             if m.startswith(('alertflow.bench', 'alertflow.local_')) or m == 'psutil'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_bench_runs_its_own_commands_when_asked() -> None:
    result = CliRunner().invoke(cli.app, ["bench", "latency", "--help"])
    assert result.exit_code == 0, result.output
    assert "alertflow bench latency" in result.output and "--clients" in result.output


def test_bench_without_its_extra_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "BENCH_MODULES", ("psutil", "alertflow_no_such_module"))
    result = CliRunner().invoke(cli.app, ["bench", "latency"])
    assert result.exit_code == 2
    assert "missing: alertflow_no_such_module" in result.output
    assert "pip install 'alertflow[bench]'" in result.output


def test_tests_outside_tests_bench_import_no_bench_module() -> None:
    offenders = []
    for path in (ROOT / "tests").rglob("*.py"):
        if "bench" in path.relative_to(ROOT / "tests").parts[:1]:
            continue  # the bench's own tests
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [module or ""]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith("alertflow.bench")]
    assert offenders == []
