"""The listener: authenticates sources, validates alerts and enqueues them durably.

A 202 goes out only after the broker confirmed every alert of the request; anything else is a
4xx naming the problem (nothing enqueued) or a 503 the source should retry.
"""

from __future__ import annotations

import hmac
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from alertflow import metrics
from alertflow.backends.ports import AlertPublisher, BrokerUnavailable
from alertflow.domain.alert import (
    Alert,
    AlertRejected,
    IngestRules,
    alert_in_schema,
    parse_legacy,
    parse_v1,
)
from alertflow.domain.locations import Catalog
from alertflow.domain.ratelimit import TokenBucket
from alertflow.roles.http import error, health_routes

log = structlog.get_logger("alertflow.listener")

Parser = Callable[..., list[Alert]]


@dataclass(frozen=True, slots=True)
class ListenerConfig:
    tokens: Mapping[str, str] = field(default_factory=dict)  # name → secret
    insecure_no_auth: bool = False
    max_body_bytes: int = 1 << 20
    retry_after_s: int = 1
    rules: IngestRules = field(default_factory=IngestRules)
    # Requests per second per source and the burst allowed at once; None: unlimited.
    rate_limit: tuple[float, int] | None = None


class _TooLarge(Exception):
    pass


def _authenticate(request: Request, tokens: Mapping[str, str]) -> str | None:
    """The source's name for a valid bearer token; every secret compared in constant time."""
    header = request.headers.get("authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented:
        return None
    found = None
    for name, secret in tokens.items():
        if hmac.compare_digest(presented.strip().encode(), secret.encode()):
            found = name
    return found


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


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def create_listener_routes(
    publisher: AlertPublisher, catalog: Catalog, config: ListenerConfig
) -> list[Route]:
    """The ingest routes, so `alertflow dev` can mount them beside the notifier's."""
    # One bucket per source name: bounded by the configured tokens (or "anonymous").
    buckets: dict[str, TokenBucket] = {}

    def over_limit(source: str) -> Response | None:
        if config.rate_limit is None:
            return None
        bucket = buckets.get(source)
        if bucket is None:
            bucket = buckets[source] = TokenBucket(*config.rate_limit)
        wait = bucket.take(time.monotonic())
        if not wait:
            return None
        metrics.alerts_rejected.labels("rate_limited").inc()
        return error(429, "rate_limited", "$",
                     f"more than {config.rate_limit[0]:g} requests per second from this source",
                     headers={"Retry-After": str(max(1, math.ceil(wait)))})

    async def ingest(request: Request, parse: Parser) -> Response:
        if config.insecure_no_auth:
            source = "anonymous"
        else:
            found = _authenticate(request, config.tokens)
            if found is None:
                metrics.alerts_rejected.labels("unauthorized").inc()
                return error(401, "unauthorized", "Authorization",
                             "a valid source token is required (Authorization: Bearer …)",
                             headers={"WWW-Authenticate": 'Bearer realm="alertflow"'})
            source = found
        # Before reading the body: a flooding source costs as little as possible.
        limited = over_limit(source)
        if limited is not None:
            return limited
        if not _is_json(request.headers.get("content-type", "")):
            metrics.alerts_rejected.labels("unsupported_media_type").inc()
            return error(415, "unsupported_media_type", "Content-Type",
                         "send the alert as application/json")
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
            alerts = parse(body, source=source, now_ms=now_ms, catalog=catalog,
                           rules=config.rules)
        except AlertRejected as rejected:
            reason = "malformed" if rejected.status == 400 else "invalid"
            metrics.alerts_rejected.labels(reason).inc()
            log.info("alert rejected", source=source, status=rejected.status,
                     field=rejected.field, reason=rejected.reason)
            return error(rejected.status, "invalid_alert" if rejected.status == 422
                         else "malformed_request", rejected.field, rejected.reason)
        started = time.perf_counter()
        try:
            await publisher.publish(alerts)
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
        return JSONResponse(
            {"accepted": len(alerts), "ids": [alert.id for alert in alerts],
             "unknown_locations": sorted({n for a in alerts for n in a.unknown_locations})},
            status_code=202,
        )

    async def post_v1(request: Request) -> Response:
        return await ingest(request, parse_v1)

    async def post_legacy(request: Request) -> Response:
        return await ingest(request, parse_legacy)

    openapi = openapi_document()

    async def openapi_json(_request: Request) -> Response:
        return JSONResponse(openapi)

    return [
        Route("/v1/alerts", post_v1, methods=["POST"]),
        Route("/api/alerts", post_legacy, methods=["POST"]),
        Route("/api/alerts/", post_legacy, methods=["POST"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
    ]


def create_listener_app(
    publisher: AlertPublisher, catalog: Catalog, config: ListenerConfig
) -> Starlette:
    def readiness() -> dict[str, bool]:
        metrics.broker_connected.set(1 if publisher.ready else 0)
        return {"broker": publisher.ready}

    async def http_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error(exc.status_code, "http_error", "$", str(exc.detail),
                     headers=dict(exc.headers or {}))

    return Starlette(
        routes=create_listener_routes(publisher, catalog, config) + health_routes(readiness),
        exception_handlers={HTTPException: http_error},
    )


def openapi_document() -> dict[str, Any]:
    bodies, components = alert_in_schema()
    error_schema = {
        "type": "object",
        "required": ["error", "field", "reason", "status"],
        "properties": {
            "error": {"type": "string"}, "field": {"type": "string"},
            "reason": {"type": "string"}, "status": {"type": "integer"},
        },
    }
    components["Error"] = error_schema
    components["Accepted"] = {
        "type": "object",
        "required": ["accepted", "ids", "unknown_locations"],
        "properties": {
            "accepted": {"type": "integer", "minimum": 1},
            "ids": {"type": "array", "items": {"type": "string"}},
            "unknown_locations": {"type": "array", "items": {"type": "string"}},
        },
    }

    def json_body(schema: object) -> dict[str, Any]:
        return {"content": {"application/json": {"schema": schema}}}

    def answer(description: str, ref: str, retry_after: bool = False) -> dict[str, Any]:
        documented: dict[str, Any] = {"description": description,
                                      **json_body({"$ref": f"#/components/schemas/{ref}"})}
        if retry_after:
            documented["headers"] = {"Retry-After": {
                "description": "Seconds to wait before retrying.", "required": True,
                "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
        return documented

    answers = {
        "202": answer("Accepted: persisted by the broker; it will reach clients.", "Accepted"),
        "400": answer("Malformed body (not JSON, not UTF-8).", "Error"),
        "401": answer("Missing or invalid source token.", "Error"),
        "413": answer("Body over the size limit.", "Error"),
        "415": answer("Not application/json.", "Error"),
        "422": answer("Valid JSON that is not a valid alert; `field` names the problem.", "Error"),
        "429": answer("Too many requests from this source; retry after Retry-After.", "Error",
                      retry_after=True),
        "503": answer("The queue could not confirm in time; retry after Retry-After.", "Error",
                      retry_after=True),
    }
    security: list[dict[str, list[str]]] = [{"bearer": []}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "alertflow ingest", "version": "1"},
        "paths": {
            "/v1/alerts": {"post": {
                "summary": "Post one alert or a barrage (array) of alerts.",
                "security": security, "requestBody": {"required": True, **json_body(bodies["v1"])},
                "responses": answers,
            }},
            "/api/alerts": {"post": {
                "summary": "The seed's format: {location, type, timestamp, duration (minutes)}.",
                "security": security,
                "requestBody": {"required": True, **json_body(bodies["legacy"])},
                "responses": answers,
            }},
        },
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
