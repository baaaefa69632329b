"""Prometheus metrics of the push role (names and meanings: docs/protocol.md)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

_LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

sent = Counter("alertflow_push_sent_total", "Pushes accepted by a push service (2xx).")
failed = Counter(
    "alertflow_push_failed_total",
    "Pushes that failed for good, by status (404/410 gone, other 4xx, gave up after retries).",
    ["status"],
)
retries = Counter("alertflow_push_retries_total", "Push attempts retried, by status.", ["status"])
subscriptions_deleted = Counter(
    "alertflow_push_subscriptions_deleted_total",
    "Subscriptions deleted, by reason (gone: 404/410 from the push service; client: DELETE).",
    ["reason"],
)
subscriptions_saved = Counter(
    "alertflow_push_subscriptions_saved_total", "Subscriptions created or updated."
)
lag_seconds = Histogram(
    "alertflow_push_lag_seconds", "Listener receipt of the alert to the push service's 2xx.",
    buckets=_LAG_BUCKETS,
)
events_handled = Counter(
    "alertflow_push_events_total", "Stream events read by the push role, by what they were worth.",
    ["notice"],
)
stream_lag = Gauge(
    "alertflow_push_stream_lag", "Events in the stream not yet delivered to the push group."
)
pending = Gauge("alertflow_push_pending", "Events read by the push group and not yet acknowledged.")
