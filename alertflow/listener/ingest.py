"""The steps every ingest format shares: authenticate, limit, read, parse, enqueue, answer.

A 202 goes out only after the broker confirmed every alert of the request; anything else is a
4xx naming the problem (nothing enqueued) or a 503 the source should retry. A format module
supplies only its parser (body → alerts, or `AlertRejected`) and the media types it accepts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import structlog
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from alertflow import metrics
from alertflow.backends.ports import AlertPublisher, BrokerUnavailable
from alertflow.backends.ratelimit import LocalRateLimiter
from alertflow.domain.alert import Alert, AlertRejected, IngestRules, check_queue_message
from alertflow.domain.locations import Catalog
from alertflow.listener.access import Access, audit, request_id
from alertflow.listener.tokens import TokenRegistry
from alertflow.roles.http import error
from alertflow.settings import DEFAULT_SETTINGS

log = structlog.get_logger("alertflow.listener")

# body, source name, the listener's clock (ms), catalog, rules → normalized alerts.
Parser = Callable[..., list[Alert]]


@dataclass(frozen=True, slots=True)
class ListenerConfig:
    tokens: Mapping[str, str] = field(default_factory=dict)  # name → secret
    insecure_no_auth: bool = False
    max_body_bytes: int = DEFAULT_SETTINGS.max_body_bytes
    retry_after_s: int = 1
    rules: IngestRules = field(default_factory=DEFAULT_SETTINGS.ingest_rules)
    # Requests per second per source and the burst allowed at once; None: unlimited.
    rate_limit: tuple[float, int] | None = None


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def accepted_answer(alerts: list[Alert]) -> dict[str, object]:
    """The 202 body: the ids, how each name the source wrote resolved, and what did not."""
    resolved: dict[str, list[str]] = {}
    for alert in alerts:
        unknown = set(alert.unknown_locations)
        for location in alert.locations:
            if location in unknown:
                continue
            areas = resolved.setdefault(alert.source_names.get(location, location), [])
            if location not in areas:
                areas.append(location)
    return {
        "accepted": len(alerts), "ids": [alert.id for alert in alerts],
        "resolved": resolved,
        "unknown_locations": sorted({n for a in alerts for n in a.unknown_locations}),
        "ambiguous_locations": sorted({n for a in alerts for n in a.ambiguous_locations}),
    }


class Ingest:
    """One listener's shared pipeline; each format's route calls `handle` with its parser."""

    def __init__(self, publisher: AlertPublisher, catalog: Catalog,
                 config: ListenerConfig, access: Access | None = None) -> None:
        self.publisher = publisher
        self.catalog = catalog
        self.config = config
        if access is None:  # fixed tokens, a bucket per source in this process
            limit = config.rate_limit
            access = Access(TokenRegistry(dict(config.tokens)),
                            LocalRateLimiter(*limit) if limit else None,
                            config.insecure_no_auth, limit[0] if limit else 0.0)
        self.access = access

    async def handle(self, request: Request, parse: Parser,
                     media_ok: Callable[[str], bool] = is_json,
                     media_hint: str = "application/json") -> Response:
        config = self.config
        source = self.access.source_of(request)
        if source is None:
            metrics.alerts_rejected.labels("unauthorized").inc()
            return error(401, "unauthorized", "Authorization",
                         "a valid source token is required (Authorization: Bearer …)",
                         headers={"WWW-Authenticate": 'Bearer realm="alertflow"'})
        # Before reading the body: a flooding source costs as little as possible.
        limited = await self.access.over_limit(source)
        if limited is not None:
            return limited
        if not media_ok(request.headers.get("content-type", "")):
            metrics.alerts_rejected.labels("unsupported_media_type").inc()
            return error(415, "unsupported_media_type", "Content-Type",
                         f"send the alert as {media_hint}")
        try:
            body = await _read_body(request, config.max_body_bytes)
        except _TooLarge:
            metrics.alerts_rejected.labels("too_large").inc()
            return error(413, "too_large", "$",
                         f"body exceeds the limit of {config.max_body_bytes} bytes")
        except ClientDisconnect:
            return Response(status_code=400)
        now_ms = int(time.time() * 1000)
        try:
            alerts = parse(body, source=source, now_ms=now_ms, catalog=self.catalog,
                           rules=config.rules)
            for index, alert in enumerate(alerts):
                check_queue_message(alert, f"$[{index}]" if len(alerts) > 1 else "$")
        except AlertRejected as rejected:
            reason = "malformed" if rejected.status == 400 else "invalid"
            metrics.alerts_rejected.labels(reason).inc()
            log.info("alert rejected", source=source, status=rejected.status,
                     field=rejected.field, reason=rejected.reason)
            return error(rejected.status, "invalid_alert" if rejected.status == 422
                         else "malformed_request", rejected.field, rejected.reason)
        started = time.perf_counter()
        try:
            await self.publisher.publish(alerts)
        except BrokerUnavailable as exc:
            metrics.alerts_rejected.labels("unavailable").inc()
            log.warning("broker unavailable; answering 503", source=source, error=str(exc),
                        alerts=len(alerts))
            return error(503, "unavailable", "$", "the queue could not confirm; retry",
                         headers={"Retry-After": str(config.retry_after_s)})
        metrics.broker_confirm_seconds.observe(time.perf_counter() - started)
        metrics.alerts_enqueued.inc(len(alerts))
        metrics.alerts_accepted.labels(source).inc(len(alerts))
        unknown = sum(len(alert.unknown_locations) for alert in alerts)
        if unknown:
            metrics.unknown_locations.inc(unknown)
        rid = request_id(request)
        audit(request, source, rid, alerts)
        return JSONResponse(accepted_answer(alerts), status_code=202,
                            headers={"X-Request-Id": rid})
