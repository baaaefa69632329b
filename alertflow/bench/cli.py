"""`alertflow bench SCENARIO`: the benchmark's command line (loaded by `alertflow.cli` when run)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Coroutine
from types import ModuleType
from typing import Annotated, Any

import typer

from alertflow.bench.config import DEFAULT_AMQP_URL, DEFAULT_REDIS_URL, Close, Ingest, Load, Target
from alertflow.cli import BENCH_HELP

bench_app = typer.Typer(
    help=BENCH_HELP, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)

_ENV = "ALERTFLOW_BENCH_"


def _opt(name: str, help_text: str, env: str | None = None) -> Any:
    return typer.Option(f"--{name}", help=help_text, show_envvar=True,
                        envvar=env or _ENV + name.upper().replace("-", "_"))


Start = Annotated[bool, typer.Option(
    "--start", help="Start listener, processor(s) and notifier(s) as subprocesses of this CLI "
    "on the local RabbitMQ and Redis (unique queue and key prefix, removed afterwards).")]
ListenerUrl = Annotated[str, _opt("listener-url", "Listener base URL (without --start).")]
NotifierUrl = Annotated[list[str] | None, typer.Option(
    "--notifier-url", help="Notifier base URL (repeatable; clients are spread over them).",
    show_default=False)]
Token = Annotated[str, _opt("token", "Source token secret (without --start).", "ALERTFLOW_TOKEN")]
Pid = Annotated[list[str] | None, typer.Option(
    "--pid", help="NAME=PID of a server process to measure CPU/memory of (repeatable; "
    "local listeners and notifiers are found by their port).", show_default=False)]
AmqpUrl = Annotated[str, _opt("amqp-url", "RabbitMQ for --start.", "ALERTFLOW_AMQP_URL")]
RedisUrl = Annotated[str, _opt("redis-url", "Redis for --start.", "ALERTFLOW_REDIS_URL")]
QueueType = Annotated[str, _opt("queue-type", "Queue type for --start: quorum or classic.")]
Processors = Annotated[int, _opt("processors", "Processors to start with --start.")]
Notifiers = Annotated[int, _opt("notifiers", "Notifiers to start with --start.")]
RoleLogLevel = Annotated[str, _opt("role-log-level", "--log-level of the started roles.")]
LogDir = Annotated[str, _opt("log-dir", "Where started roles write their logs (default: a "
                             "new temporary directory).")]
PySpy = Annotated[str, _opt("py-spy", "Record py-spy profiles of the roles during the load "
                            "into this directory (ROLE.txt collapsed stacks, ROLE.top.txt).")]
Deflate = Annotated[bool, typer.Option(
    "--deflate/--no-deflate", help="Clients offer permessage-deflate, as browsers and "
    "socket.io-client do.")]
Append = Annotated[str, _opt("append", "Also append the JSON line to this file.")]
Seed = Annotated[int, _opt("seed", "Seed of the location choice.")]
Clients = Annotated[int, typer.Option("--clients", help="Socket.IO websocket clients.")]
Rate = Annotated[float, typer.Option("--rate", help="Alerts per second, one per request.")]
Duration = Annotated[float, typer.Option("--duration", help="Seconds of load.")]
AlertDuration = Annotated[int, typer.Option("--window", help="Each alert's duration_s.")]
Concurrency = Annotated[int, typer.Option(
    "--connect-concurrency", help="Client handshakes in flight, each until its snapshot.")]
Drain = Annotated[float, typer.Option(
    "--drain-timeout", help="Seconds to wait after the load for every delivery.")]
NodeCount = Annotated[int, typer.Option(
    "--node-clients", help="Also this many clients of Node's socket.io-client with default "
    "options (long-polling, then the upgrade), measured apart.")]
PollingCount = Annotated[int, typer.Option(
    "--polling-clients", help="Also this many socket.io-client clients on long-polling only.")]
PollingKeepalive = Annotated[bool, typer.Option(
    "--polling-keepalive", help="The --polling-clients keep their HTTP connections alive, as "
    "browsers do (Node's engine.io-client opens one per request).")]
NodeApart = Annotated[bool, typer.Option(
    "--node-apart", help="Node's clients connect to the last notifier and the websocket "
    "clients to the others (with --notifiers 2: polling clients on a notifier of their own).")]
NodeModules = Annotated[str, _opt("node-modules", "Where socket.io-client is installed "
                                  "(`npm ci` in tests/js).")]
Nationwide = Annotated[bool, typer.Option(
    "--nationwide", help="Each alert names the whole country (ברחבי הארץ): one window and "
    "one event per area, 1,449 per alert.")]


def _pids(values: list[str] | None) -> dict[str, int]:
    pids: dict[str, int] = {}
    for value in values or []:
        name, sep, pid = value.partition("=")
        if not sep or not name or not pid.isdigit():
            raise typer.BadParameter(f"{value!r}: use NAME=PID", param_hint="--pid")
        pids[name] = int(pid)
    return pids


def _target(start: bool, listener_url: str, notifier_url: list[str] | None, token: str,
            pid: list[str] | None, amqp_url: str, redis_url: str, queue_type: str,
            processors: int, notifiers: int, role_log_level: str, log_dir: str,
            py_spy: str) -> Target:
    if not start and not (listener_url and notifier_url and token):
        raise typer.BadParameter("give --start, or --listener-url, --notifier-url and --token",
                                 param_hint="--start")
    return Target(start=start, listener_url=listener_url, notifier_urls=tuple(notifier_url or ()),
                  token=token, pids=_pids(pid), amqp_url=amqp_url, redis_url=redis_url,
                  queue_type=queue_type, processors=processors, notifiers=notifiers,
                  role_log_level=role_log_level, log_dir=log_dir, py_spy_dir=py_spy)


def _scenarios() -> ModuleType:
    try:
        from alertflow.bench import scenarios
    except ImportError as exc:
        typer.echo(f"alertflow bench needs the bench extra (pip install 'alertflow[bench]'): "
                   f"{exc}", err=True)
        raise typer.Exit(2) from None
    return scenarios


def _run(scenario: Callable[[], Coroutine[Any, Any, dict[str, Any]]], append: str) -> None:
    """Run one scenario on uvloop (when installed), report it; SIGTERM/SIGINT clean up."""
    from alertflow.bench import report
    from alertflow.bench.measure import raise_open_files_limit

    raise_open_files_limit()

    async def main() -> dict[str, Any]:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        return await scenario()

    try:
        try:
            import uvloop
        except ImportError:
            result = asyncio.run(main())
        else:
            result = uvloop.run(main())
    except asyncio.CancelledError:
        typer.echo("alertflow bench: interrupted; the started roles were stopped", err=True)
        raise typer.Exit(130) from None
    except (RuntimeError, ValueError, OSError) as exc:
        typer.echo(f"alertflow bench: {exc}", err=True)
        raise typer.Exit(1) from None
    report.emit(result, append)


def _deliveries(name: str, target: Target, load: Load, append: str) -> None:
    scenarios = _scenarios()
    _run(lambda: scenarios.deliveries(name, target, load), append)


def _deliveries_command(name: str, summary: str, *, clients: int, rate: float,
                        duration: float, window: int, drain_timeout: float,
                        nationwide: bool = False) -> None:
    """Register one of the scenarios that post alerts to clients: they differ in defaults."""

    def command(
        start: Start = False, listener_url: ListenerUrl = "", notifier_url: NotifierUrl = None,
        token: Token = "", pid: Pid = None, amqp_url: AmqpUrl = DEFAULT_AMQP_URL,
        redis_url: RedisUrl = DEFAULT_REDIS_URL, queue_type: QueueType = "quorum",
        processors: Processors = 1, notifiers: Notifiers = 1,
        role_log_level: RoleLogLevel = "info", log_dir: LogDir = "", py_spy: PySpy = "",
        clients: Clients = clients, rate: Rate = rate, duration: Duration = duration,
        window: AlertDuration = window, deflate: Deflate = True,
        connect_concurrency: Concurrency = 50,
        drain_timeout: Drain = drain_timeout, seed: Seed = 4, append: Append = "",
        node_clients: NodeCount = 0, polling_clients: PollingCount = 0,
        polling_keepalive: PollingKeepalive = False, node_apart: NodeApart = False,
        node_modules: NodeModules = "tests/js/node_modules", nationwide: Nationwide = nationwide,
    ) -> None:
        target = _target(start, listener_url, notifier_url, token, pid, amqp_url, redis_url,
                         queue_type, processors, notifiers, role_log_level, log_dir, py_spy)
        if node_apart and (notifiers if start else len(target.notifier_urls)) < 2:
            raise typer.BadParameter("needs two notifiers or more (--notifiers 2)",
                                     param_hint="--node-apart")
        _deliveries(name, target, Load(clients=clients, rate=rate, duration_s=duration,
                                       window_s=window, deflate=deflate,
                                       connect_concurrency=connect_concurrency,
                                       drain_timeout_s=drain_timeout, seed=seed,
                                       node_clients=node_clients,
                                       polling_clients=polling_clients,
                                       polling_keepalive=polling_keepalive,
                                       node_apart=node_apart, node_modules=node_modules,
                                       nationwide=nationwide), append)

    command.__doc__ = summary
    bench_app.command(name)(command)


_deliveries_command(
    "latency", "End-to-end latency for one client: 20 alerts/s for 15 s (POST sent → event "
    "received).", clients=1, rate=20.0, duration=15.0, window=60, drain_timeout=30.0)
_deliveries_command(
    "fanout", "N websocket clients, 10 alerts/s over real areas: latency, deliveries/s, CPU, "
    "memory.", clients=2000, rate=10.0, duration=20.0, window=300, drain_timeout=300.0)
_deliveries_command(
    "burst", "The fanout clients under a barrage: 200 alerts/s for 5 s, one alert per request.",
    clients=2000, rate=200.0, duration=5.0, window=300, drain_timeout=300.0)
_deliveries_command(
    "nationwide", "The fanout clients under alerts for the whole country: one every 4 s for "
    "20 s, each opening (or extending) all 1,449 areas' windows.", clients=2000, rate=0.25,
    duration=20.0, window=300, drain_timeout=300.0, nationwide=True)


@bench_app.command()
def ingest(
    start: Start = False, listener_url: ListenerUrl = "", notifier_url: NotifierUrl = None,
    token: Token = "", pid: Pid = None, amqp_url: AmqpUrl = DEFAULT_AMQP_URL,
    redis_url: RedisUrl = DEFAULT_REDIS_URL, queue_type: QueueType = "quorum",
    processors: Processors = 1, notifiers: Notifiers = 1, role_log_level: RoleLogLevel = "info",
    log_dir: LogDir = "", py_spy: PySpy = "",
    posters: Annotated[int, typer.Option("--posters", help="Concurrent posters.")] = 32,
    duration: Annotated[float, typer.Option("--duration", help="Seconds per mode.")] = 10.0,
    barrage: Annotated[int, typer.Option("--barrage", help="Alerts per barrage request.")] = 100,
    mode: Annotated[list[str] | None, typer.Option(
        "--mode", help="single, barrage (own JSON), feed (the national feed's shape, "
        "--barrage areas per document), cap (CAP 1.2, one area per message); repeatable; "
        "default single and barrage.", show_default=False)] = None,
    window: AlertDuration = 3600, drain_timeout: Drain = 300.0, seed: Seed = 4, append: Append = "",
) -> None:
    """Accepted alerts/s with 32 posters: own JSON, feed or CAP modes; each must come out."""
    modes = tuple(mode or ("single", "barrage"))
    if not set(modes) <= {"single", "barrage", "feed", "cap"}:
        raise typer.BadParameter("single, barrage, feed or cap", param_hint="--mode")
    target = _target(start, listener_url, notifier_url, token, pid, amqp_url, redis_url,
                     queue_type, processors, notifiers, role_log_level, log_dir, py_spy)
    spec = Ingest(posters=posters, duration_s=duration, barrage=barrage, modes=modes,
                  window_s=window, drain_timeout_s=drain_timeout, seed=seed)
    scenarios = _scenarios()
    _run(lambda: scenarios.ingest(target, spec), append)


@bench_app.command()
def feedout(
    start: Start = False, listener_url: ListenerUrl = "", notifier_url: NotifierUrl = None,
    token: Token = "", pid: Pid = None, amqp_url: AmqpUrl = DEFAULT_AMQP_URL,
    redis_url: RedisUrl = DEFAULT_REDIS_URL, queue_type: QueueType = "quorum",
    processors: Processors = 1, notifiers: Notifiers = 1, role_log_level: RoleLogLevel = "info",
    log_dir: LogDir = "", py_spy: PySpy = "",
    pollers: Annotated[int, typer.Option("--pollers", help="Concurrent pollers.")] = 64,
    duration: Annotated[float, typer.Option("--duration", help="Seconds of polling.")] = 10.0,
    areas: Annotated[int, typer.Option("--areas", help="Areas in the open barrage.")] = 100,
    changes_per_s: Annotated[float, typer.Option(
        "--changes-per-s", help="State changes (new alerts) per second meanwhile.")] = 1.0,
    seed: Seed = 4, append: Append = "",
) -> None:
    """Pollers of the feed-shaped Alerts.json (half conditional): requests per notifier CPU s."""
    target = _target(start, listener_url, notifier_url, token, pid, amqp_url, redis_url,
                     queue_type, processors, notifiers, role_log_level, log_dir, py_spy)
    try:
        from alertflow.bench.feed_out import FeedOut, feed_out
    except ImportError as exc:
        typer.echo(f"alertflow bench needs the bench extra: {exc}", err=True)
        raise typer.Exit(2) from None
    spec = FeedOut(pollers=pollers, duration_s=duration, areas=areas,
                   changes_per_s=changes_per_s, seed=seed)
    _run(lambda: feed_out(target, spec), append)


@bench_app.command()
def close(
    start: Start = False, listener_url: ListenerUrl = "", notifier_url: NotifierUrl = None,
    token: Token = "", pid: Pid = None, amqp_url: AmqpUrl = DEFAULT_AMQP_URL,
    redis_url: RedisUrl = DEFAULT_REDIS_URL, queue_type: QueueType = "quorum",
    processors: Processors = 1, notifiers: Notifiers = 1, role_log_level: RoleLogLevel = "info",
    log_dir: LogDir = "", py_spy: PySpy = "",
    windows: Annotated[int, typer.Option("--windows", help="Short windows, distinct areas.")]
    = 200,
    rate: Rate = 20.0,
    min_window: Annotated[int, typer.Option("--min-window", help="Shortest window, s.")] = 1,
    max_window: Annotated[int, typer.Option("--max-window", help="Longest window, s.")] = 3,
    clients: Clients = 1, deflate: Deflate = True, drain_timeout: Drain = 30.0,
    seed: Seed = 4, append: Append = "",
) -> None:
    """Many short windows: how late each close arrives after its ends_at (p50/p99)."""
    if not 1 <= min_window <= max_window:
        raise typer.BadParameter("need 1 ≤ --min-window ≤ --max-window", param_hint="--min-window")
    target = _target(start, listener_url, notifier_url, token, pid, amqp_url, redis_url,
                     queue_type, processors, notifiers, role_log_level, log_dir, py_spy)
    spec = Close(windows=windows, rate=rate, min_window_s=min_window, max_window_s=max_window,
                 clients=clients, deflate=deflate, drain_timeout_s=drain_timeout, seed=seed)
    scenarios = _scenarios()
    _run(lambda: scenarios.close(target, spec), append)


@bench_app.command()
def ratelimit(
    amqp_url: AmqpUrl = DEFAULT_AMQP_URL, redis_url: RedisUrl = DEFAULT_REDIS_URL,
    requests: Annotated[int, typer.Option("--requests", help="POSTs per mode and round.")]
    = 3000,
    posters: Annotated[int, typer.Option("--posters", help="Concurrent posters.")] = 32,
    rounds: Annotated[int, typer.Option("--rounds", help="Rounds of off/local/shared.")] = 2,
    calls: Annotated[int, typer.Option("--calls", help="Limiter calls measured alone.")]
    = 5000,
    append: Append = "",
) -> None:
    """The shared per-source rate limit's cost per request (off vs local vs Redis)."""
    from alertflow.bench.ratelimit import ratelimit as measure

    _run(lambda: measure(amqp_url, redis_url, requests, posters, rounds, calls), append)


@bench_app.command()
def push(
    redis_url: RedisUrl = DEFAULT_REDIS_URL,
    subscribers: Annotated[int, typer.Option("--subscribers", help="Subscriptions, all "
                                             "matching the barrage.")] = 100_000,
    areas: Annotated[int, typer.Option("--areas", help="Areas the barrage opens.")] = 50,
    concurrency: Annotated[int, typer.Option("--concurrency",
                                             help="The push role's --push-concurrency.")] = 256,
    encrypt: Annotated[int, typer.Option("--encrypt", help="Payloads encrypted alone.")] = 5000,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for the "
                                           "barrage's last push.")] = 600.0,
    append: Append = "",
) -> None:
    """Web Push: pushes per CPU-second (encryption alone, and the push role's whole send path),
    and the time for a barrage to reach every subscriber of a local push service."""
    from alertflow.bench.push import push_bench

    _run(lambda: push_bench(redis_url, subscribers, areas, concurrency, encrypt, timeout),
         append)


@bench_app.command()
def replication(
    alerts: Annotated[int, typer.Option("--alerts", help="Alerts applied per round and mode.")]
    = 5000,
    concurrency: Annotated[int, typer.Option("--concurrency", help="Applies at once (prefetch).")]
    = 64,
    rounds: Annotated[int, typer.Option("--rounds", help="Rounds of min-replicas 0 and 1.")]
    = 3,
    append: Append = "",
) -> None:
    """What WAIT (--redis-min-replicas 1) costs the processor's Redis step, vs. 0."""
    from alertflow.bench.replication import replication as measure

    _run(lambda: measure(alerts, concurrency, rounds), append)


@bench_app.command()
def geo(
    messages: Annotated[int, typer.Option("--messages", help="CAP messages per polygon size.")]
    = 2000,
    points: Annotated[int, typer.Option("--points", help="Point lookups.")] = 20000,
    seed: Seed = 4, append: Append = "",
) -> None:
    """Shapes in one process: CAP parse+resolve per CPU-second, point lookups and circles."""
    from alertflow.bench.geo import run

    async def measure() -> dict[str, Any]:
        return run(messages, points, seed)

    _run(measure, append)


def main() -> None:
    bench_app(prog_name="alertflow bench")
