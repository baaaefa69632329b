"""Dependencies: every imported distribution is declared, the two lock files agree, the suite runs
on the locked versions, and alertflow.pinned tells a locked version from another."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from alertflow import pinned

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
FULL_LOCK = pinned.parse_lock((ROOT / "requirements.lock").read_text(encoding="utf-8"))
REINSTALL = ".venv/bin/pip install -r requirements.lock && .venv/bin/pip install --no-deps -e ."


def declared(*extras: str) -> set[str]:
    requirements = list(PYPROJECT["dependencies"])
    for extra in extras:
        requirements += PYPROJECT["optional-dependencies"][extra]
    return {pinned.canonical(Requirement(r).name) for r in requirements}


def imported_modules(*paths: Path) -> set[str]:
    """Top-level names of the absolute imports in these Python files and folders."""
    names: set[str] = set()
    for top in paths:
        for path in top.rglob("*.py") if top.is_dir() else [top]:
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"alertflow", "tests"}


def undeclared(modules: set[str], allowed: set[str]) -> dict[str, list[str]]:
    providers = metadata.packages_distributions()
    missing = {}
    for module in sorted(modules):
        dists = [pinned.canonical(d) for d in providers.get(module, [])]
        if not dists or not allowed.intersection(dists):
            missing[module] = dists
    return missing


def test_the_product_imports_only_its_runtime_dependencies() -> None:
    product = [p for p in (ROOT / "alertflow").iterdir() if p.name != "bench"]
    assert undeclared(imported_modules(*product), declared()) == {}


def test_the_bench_and_the_tests_import_only_declared_distributions() -> None:
    assert undeclared(imported_modules(ROOT / "alertflow" / "bench"), declared("bench")) == {}
    assert undeclared(imported_modules(ROOT / "tests"), declared("test")) == {}


def test_the_runtime_lock_pins_what_the_full_lock_pins() -> None:
    runtime = pinned.locked_versions()
    assert declared() <= runtime.keys(), "a runtime dependency is missing from runtime.lock"
    assert {name: FULL_LOCK.get(name) for name in runtime} == runtime, (
        "the locks disagree: regenerate both with `bash scripts/lock.sh`"
    )


def test_every_declared_distribution_is_locked() -> None:
    assert declared("test", "bench", "lock") <= FULL_LOCK.keys(), "run `bash scripts/lock.sh`"


def test_every_locked_version_satisfies_pyprojects_bounds() -> None:
    requirements = list(PYPROJECT["dependencies"])
    for extra in PYPROJECT["optional-dependencies"].values():
        requirements += extra
    outside = [
        f"{req} (locked {FULL_LOCK[pinned.canonical(req.name)]})"
        for req in map(Requirement, requirements)
        if not req.specifier.contains(FULL_LOCK[pinned.canonical(req.name)], prereleases=True)
    ]
    assert outside == [], "run `bash scripts/lock.sh`"


def test_the_suite_runs_on_the_locked_versions() -> None:
    assert pinned.unlocked(*FULL_LOCK, lock=FULL_LOCK) == [], f"install from the lock: {REINSTALL}"


def test_pinned_tells_a_locked_version_from_another() -> None:
    version = metadata.version("hypercorn")
    assert pinned.unlocked("hypercorn", "Python_EngineIO") == []
    assert pinned.unlocked("hypercorn", lock={"hypercorn": version}) == []
    assert pinned.unlocked("hypercorn", lock={"hypercorn": "0.0.1"}) == [
        f"hypercorn {version} is installed, the lock pins 0.0.1"
    ]
    assert pinned.unlocked("hypercorn", lock={}) == ["hypercorn is not in the lock"]
    assert pinned.unlocked("no-such-dist", lock={"no-such-dist": "1.0"}) == [
        "no-such-dist is not installed (locked 1.0)"
    ]


def test_parse_lock_reads_pins_and_skips_the_rest() -> None:
    text = (
        "# comment\n"
        "Hypercorn==0.18.0 \\\n"
        "    --hash=sha256:00\n"
        "    # via alertflow\n"
        "python_engineio[client]==4.15.1 ; python_version >= '3.11'\n"
        "-e .\n"
    )
    assert pinned.parse_lock(text) == {"hypercorn": "0.18.0", "python-engineio": "4.15.1"}
