"""Every setting of every role, in one place: defaults, CLI options and `ALERTFLOW_*` variables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

import typer

from alertflow.backends.rabbitmq import QueueSpec
from alertflow.domain.alert import IngestRules

_ENV = "ALERTFLOW_"


def _opt(name: str, help_text: str) -> Any:
    return typer.Option(
        f"--{name}", envvar=_ENV + name.upper().replace("-", "_"), help=help_text,
        show_envvar=True,
    )


AmqpUrl = Annotated[str, _opt("amqp-url", "RabbitMQ URL.")]
RedisUrl = Annotated[
    str, _opt("redis-url", "Redis URL: redis://, rediss:// or redis+sentinel://h1:p1,h2:p2/SERVICE/DB.")
]
Queue = Annotated[str, _opt("queue", "Work queue name (its dead-letter queue is NAME.dead).")]
QueueType = Annotated[str, _opt("queue-type", "quorum (replicated, delivery limit) or classic.")]
DeliveryLimit = Annotated[
    int, _opt("delivery-limit", "Deliveries of a failing message before it is dead-lettered.")
]
Prefetch = Annotated[int, _opt("prefetch", "Unacked messages a processor holds at once.")]
KeyPrefix = Annotated[str, _opt("key-prefix", "Prefix (hash tag) of every Redis key and channel.")]
Locations = Annotated[str, _opt("locations", "Location catalog: 'bundled', a JSON file or 'none'.")]
StrictLocations = Annotated[
    bool, _opt("strict-locations", "Reject alerts naming locations outside the catalog (422).")
]
LogLevel = Annotated[str, _opt("log-level", "debug, info, warning or error.")]
LogFormat = Annotated[str, _opt("log-format", "json or console.")]
Host = Annotated[str, _opt("host", "Address to listen on.")]
Port = Annotated[int, _opt("port", "Port to listen on.")]
HttpPort = Annotated[int, _opt("http-port", "Port of the processor's /healthz, /readyz, /metrics.")]
Tokens = Annotated[
    list[str] | None,
    typer.Option("--token", help="Source token NAME:SECRET (repeatable).", show_default=False),
]
TokensEnv = Annotated[
    str, _opt("tokens", "Source tokens as name1:secret1,name2:secret2.")
]
TokensFile = Annotated[
    str, _opt("tokens-file", "File of NAME:SECRET lines (e.g. a mounted Secret), re-read when it "
              "changes: rotation without restart.")
]
ListenerRedisUrl = Annotated[
    str, _opt("redis-url", "Redis shared by all listeners for one --rate-limit budget per "
              "source; without it each listener limits on its own.")
]
AllowedOrigins = Annotated[
    str, _opt("allowed-origins", "Browser origins besides the dashboard's own allowed to use "
              "Socket.IO and the HTTP API, comma-separated (https://app.example.org); * is any.")
]
InsecureNoAuth = Annotated[
    bool, _opt("insecure-no-auth", "Accept alerts without a token (never in production).")
]
MaxBodyBytes = Annotated[int, _opt("max-body-bytes", "Largest request body accepted (413 above).")]
MaxAlerts = Annotated[int, _opt("max-alerts", "Most alerts in one request.")]
MaxAge = Annotated[int, _opt("max-age-s", "Oldest issued_at accepted, in seconds before now.")]
MaxAhead = Annotated[int, _opt("max-ahead-s", "Furthest issued_at accepted, in seconds after now.")]
ConfirmTimeout = Annotated[
    float, _opt("confirm-timeout-s", "Seconds to wait for the broker's confirm before a 503.")
]
DedupTtl = Annotated[int, _opt("dedup-ttl-s", "How long an alert id is remembered for dedup.")]
StreamMaxlen = Annotated[int, _opt("stream-maxlen", "Events the replay stream keeps (about).")]
SweepInterval = Annotated[
    int, _opt("sweep-interval-ms", "How often a processor closes ended windows.")
]
RateLimit = Annotated[
    str, _opt("rate-limit", "Requests per second per source, RATE or RATE:BURST (429 above); "
              "0 is unlimited.")
]
MaxClientBacklog = Annotated[
    int, _opt("max-client-backlog",
              "Packets queued for one client before the notifier drops it (it stopped reading).")
]
ClientSendTimeout = Annotated[
    float, _opt("client-send-timeout-s",
                "Seconds sent data may stay unacknowledged before the connection is aborted.")
]
PingInterval = Annotated[
    float, _opt("ping-interval-s",
                "Seconds between pings to each client; one unanswered for as long is gone.")
]
GracefulTimeout = Annotated[
    float, _opt("graceful-timeout-s", "Seconds to finish in-flight work after SIGTERM.")
]


@dataclass(frozen=True, slots=True)
class Settings:
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    redis_url: str = "redis://127.0.0.1:6379/0"
    queue: str = "alertflow.alerts"
    queue_type: str = "quorum"
    delivery_limit: int = 5
    prefetch: int = 64
    key_prefix: str = "alertflow"
    locations: str = "bundled"
    strict_locations: bool = False
    host: str = "127.0.0.1"
    port: int = 8080
    http_port: int = 8081
    tokens: dict[str, str] = field(default_factory=dict)
    # NAME:SECRET lines, re-read when the file changes (a mounted Kubernetes Secret); "": none.
    tokens_file: str = ""
    # Browser origins other than the dashboard's own allowed to use the notifier ("*": any).
    allowed_origins: str = ""
    insecure_no_auth: bool = False
    max_body_bytes: int = 1 << 20
    max_alerts: int = 1000
    max_age_s: int = 86_400
    max_ahead_s: int = 300
    confirm_timeout_s: float = 5.0
    dedup_ttl_s: int = 86_400
    stream_maxlen: int = 100_000
    sweep_interval_ms: int = 100
    graceful_timeout_s: float = 10.0
    rate_limit: tuple[float, int] | None = None  # (per second, burst) per source; None: off
    max_client_backlog: int = 256
    client_send_timeout_s: float = 30.0
    ping_interval_s: float = 20.0

    def queue_spec(self) -> QueueSpec:
        return QueueSpec(self.queue, self.queue_type, self.delivery_limit)

    def ingest_rules(self) -> IngestRules:
        return IngestRules(max_alerts=self.max_alerts, max_age_s=self.max_age_s,
                           max_ahead_s=self.max_ahead_s, strict_locations=self.strict_locations)


DEFAULTS = Settings()


def parse_tokens(repeated: list[str] | None, joined: str) -> dict[str, str]:
    """NAME:SECRET pairs from `--token` and `ALERTFLOW_TOKENS`; raises ValueError when malformed."""
    tokens: dict[str, str] = {}
    items = list(repeated or []) + [item for item in joined.split(",") if item.strip()]
    for number, item in enumerate(items, 1):
        name, sep, secret = item.strip().partition(":")
        if not sep or not name or not secret:
            # Never echo the value: without its NAME: part, it is likely the secret itself.
            raise ValueError(f"token #{number} must look like NAME:SECRET")
        if len(secret) < 16:
            raise ValueError(f"token {name!r}: the secret must be at least 16 characters")
        tokens[name] = secret
    return tokens
