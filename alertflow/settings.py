"""Every setting of every role, declared once: name, type, default, help, roles.

Each field of `Settings` is one setting. From these declarations come the command-line options
of each role (alertflow/cli.py), their `ALERTFLOW_*` environment variables, the role configs
(alertflow/roles/run.py builds them from a `Settings`), the defaults of the adapters and
README's settings table (`python -m alertflow.settings` prints it; a test compares them).

To add a setting, add one field here with `setting(...)`: its option appears in the `--help` of
the roles named, its value reaches the role as `settings.NAME`, and README's table needs the new
row (`python -m alertflow.settings`). To add a role, add its name to `ROLES` and declare a
command with `role_command` in alertflow/cli.py.

This module imports no CLI or I/O library: adapters take their defaults from `DEFAULT_SETTINGS`.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from alertflow.domain.alert import IngestRules
from alertflow.domain.origins import AllowedOrigins
from alertflow.domain.ratelimit import parse_rate_limit

ENV_PREFIX = "ALERTFLOW_"
# Every role's command, in the order README lists them.
ROLES: tuple[str, ...] = ("listen", "process", "notify", "dev", "push", "follow")

# Text given on the command line (and the values of the repeatable form) → the setting's value;
# raises ValueError with a message for the user.
Parse = Callable[[str, Sequence[str]], Any]


@dataclass(frozen=True, slots=True)
class Option:
    """How one setting appears outside the code."""

    help: str
    roles: tuple[str, ...]
    # Roles whose default differs (notify's port). None: the role works without it unless given.
    role_defaults: Mapping[str, Any] = field(default_factory=dict)
    role_help: Mapping[str, str] = field(default_factory=dict)  # roles where it means more
    # Settings given as text and parsed (rate limits, tokens): the default is that text.
    parse: Parse | None = None
    text_default: str | None = None
    # Also a repeatable option without environment variable (`--token` beside `--tokens`).
    repeatable: str | None = None
    repeatable_help: str = ""
    readme_name: str | None = None  # how README's table names it, when more than `--NAME`
    # The option itself may be given several times; the values are joined with "," for `parse`.
    multiple: bool = False
    # A positional argument (`alertflow follow URL`) instead of an option; still an env var.
    argument: bool = False

    def default_for(self, role: str, declared: Any) -> Any:
        if role in self.role_defaults:
            return self.role_defaults[role]
        return self.text_default if self.parse else declared


def setting(
    default: Any, help: str, roles: Sequence[str], *, parse: Parse | None = None, **more: Any
) -> Any:
    """One declared setting (a dataclass field). With `parse`, `default` is the text form."""
    option = Option(help=help, roles=tuple(roles), parse=parse,
                    text_default=default if parse else None, **more)
    value = parse(default, ()) if parse else default
    if isinstance(value, dict):
        frozen = dict(value)
        return field(default_factory=lambda: dict(frozen), metadata={"option": option})
    return field(default=value, metadata={"option": option})


def _broker_urls(text: str, _: Sequence[str]) -> str:
    """Several brokers (one cluster's nodes), comma-separated or the option repeated."""
    urls = [url.strip() for url in text.split(",") if url.strip()]
    if not urls:
        raise ValueError("give at least one amqp:// URL")
    for url in urls:
        if not url.startswith(("amqp://", "amqps://")):
            raise ValueError(f"not an amqp:// or amqps:// URL: {url.rsplit('@', 1)[-1]!r}")
    return ",".join(urls)


def _rate_limit(text: str, _: Sequence[str]) -> tuple[float, int] | None:
    return parse_rate_limit(text)


def _allowed_origins(text: str, _: Sequence[str]) -> AllowedOrigins:
    return AllowedOrigins.parse(text)


def parse_tokens(repeated: Sequence[str] | None, joined: str) -> dict[str, str]:
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


def _tokens(text: str, repeated: Sequence[str]) -> dict[str, str]:
    return parse_tokens(repeated, text)


def _origins(text: str, repeated: Sequence[str]) -> tuple[str, ...]:
    items = [*repeated, *(item.strip() for item in text.split(",") if item.strip())]
    for item in items:
        if not item.startswith("http://127.0.0.1:"):
            raise ValueError(f"{item!r}: only a local push service (http://127.0.0.1:PORT)")
    return tuple(items)


LISTEN, PROCESS, NOTIFY, DEV, PUSH, FOLLOW = ROLES
ALL = ROLES
BROKER = (LISTEN, PROCESS, DEV, FOLLOW)


@dataclass(frozen=True, slots=True)
class Settings:
    amqp_url: str = setting(
        "amqp://guest:guest@127.0.0.1:5672/%2F",
        "RabbitMQ URL; the nodes of one cluster repeated or comma-separated: roles use the "
        "first that answers and move to another when it dies.", BROKER,
        parse=_broker_urls, multiple=True, role_defaults={DEV: None},
        role_help={DEV: "Use this RabbitMQ instead of the in-memory queue."})
    redis_url: str = setting(
        "redis://127.0.0.1:6379/0",
        "Redis URL: redis://, rediss:// or redis+sentinel://h1:p1,h2:p2/SERVICE/DB.",
        (LISTEN, PROCESS, NOTIFY, DEV, PUSH), role_defaults={DEV: None, LISTEN: ""},
        role_help={DEV: "Use this Redis instead of the in-memory state.",
                   LISTEN: "Redis shared by all listeners for one --rate-limit budget per "
                   "source; without it each listener limits on its own."})
    demo: bool = setting(False, "Feed realistic barrages over real areas.", (DEV,))
    queue: str = setting(
        "alertflow.alerts", "Work queue name (its dead-letter queue is NAME.dead).", BROKER)
    queue_type: str = setting(
        "quorum", "quorum (replicated, delivery limit) or classic.", (LISTEN, PROCESS, FOLLOW))
    delivery_limit: int = setting(
        5, "Deliveries of a failing message before it is dead-lettered.",
        (LISTEN, PROCESS, FOLLOW))
    prefetch: int = setting(64, "Unacked messages a processor holds at once.", (PROCESS,))
    key_prefix: str = setting(
        "alertflow", "Prefix (hash tag) of every Redis key and channel.",
        (LISTEN, PROCESS, NOTIFY, DEV, PUSH))
    locations: str = setting(
        "bundled", "Location catalog: 'bundled', a JSON file or 'none'.", ALL)
    strict_locations: bool = setting(
        False, "Reject alerts naming locations outside the catalog (422).", (LISTEN, DEV))
    host: str = setting("127.0.0.1", "Address to listen on.", ALL)
    port: int = setting(8080, "Port to listen on.", (LISTEN, NOTIFY, DEV),
                        role_defaults={NOTIFY: 8000, DEV: 8000})
    http_port: int = setting(
        8081, "Port of /healthz, /readyz, /metrics (roles without a public port).",
        (PROCESS, PUSH, FOLLOW), role_defaults={PUSH: 8082, FOLLOW: 8083})
    tokens: dict[str, str] = setting(
        "", "Source tokens as name1:secret1,name2:secret2.", (LISTEN, DEV), parse=_tokens,
        repeatable="token", repeatable_help="Source token NAME:SECRET (repeatable).",
        readme_name="`--token NAME:SECRET` / `--tokens`")
    tokens_file: str = setting(
        "", "File of NAME:SECRET lines (e.g. a mounted Secret), re-read when it changes: "
        "rotation without restart.", (LISTEN,))
    allowed_origins: AllowedOrigins = setting(
        "", "Browser origins besides the dashboard's own allowed to use Socket.IO and the HTTP "
        "API, comma-separated (https://app.example.org); * is any.", (NOTIFY, DEV),
        parse=_allowed_origins, role_defaults={DEV: "*"})
    insecure_no_auth: bool = setting(
        False, "Accept alerts without a token (never in production).", (LISTEN,))
    max_body_bytes: int = setting(
        1 << 20, "Largest request body accepted (413 above).", (LISTEN,))
    max_alerts: int = setting(1000, "Most alerts in one request.", (LISTEN,))
    max_age_s: int = setting(
        86_400, "Oldest issued_at accepted, in seconds before now.", (LISTEN, FOLLOW))
    max_ahead_s: int = setting(
        300, "Furthest issued_at accepted, in seconds after now.", (LISTEN, FOLLOW))
    confirm_timeout_s: float = setting(
        5.0, "Seconds to wait for the broker's confirm before a 503.", (LISTEN, FOLLOW))
    rate_limit: tuple[float, int] | None = setting(
        "0", "Requests per second per source, RATE or RATE:BURST (429 above); 0 is unlimited.",
        (LISTEN,), parse=_rate_limit)
    redis_min_replicas: int | None = setting(
        None, "Replicas an alert's Redis writes must reach (WAIT) before its message is acked; "
        "unset: 1 with redis+sentinel://, else 0.", (PROCESS, DEV))
    redis_replication_timeout_ms: int = setting(
        1000, "How long to wait for --redis-min-replicas; a message that missed it is not "
        "acked (it is retried).", (PROCESS, DEV))
    dedup_ttl_s: int = setting(
        86_400, "How long an alert id is remembered for dedup.", (PROCESS,))
    stream_maxlen: int = setting(
        100_000, "Events the replay stream keeps (about).", (PROCESS,))
    sweep_interval_ms: int = setting(
        100, "How often a processor closes ended windows.", (PROCESS, DEV))
    max_client_backlog: int = setting(
        256, "Packets queued for one client before the notifier drops it (it stopped reading).",
        (NOTIFY,))
    client_send_timeout_s: float = setting(
        30.0, "Seconds sent data may stay unacknowledged before the connection is aborted.",
        (NOTIFY,))
    ping_interval_s: float = setting(
        20.0, "Seconds between pings to each client; one unanswered for as long is gone.",
        (NOTIFY,))
    poll_hold_ms: int = setting(
        200, "Milliseconds a long-polling client's answer may wait, once alerts are queued for "
        "it, for more to join it (fewer requests per client; each hold is a random 50–100 % "
        "of this, so polling clients' answers do not all go out at once); 0: answer at once. "
        "Never websocket clients.", (NOTIFY,))
    vapid_key_file: str = setting(
        "/etc/alertflow/vapid/vapid-private.pem",
        "VAPID private key, PEM (a mounted Secret; `alertflow push keygen` makes one).", (PUSH,))
    vapid_subject: str = setting(
        "mailto:alerts@example.invalid",
        "Contact for the push services (RFC 8292 `sub`): mailto:… or https://….", (PUSH,))
    vapid_public_key: str = setting(
        "", "VAPID public key served at /v1/push/key; empty: Web Push is off.", (NOTIFY,))
    push_subscriptions_per_hour: int = setting(
        20, "New Web Push subscriptions per client address per hour (429 above).", (NOTIFY,))
    push_trusted_proxy_hops: int = setting(
        0, "Proxies in front of the notifier that append the client's address to "
        "X-Forwarded-For (ingress-nginx: 1); the per-address subscription limit counts that "
        "address. 0: the connection's peer.", (NOTIFY,))
    push_test_origins: tuple[str, ...] = setting(
        "", "TESTS ONLY: local push service origins (http://127.0.0.1:PORT) admitted although "
        "the endpoint rules refuse loopback, comma-separated.", (NOTIFY, PUSH),
        parse=_origins, repeatable="push_test_origin",
        repeatable_help="TESTS ONLY: admit this local push service origin (repeatable).",
        readme_name="`--push-test-origin` / `--push-test-origins`")
    push_concurrency: int = setting(256, "Pushes in flight at once.", (PUSH,))
    push_per_service: int = setting(128, "Connections to one push service.", (PUSH,))
    push_group: str = setting("push", "Redis consumer group of the push role.", (PUSH,))
    push_batch: int = setting(500, "Stream events read at once.", (PUSH,))
    push_coalesce_ms: int = setting(
        150, "After a first event, wait this long for the rest of a barrage (one notification "
        "per phone).", (PUSH,))
    push_reclaim_idle_s: float = setting(
        30.0, "Events another push replica left unacknowledged and silent this long are taken "
        "over (it crashed).", (PUSH,))
    push_max_retry_s: float = setting(
        120.0, "Retry a push answered 429/5xx at most this long (and never past its window).",
        (PUSH,))
    push_timeout_s: float = setting(10.0, "Timeout of one push request.", (PUSH,))
    graceful_timeout_s: float = setting(
        10.0, "Seconds to finish in-flight work after SIGTERM.",
        (LISTEN, PROCESS, NOTIFY, PUSH, FOLLOW))
    follow_url: str = setting(
        "", "The feed to poll (ALERTFLOW_FOLLOW_URL): the national feed's Alerts.json or "
        "history shape.", (FOLLOW,),
        argument=True, readme_name="`URL`")
    interval_s: float = setting(
        1.0, "Seconds between polls; failures back off up to 30 s.", (FOLLOW,))
    source: str = setting("hfc", "Source name the followed alerts carry.", (FOLLOW,))
    log_level: str = setting("info", "debug, info, warning or error.", ALL)
    log_format: str = setting("json", "json or console.", ALL, role_defaults={DEV: "console"})

    def min_replicas(self) -> int:
        """Replicas an alert's writes must reach before its message is acked."""
        if self.redis_min_replicas is not None:
            return self.redis_min_replicas
        return 1 if self.redis_url.startswith("redis+sentinel://") else 0

    def ingest_rules(self) -> IngestRules:
        return IngestRules(max_alerts=self.max_alerts, max_age_s=self.max_age_s,
                           max_ahead_s=self.max_ahead_s, strict_locations=self.strict_locations)


DEFAULT_SETTINGS = Settings()


@dataclass(frozen=True, slots=True)
class Declared:
    """One setting: its field's name, type and default, and its `Option`."""

    name: str  # the field's name; the option is `--` + name with `-` for `_`
    type: Any
    default: Any
    option: Option

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()


def declared() -> list[Declared]:
    """Every declared setting, in declaration order."""
    hints = typing.get_type_hints(Settings)
    return [
        Declared(f.name, hints[f.name], getattr(DEFAULT_SETTINGS, f.name), f.metadata["option"])
        for f in dataclasses.fields(Settings)
    ]


def for_role(role: str) -> list[Declared]:
    return [d for d in declared() if role in d.option.roles]


def _shown(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"`{value}`" if value != "" else "—"


def _readme_default(item: Declared) -> str:
    """The default, per group of roles when they differ: "`8080` (listen), `8000` (notify, dev)"."""
    groups: dict[str, list[str]] = {}
    for role in item.option.roles:
        groups.setdefault(_shown(item.option.default_for(role, item.default)), []).append(role)
    if len(groups) == 1:
        return next(iter(groups))
    return ", ".join(f"{shown} ({', '.join(roles)})" for shown, roles in groups.items())


def readme_table() -> str:
    """README's settings table, in Markdown."""
    rows = ["| option | default | roles | meaning |", "|---|---|---|---|"]
    for item in declared():
        option = item.option
        if not option.roles:
            continue
        name = option.readme_name or f"`{item.flag}`"
        roles = "all" if option.roles == ROLES else ", ".join(option.roles)
        meaning = option.help + "".join(
            f" {role}: {text}" for role, text in option.role_help.items())
        rows.append(f"| {name} | {_readme_default(item)} | {roles} | {meaning} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(readme_table(), end="")
