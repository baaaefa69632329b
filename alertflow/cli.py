"""The `alertflow` command: one subcommand per role, plus `dev` and `send`."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from typing import Annotated

import typer

from alertflow import log_setup
from alertflow.bench.cli import bench_app
from alertflow.domain.ratelimit import parse_rate_limit
from alertflow.settings import (
    DEFAULTS,
    AmqpUrl,
    ClientSendTimeout,
    ConfirmTimeout,
    DedupTtl,
    DeliveryLimit,
    GracefulTimeout,
    Host,
    HttpPort,
    InsecureNoAuth,
    KeyPrefix,
    ListenerRedisUrl,
    Locations,
    LogFormat,
    LogLevel,
    MaxAge,
    MaxAhead,
    MaxAlerts,
    MaxBodyBytes,
    MaxClientBacklog,
    PingInterval,
    Port,
    Prefetch,
    Queue,
    QueueType,
    RateLimit,
    RedisUrl,
    Settings,
    StreamMaxlen,
    StrictLocations,
    SweepInterval,
    Tokens,
    TokensEnv,
    TokensFile,
    parse_tokens,
)

app = typer.Typer(
    help="alertflow: emergency alerts from sources to every screen within a second.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)
app.add_typer(bench_app, name="bench")
D = DEFAULTS


def _start_logging(level: str, fmt: str) -> None:
    if fmt not in ("json", "console"):
        raise typer.BadParameter("must be json or console", param_hint="--log-format")
    log_setup.configure(level, fmt)  # type: ignore[arg-type]


def _rate_limit(text: str) -> tuple[float, int] | None:
    try:
        return parse_rate_limit(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--rate-limit/ALERTFLOW_RATE_LIMIT") from None


def _tokens(token: list[str] | None, tokens: str) -> dict[str, str]:
    try:
        return parse_tokens(token, tokens)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--token/ALERTFLOW_TOKENS") from None


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


@app.command()
def listen(
    amqp_url: AmqpUrl = D.amqp_url, queue: Queue = D.queue, queue_type: QueueType = D.queue_type,
    delivery_limit: DeliveryLimit = D.delivery_limit, locations: Locations = D.locations,
    strict_locations: StrictLocations = D.strict_locations, host: Host = D.host,
    port: Port = 8080, token: Tokens = None, tokens: TokensEnv = "",
    tokens_file: TokensFile = "", redis_url: ListenerRedisUrl = "",
    key_prefix: KeyPrefix = D.key_prefix, insecure_no_auth: InsecureNoAuth = False,
    max_body_bytes: MaxBodyBytes = D.max_body_bytes,
    max_alerts: MaxAlerts = D.max_alerts, max_age_s: MaxAge = D.max_age_s,
    max_ahead_s: MaxAhead = D.max_ahead_s, confirm_timeout_s: ConfirmTimeout = D.confirm_timeout_s,
    rate_limit: RateLimit = "0", graceful_timeout_s: GracefulTimeout = D.graceful_timeout_s,
    log_level: LogLevel = "info", log_format: LogFormat = "json",
) -> None:
    """Accept alerts over HTTP and enqueue them durably in RabbitMQ."""
    _start_logging(log_level, log_format)
    source_tokens = _tokens(token, tokens)
    limit = _rate_limit(rate_limit)
    if tokens_file:
        _check_tokens_file(tokens_file)
    if not source_tokens and not tokens_file and not insecure_no_auth:
        typer.echo("alertflow listen: no source tokens. Give --token NAME:SECRET (or "
                   "ALERTFLOW_TOKENS) or --tokens-file FILE, or --insecure-no-auth for a "
                   "closed test network.", err=True)
        raise typer.Exit(2)
    from alertflow.roles import run

    run.run(run.listen(Settings(
        amqp_url=amqp_url, queue=queue, queue_type=queue_type, delivery_limit=delivery_limit,
        locations=locations, strict_locations=strict_locations, host=host, port=port,
        tokens=source_tokens, insecure_no_auth=insecure_no_auth, max_body_bytes=max_body_bytes,
        max_alerts=max_alerts, max_age_s=max_age_s, max_ahead_s=max_ahead_s,
        confirm_timeout_s=confirm_timeout_s, graceful_timeout_s=graceful_timeout_s,
        rate_limit=limit, tokens_file=tokens_file, redis_url=redis_url, key_prefix=key_prefix,
    )))


@app.command()
def process(
    amqp_url: AmqpUrl = D.amqp_url, redis_url: RedisUrl = D.redis_url, queue: Queue = D.queue,
    queue_type: QueueType = D.queue_type, delivery_limit: DeliveryLimit = D.delivery_limit,
    prefetch: Prefetch = D.prefetch, key_prefix: KeyPrefix = D.key_prefix,
    locations: Locations = D.locations, host: Host = D.host, http_port: HttpPort = D.http_port,
    dedup_ttl_s: DedupTtl = D.dedup_ttl_s, stream_maxlen: StreamMaxlen = D.stream_maxlen,
    sweep_interval_ms: SweepInterval = D.sweep_interval_ms,
    graceful_timeout_s: GracefulTimeout = D.graceful_timeout_s,
    log_level: LogLevel = "info", log_format: LogFormat = "json",
) -> None:
    """Consume the queue, aggregate per location in Redis, publish open/close events."""
    _start_logging(log_level, log_format)
    from alertflow.roles import run

    run.run(run.process(Settings(
        amqp_url=amqp_url, redis_url=redis_url, queue=queue, queue_type=queue_type,
        delivery_limit=delivery_limit, prefetch=prefetch, key_prefix=key_prefix,
        locations=locations, host=host, http_port=http_port, dedup_ttl_s=dedup_ttl_s,
        stream_maxlen=stream_maxlen, sweep_interval_ms=sweep_interval_ms,
        graceful_timeout_s=graceful_timeout_s,
    )))


@app.command()
def notify(
    redis_url: RedisUrl = D.redis_url, key_prefix: KeyPrefix = D.key_prefix,
    locations: Locations = D.locations, host: Host = D.host, port: Port = 8000,
    max_client_backlog: MaxClientBacklog = D.max_client_backlog,
    client_send_timeout_s: ClientSendTimeout = D.client_send_timeout_s,
    ping_interval_s: PingInterval = D.ping_interval_s,
    graceful_timeout_s: GracefulTimeout = D.graceful_timeout_s,
    log_level: LogLevel = "info", log_format: LogFormat = "json",
) -> None:
    """Push events to Socket.IO clients and serve the live dashboard."""
    _start_logging(log_level, log_format)
    from alertflow.roles import run

    run.run(run.notify(Settings(
        redis_url=redis_url, key_prefix=key_prefix, locations=locations, host=host, port=port,
        max_client_backlog=max_client_backlog, client_send_timeout_s=client_send_timeout_s,
        ping_interval_s=ping_interval_s, graceful_timeout_s=graceful_timeout_s,
    )))


@app.command()
def dev(
    amqp_url: Annotated[str | None, typer.Option(
        "--amqp-url", envvar="ALERTFLOW_AMQP_URL", show_envvar=True,
        help="Use this RabbitMQ instead of the in-memory queue.")] = None,
    redis_url: Annotated[str | None, typer.Option(
        "--redis-url", envvar="ALERTFLOW_REDIS_URL", show_envvar=True,
        help="Use this Redis instead of the in-memory state.")] = None,
    demo: Annotated[bool, typer.Option(
        "--demo", envvar="ALERTFLOW_DEMO", show_envvar=True,
        help="Feed realistic barrages over real areas.")] = False,
    queue: Queue = D.queue, key_prefix: KeyPrefix = D.key_prefix,
    locations: Locations = D.locations, strict_locations: StrictLocations = False,
    host: Host = D.host, port: Port = 8000, token: Tokens = None, tokens: TokensEnv = "",
    sweep_interval_ms: SweepInterval = D.sweep_interval_ms,
    log_level: LogLevel = "info", log_format: LogFormat = "console",
) -> None:
    """Listener, processor and notifier in one process; dashboard on http://127.0.0.1:8000."""
    _start_logging(log_level, log_format)
    source_tokens = _tokens(token, tokens)
    from alertflow.roles import run

    settings = Settings(
        amqp_url=amqp_url or D.amqp_url, redis_url=redis_url or D.redis_url, queue=queue,
        key_prefix=key_prefix, locations=locations, strict_locations=strict_locations,
        host=host, port=port, tokens=source_tokens, insecure_no_auth=not source_tokens,
        sweep_interval_ms=sweep_interval_ms,
    )
    run.run(run.dev(settings, use_amqp=bool(amqp_url), use_redis=bool(redis_url), demo=demo))


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


def main() -> None:
    app(prog_name="alertflow")


if __name__ == "__main__":
    main()
