"""Prometheus metrics of every role (names and meanings: docs/protocol.md)."""

from __future__ import annotations

from collections.abc import Iterable

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

alerts_accepted = Counter(
    "alertflow_alerts_accepted_total", "Alerts answered 202 (confirmed by the broker).", ["source"]
)
alerts_rejected = Counter(
    "alertflow_alerts_rejected_total", "Requests refused, by reason.", ["reason"]
)
alerts_enqueued = Counter("alertflow_alerts_enqueued_total", "Alerts confirmed by the broker.")
unknown_locations = Counter(
    "alertflow_unknown_locations_total", "Location names not found in the catalog."
)
unknown_titles = Counter(
    "alertflow_unknown_titles_total",
    "National feed titles that no alias or rule knows (category from the feed's number, or "
    "general), per feed document or poll; the first 50 distinct titles each, cut to 80 "
    "characters, then 'other'.", ["title"],
)
broker_confirm_seconds = Histogram(
    "alertflow_broker_confirm_seconds", "Publish to confirm, per request.",
    buckets=_LATENCY_BUCKETS,
)
broker_connected = Gauge("alertflow_broker_connected", "1 while connected to RabbitMQ.")
redis_connected = Gauge("alertflow_redis_connected", "1 while Redis answers.")
# Labelled so that only listeners configured with a shared limit export it at all.
rate_limit_shared = Gauge(
    "alertflow_rate_limit_shared",
    "1 while the per-source rate limit is shared through Redis; 0 while this listener limits "
    "on its own (Redis unreachable).", ["backend"],
)
tokens_reloads = Counter(
    "alertflow_tokens_reloads_total", "Reads of the tokens file after a change, by outcome.",
    ["outcome"],
)

alerts_processed = Counter(
    "alertflow_alerts_processed_total", "Queue messages applied, by outcome.", ["outcome"]
)
dead_lettered = Counter(
    "alertflow_messages_dead_lettered_total", "Messages sent to the dead-letter queue.", ["reason"]
)
events_published = Counter(
    "alertflow_events_published_total", "Client-facing events published, by kind.", ["kind"]
)
not_replicated = Counter(
    "alertflow_not_replicated_total",
    "Alerts applied whose writes did not reach --redis-min-replicas in time (not acked, retried).",
)
sweep_failures = Counter(
    "alertflow_sweep_failures_total",
    "Sweeps (closing ended windows) that failed with an unexpected error and were retried.",
)
late_alerts = Counter(
    "alertflow_late_alerts_total",
    "Alerts processed after their window had ended, shown as an open and its close (late).",
)
alerts_not_opened = Counter(
    "alertflow_alerts_not_opened_total",
    "Accepted alerts that opened no live window, by reason: `superseded` (an all-clear of its "
    "hazard by its source, or a Cancel of its message, had ended it) or `late`; each is "
    "recorded all the same, as an open and its close in the stream (GET /v1/events).",
    ["reason"],
)
active_incidents = Gauge("alertflow_active_incidents", "Open incidents (alert windows).")
process_seconds = Histogram(
    "alertflow_process_seconds", "Applying one alert, Redis call included.",
    buckets=_LATENCY_BUCKETS,
)
queue_latency_seconds = Histogram(
    "alertflow_queue_latency_seconds", "Listener receipt to processed.", buckets=_LATENCY_BUCKETS
)

connected_clients = Gauge("alertflow_connected_clients", "Socket.IO clients connected.")
long_polling_clients = Gauge(
    "alertflow_long_polling_clients",
    "Engine.IO sessions on HTTP long-polling (not, or not yet, upgraded to a websocket).")
deliveries = Counter("alertflow_deliveries_total", "Events delivered, counted per recipient.")
end_to_end_latency_seconds = Histogram(
    "alertflow_end_to_end_latency_seconds",
    "Listener receipt until the notifier has handed the alert to every connected client.",
    buckets=_LATENCY_BUCKETS,
)
clients_dropped = Counter(
    "alertflow_clients_dropped_total",
    "Clients disconnected by the notifier: backlog (stopped reading) or flood.", ["reason"],
)
client_requests_refused = Counter(
    "alertflow_client_requests_refused_total", "Client events refused by the per-client limit."
)
event_loop_tasks = Gauge("alertflow_event_loop_tasks", "asyncio tasks alive (set at scrape).")
client_resyncs = Counter(
    "alertflow_resyncs_total",
    "Times the notifier resynced every client: the stream's epoch changed (a failover or a "
    "restart may have rolled history back) or it no longer reached back far enough.",
)
feed_gap_fills = Counter(
    "alertflow_feed_gap_fills_total", "Times the notifier refilled a gap from the stream."
)
feed_failures = Counter(
    "alertflow_feed_failures_total",
    "Unexpected errors in the notifier's event feed (it carries on from the stream; see the log).",
)


def exposition() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST


UNKNOWN_TITLE_LABELS = 50  # distinct titles, each its own label; any further one is "other"
UNKNOWN_TITLE_CHARS = 80
_title_labels: set[str] = set()
_log = structlog.get_logger("alertflow.titles")


def _title_label(title: str) -> str:
    label = title if len(title) <= UNKNOWN_TITLE_CHARS else title[:UNKNOWN_TITLE_CHARS - 1] + "…"
    if label in _title_labels:
        return label
    if len(_title_labels) >= UNKNOWN_TITLE_LABELS:
        return "other"
    _title_labels.add(label)
    return label


def count_unknown_titles(titles: Iterable[str], *, source: str, via: str) -> None:
    """Count and log feed titles no rule knows (`domain.hfc.unknown_titles`), so that operators
    see the feed's wording drift the day it does. The label set is bounded; the log line has the
    whole title."""
    for title in titles:
        label = _title_label(title)
        unknown_titles.labels(label).inc()
        _log.warning("unknown feed title", title=title, label=label, source=source, via=via)

follow_polls = Counter(
    "alertflow_follow_polls_total", "Polls of the followed feed, by result.", ["result"]
)
follow_errors = Counter(
    "alertflow_follow_errors_total", "Failed polls and refused feed entries, by reason.",
    ["reason"],
)
follow_lag_seconds = Gauge(
    "alertflow_follow_lag_seconds", "Seconds since the followed feed last answered a poll."
)
follow_alerts = Counter(
    "alertflow_follow_alerts_total", "Alerts the follower enqueued (confirmed by the broker)."
)
