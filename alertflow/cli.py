"""The `alertflow` command: one subcommand per role, plus `dev`, `send` and `bench`."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from typing import Annotated

import typer

from alertflow import log_setup
from alertflow.catalog_build import catalog_app
from alertflow.settings import Settings
from alertflow.settings_cli import role_command, role_group

app = typer.Typer(
    help="alertflow: emergency alerts from sources to every screen within a second.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)
def _start_logging(settings: Settings) -> None:
    if settings.log_format not in ("json", "console"):
        raise typer.BadParameter("must be json or console", param_hint="--log-format")
    log_setup.configure(settings.log_level, settings.log_format)  # type: ignore[arg-type]


def _check_tokens_file(path: str) -> None:
    from pathlib import Path

    from alertflow.domain.tokens import TokensError
    from alertflow.listener.tokens import TokenRegistry

    try:
        TokenRegistry({}, Path(path))
    except OSError as exc:
        raise typer.BadParameter(f"{path}: {exc.strerror}", param_hint="--tokens-file") from None
    except TokensError as exc:
        raise typer.BadParameter(str(exc), param_hint="--tokens-file") from None


@role_command(app, "listen")
def listen(settings: Settings, given: frozenset[str]) -> None:
    """Accept alerts over HTTP and enqueue them durably in RabbitMQ."""
    _start_logging(settings)
    if settings.tokens_file:
        _check_tokens_file(settings.tokens_file)
    if not settings.tokens and not settings.tokens_file and not settings.insecure_no_auth:
        typer.echo("alertflow listen: no source tokens. Give --token NAME:SECRET (or "
                   "ALERTFLOW_TOKENS) or --tokens-file FILE, or --insecure-no-auth for a "
                   "closed test network.", err=True)
        raise typer.Exit(2)
    from alertflow.roles import run

    run.run(run.listen(settings))


@role_command(app, "process")
def process(settings: Settings, given: frozenset[str]) -> None:
    """Consume the queue, aggregate per location in Redis, publish open/close events."""
    _start_logging(settings)
    from alertflow.roles import run

    run.run(run.process(settings))


@role_command(app, "notify")
def notify(settings: Settings, given: frozenset[str]) -> None:
    """Push events to Socket.IO clients and serve the live dashboard."""
    _start_logging(settings)
    from alertflow.roles import run

    run.run(run.notify(settings))


@role_command(app, "dev")
def dev(settings: Settings, given: frozenset[str]) -> None:
    """Listener, processor and notifier in one process; dashboard on http://127.0.0.1:8000."""
    _start_logging(settings)
    from alertflow.roles import run

    # Without tokens, dev accepts anyone: it is a local sandbox (README).
    settings = dataclasses.replace(settings, insecure_no_auth=not settings.tokens)
    run.run(run.dev(settings, use_amqp="amqp_url" in given, use_redis="redis_url" in given,
                    demo=settings.demo))


def push(settings: Settings, given: frozenset[str]) -> None:
    """Send Web Push notifications to subscribed phones (`alertflow push keygen`: VAPID keys)."""
    _start_logging(settings)
    from alertflow.roles import run

    try:
        run.run(run.push(settings))
    except (FileNotFoundError, PermissionError, ValueError) as exc:
        typer.echo(f"alertflow push: {exc}", err=True)
        raise typer.Exit(2) from None


push_app = role_group(app, "push", push)
app.add_typer(catalog_app, name="catalog")


@push_app.command()
def keygen(
    out: Annotated[str, typer.Option("--out", help="Directory for vapid-private.pem.")] = ".",
) -> None:
    """Make a VAPID key pair: DIR/vapid-private.pem (mode 0600); prints the public key."""
    from alertflow.push import vapid

    try:
        path, public = vapid.generate(out)
    except FileExistsError:
        typer.echo(f"{out}/vapid-private.pem exists; not overwriting a key in use", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"private key: {path}", err=True)
    typer.echo(public)


@role_command(app, "follow")
def follow(settings: Settings, given: frozenset[str]) -> None:
    """Poll a feed of the national feed's shape (URL) and enqueue each new alert once."""
    _start_logging(settings)
    if not settings.follow_url.startswith(("http://", "https://")):
        raise typer.BadParameter("must be an http:// or https:// URL", param_hint="URL")
    if settings.interval_s < 0.05:
        raise typer.BadParameter("at least 0.05 s", param_hint="--interval-s")
    from alertflow.roles import run

    run.run(run.follow(settings))


@app.command()
def send(
    location: Annotated[list[str], typer.Option("--location", help="Area name (repeatable).")],
    alert_type: Annotated[str, typer.Option("--type", help="Alert type.")] = "missiles",
    duration: Annotated[int, typer.Option("--duration", help="Window in seconds.")] = 60,
    url: Annotated[str, typer.Option("--url", envvar="ALERTFLOW_URL", show_envvar=True,
                                     help="Listener base URL.")] = "http://127.0.0.1:8000",
    token: Annotated[str | None, typer.Option("--token", envvar="ALERTFLOW_TOKEN",
                                              show_envvar=True, help="Source token secret.")]
    = None,
    alert_id: Annotated[str | None, typer.Option("--id", help="Alert id (default: new).")] = None,
    cancel: Annotated[bool, typer.Option("--cancel", help="Send an all-clear.")] = False,
    title: Annotated[str | None, typer.Option("--title")] = None,
) -> None:
    """Post one alert to a listener (or `alertflow dev`)."""
    body: dict[str, object] = {
        "id": alert_id or str(uuid.uuid4()), "type": alert_type, "locations": location,
        "issued_at": datetime.now(UTC).isoformat(),
        "kind": "cancel" if cancel else "alert",
    }
    if not cancel:
        body["duration_s"] = duration
    if title:
        body["title"] = title
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url.rstrip("/") + "/v1/alerts",
                                     data=json.dumps(body).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            typer.echo(f"{response.status} {response.read().decode()}")
    except urllib.error.HTTPError as exc:
        typer.echo(f"{exc.code} {exc.read().decode()}", err=True)
        raise typer.Exit(1) from None
    except urllib.error.URLError as exc:
        typer.echo(f"cannot reach {url}: {exc.reason}", err=True)
        raise typer.Exit(1) from None


BENCH_HELP = (
    "Measure the pipeline end to end: POST → RabbitMQ → Redis → Socket.IO clients. "
    "Prints one JSON line (stdout) and a table (stderr). Against a running deployment "
    "(--listener-url, --notifier-url, --token) or roles it starts itself (--start)."
)
# What `alertflow bench` needs beyond the product (pyproject's `bench` extra; py-spy is
# only for --py-spy and is looked up when asked for).
BENCH_MODULES = ("psutil",)


@app.command(
    "bench", help=BENCH_HELP, add_help_option=False,
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def bench(ctx: typer.Context) -> None:
    # The benchmark is not part of the product: it is imported only when run, so neither the
    # roles nor `alertflow --help` load it or need its extra.
    missing = [name for name in BENCH_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        typer.echo(f"alertflow bench needs the bench extra (missing: {', '.join(missing)}): "
                   "pip install 'alertflow[bench]'", err=True)
        raise typer.Exit(2)
    from alertflow.bench.cli import bench_app

    typer.main.get_command(bench_app).main(args=ctx.args, prog_name="alertflow bench")


def main() -> None:
    app(prog_name="alertflow")


if __name__ == "__main__":
    main()
