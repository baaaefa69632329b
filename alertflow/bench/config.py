"""What a benchmark run is given: where the system is (or how to start it) and the load."""

from __future__ import annotations

from dataclasses import dataclass, field

from alertflow.settings import DEFAULT_SETTINGS

# The roles' own defaults: `--start` runs them on the local RabbitMQ and Redis.
DEFAULT_AMQP_URL = DEFAULT_SETTINGS.amqp_url
DEFAULT_REDIS_URL = DEFAULT_SETTINGS.redis_url


@dataclass(frozen=True, slots=True)
class Target:
    """A running deployment (URLs and a source token), or roles to start (`start`)."""

    start: bool = False
    listener_url: str = ""
    notifier_urls: tuple[str, ...] = ()
    token: str = ""
    pids: dict[str, int] = field(default_factory=dict)  # NAME → pid, for CPU and memory
    amqp_url: str = DEFAULT_AMQP_URL
    redis_url: str = DEFAULT_REDIS_URL
    queue_type: str = "quorum"
    processors: int = 1
    notifiers: int = 1
    role_log_level: str = "info"
    log_dir: str = ""
    py_spy_dir: str = ""  # record py-spy profiles of the roles during the load here


@dataclass(frozen=True, slots=True)
class Load:
    """The traffic of a delivery scenario (latency, fanout, burst, close)."""

    clients: int = 1
    rate: float = 20.0  # alerts per second, one alert per request
    duration_s: float = 15.0
    window_s: int = 60  # each alert's duration_s
    alert_type: str = "bench"
    deflate: bool = True  # offer permessage-deflate, as browsers and socket.io-client do
    connect_timeout_s: float = 120.0
    connect_concurrency: int = 50  # handshakes in flight (each until its snapshot arrives)
    drain_timeout_s: float = 30.0
    settle_s: float = 1.0  # idle time before measuring the notifier's memory
    seed: int = 4
    # Clients of Node's socket.io-client beside the websocket swarm (bench/node.py):
    node_clients: int = 0  # default options: long-polling, then the upgrade
    polling_clients: int = 0  # long-polling only
    polling_keepalive: bool = False  # their HTTP connections kept alive, as browsers do
    node_apart: bool = False  # Node's clients on the last notifier, the swarm on the others
    node_modules: str = "tests/js/node_modules"  # where socket.io-client is installed
    # Each alert names the whole country (ברחבי הארץ): one window, one event, per area.
    nationwide: bool = False


@dataclass(frozen=True, slots=True)
class Ingest:
    posters: int = 32
    duration_s: float = 10.0
    barrage: int = 100
    modes: tuple[str, ...] = ("single", "barrage")
    window_s: int = 3600  # long: a queued alert must not expire before it is processed
    alert_type: str = "bench"
    drain_timeout_s: float = 300.0
    seed: int = 4


@dataclass(frozen=True, slots=True)
class Close:
    windows: int = 200
    rate: float = 20.0
    min_window_s: int = 1
    max_window_s: int = 3
    clients: int = 1
    alert_type: str = "bench"
    deflate: bool = True
    drain_timeout_s: float = 30.0
    seed: int = 4
