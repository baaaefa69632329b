"""`alertflow catalog build`: the authority's published lists → a catalog file, and a report.

The files are read here; merging the lists and finding what changed is
alertflow/domain/catalog_changes.py. Every input is JSON (a byte-order mark is fine), or JSON
compressed with gzip or in a zip archive of one file (oref_alert ships its outlines as
`area_to_polygon.json.zip`), or a Python module whose one top-level assignment is a literal
(oref_alert's `area_to_migun_time.py`, `area_to_district.py`): read with ast.literal_eval,
never run. Exit status: 0 built, 1 the lists do not make a catalog (an area without outline or
shelter time), 2 an input is missing or malformed.
"""

from __future__ import annotations

import ast
import gzip
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from alertflow.catalog import BUNDLED_FILE, load_aliases
from alertflow.domain import catalog_changes as changes
from alertflow.domain.catalog_changes import BuildError, InputError
from alertflow.domain.locations import Catalog

catalog_app = typer.Typer(help="The location catalog: build one from the authority's lists.",
                          no_args_is_help=True, add_completion=False,
                          pretty_exceptions_enable=False)

T = TypeVar("T")


def _fail(message: str, status: int = 2) -> NoReturn:
    typer.echo(f"alertflow catalog build: {message}", err=True)
    raise typer.Exit(status)


class _NotData(ValueError):
    """A file that holds no data of a shape read here."""


def _python_literal(text: str) -> Any:
    """The value of a module's one top-level assignment of a literal, never running it."""
    try:
        module = ast.parse(text)
    except SyntaxError as exc:
        raise _NotData(f"not Python: {exc.msg} at line {exc.lineno}") from None
    values = [node.value for node in module.body
              if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None]
    if len(values) != 1:
        raise _NotData(f"expected one top-level assignment, found {len(values)}")
    try:
        return ast.literal_eval(values[0])
    except ValueError:
        raise _NotData("its assignment is not a literal (a dict, list, text, numbers)") from None


def _decode(raw: bytes, name: str = "") -> Any:
    """JSON, gzip-compressed JSON, a zip of one JSON file, or a Python module's literal."""
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    elif raw[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) != 1:
                raise _NotData(f"a zip archive of {len(members)} files, expected one")
            name, raw = members[0].filename, archive.read(members[0])
    text = raw.decode("utf-8-sig")
    return _python_literal(text) if name.endswith(".py") else json.loads(text)


def _read(option: str, path: str, parse: Callable[[object], T]) -> T:
    """The file at `path` (given as `option`), parsed; a clear exit on any problem."""
    where = f"{option} {path}"
    try:
        data = _decode(Path(path).read_bytes(), path)
    except OSError as exc:
        _fail(f"{where}: cannot read: {exc.strerror or exc}")
    except (EOFError, gzip.BadGzipFile, zipfile.BadZipFile) as exc:
        _fail(f"{where}: not a readable gzip or zip file: {exc}")
    except UnicodeDecodeError as exc:
        _fail(f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start})")
    except json.JSONDecodeError as exc:
        _fail(f"{where}: not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
    except _NotData as exc:
        _fail(f"{where}: {exc}")
    try:
        return parse(data)
    except InputError as exc:
        _fail(f"{where}: {exc}")


def _bundled() -> list[dict[str, Any]]:
    raw = resources.files("alertflow").joinpath(BUNDLED_FILE).read_bytes()
    return changes.parse_catalog(_decode(raw))


def _previous(source: str) -> tuple[str, list[dict[str, Any]]]:
    """The catalog to compare with: 'bundled', 'none' or a catalog file; with the bundled
    nationwide records when it has none (they are kept as the catalog has them)."""
    if source == "bundled":
        return f"the bundled catalog ({BUNDLED_FILE})", _bundled()
    name, records = (("no catalog", []) if source == "none"
                     else (source, _read("--against", source, changes.parse_catalog)))
    if not any(r["id"] in changes.NATIONWIDE_IDS for r in records):
        records += [r for r in _bundled() if r["id"] in changes.NATIONWIDE_IDS]
    return name, records


def encode(records: list[dict[str, Any]]) -> bytes:
    """A catalog file's bytes, in the bundled file's style (compact, UTF-8, one line)."""
    return (json.dumps(records, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _write(option: str, path: str, data: bytes) -> None:
    """Write `data` to `path` whole or not at all (a temporary file renamed over it)."""
    target = Path(path)
    try:
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.chmod(temporary, 0o644)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        _fail(f"{option} {path}: cannot write: {exc.strerror or exc}")


@catalog_app.command("build")
def build(
    areas: Annotated[str, typer.Option(
        "--areas", metavar="FILE",
        help="The area list: pikud-haoref-api's cities.json shape (code, names, zone, "
             "countdown, lat, lng per area).")],
    outlines: Annotated[str, typer.Option(
        "--outlines", metavar="FILE",
        help="Outlines: JSON {area id: list of points, each a 2-item list (lat, lng)}; "
             "oref_alert's area_to_polygon.json.zip as it is.")],
    shelter: Annotated[str | None, typer.Option(
        "--shelter", metavar="FILE",
        help="Current shelter times: JSON {area id: seconds} (or oref_alert's "
             "area_to_migun_time.py); win over the list's countdown.")]
    = None,
    districts: Annotated[str | None, typer.Option(
        "--districts", metavar="FILE",
        help="Districts: JSON {area id: district} (or oref_alert's area_to_district.py). "
             "Without it areas keep their old district.")]
    = None,
    successors: Annotated[str | None, typer.Option(
        "--successors", metavar="FILE",
        help="Areas now covering gone ones: JSON {old id: [new ids]}; the old names resolve "
             "to them.")] = None,
    against: Annotated[str, typer.Option(
        "--against", metavar="CATALOG", envvar="ALERTFLOW_LOCATIONS", show_envvar=True,
        help="The catalog in use, to compare with and to carry former names and districts "
             "from: 'bundled', a catalog file or 'none'.")] = "bundled",
    output: Annotated[str | None, typer.Option(
        "-o", "--output", metavar="FILE",
        help="Write the catalog here (gzip-compressed when FILE ends in .gz). Without it, "
             "only the report.")] = None,
    report_json: Annotated[str | None, typer.Option(
        "--report-json", metavar="FILE", help="Also write the report as JSON.")] = None,
    allow_missing_outlines: Annotated[bool, typer.Option(
        "--allow-missing-outlines",
        help="Build even when areas have no outline (they cannot be selected by shape); "
             "they are listed as warnings.")] = False,
) -> None:
    """Build a catalog file from the authority's lists and report what changed."""
    listed = _read("--areas", areas, changes.parse_area_list)
    shapes = _read("--outlines", outlines, changes.parse_outlines)
    times = _read("--shelter", shelter, changes.parse_shelter) if shelter else None
    groups = _read("--districts", districts, changes.parse_districts) if districts else None
    heirs = (_read("--successors", successors, changes.parse_successors) if successors
             else None)
    against_name, previous = _previous(against)
    try:
        result = changes.build_catalog(listed, shapes, previous, shelter=times,
                                       districts=groups,
                                       allow_missing_outlines=allow_missing_outlines,
                                       successors=heirs)
    except BuildError as exc:
        typer.echo("alertflow catalog build: the lists do not make a catalog, nothing written:",
                   err=True)
        for problem in exc.problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(1) from None
    try:  # what the roles will do with it: a file they cannot load is never written
        Catalog.from_records(result.records, aliases=load_aliases())
    except (KeyError, TypeError, ValueError) as exc:
        _fail(f"the built catalog does not load ({type(exc).__name__}: {exc}), nothing "
              "written", status=1)
    if output:
        data = encode(result.records)
        _write("--output", output, gzip.compress(data, 9, mtime=0)
               if output.endswith(".gz") else data)
    lines = changes.report_lines(result)
    lines.insert(1, f"compared with {against_name}")
    lines.append(f"wrote {output}" if output else "no catalog written (give -o FILE)")
    typer.echo("\n".join(lines))
    if report_json:
        report = {"against": against_name, "output": output, **changes.report_json(result)}
        _write("--report-json", report_json,
               (json.dumps(report, ensure_ascii=False, indent=1) + "\n").encode())
