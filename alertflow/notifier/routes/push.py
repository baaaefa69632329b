"""The notifier's Web Push routes: the VAPID public key and subscriptions (alertflow.push).

`GET /v1/push/key`, `POST /v1/push/subscriptions` (create or update: same endpoint, same
subscription), `DELETE /v1/push/subscriptions`. Nothing here connects to an endpoint: it is
validated as text (alertflow.domain.push) and its host name is checked when a push is sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from alertflow.backends.redis_store import UNAVAILABLE
from alertflow.domain.locations import Catalog
from alertflow.domain.push import (
    PushRequestError,
    client_address,
    parse_endpoint_only,
    parse_push_subscription,
    redact,
    subscription_id,
)
from alertflow.push import metrics
from alertflow.push.store import PushStore
from alertflow.roles.http import error

log = structlog.get_logger("alertflow.push")
MAX_BODY_BYTES = 16 * 1024


@dataclass(frozen=True, slots=True)
class PushHttpConfig:
    public_key: str
    per_hour: int = 20
    test_origins: frozenset[str] = frozenset()
    trusted_proxy_hops: int = 0  # proxies appending to X-Forwarded-For in front of the notifier


async def _json_body(request: Request) -> object:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise PushRequestError("$", "send Content-Type: application/json")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise PushRequestError("$", f"body over {MAX_BODY_BYTES} bytes")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise PushRequestError("$", "body is not JSON") from None


def _refused(exc: PushRequestError) -> Response:
    status = 413 if "bytes" in exc.reason and exc.field == "$" else (
        415 if "Content-Type" in exc.reason else 422)
    return error(status, "invalid subscription", exc.field, exc.reason)


def push_routes(store: PushStore, catalog: Catalog, config: PushHttpConfig) -> list[Route]:
    async def get_key(_request: Request) -> Response:
        if not config.public_key:
            return error(404, "web push is not configured", "$", "no VAPID public key")
        return JSONResponse({"publicKey": config.public_key},
                            headers={"Cache-Control": "public, max-age=300"})

    async def post_subscription(request: Request) -> Response:
        if not config.public_key:
            return error(404, "web push is not configured", "$", "no VAPID public key")
        try:
            sub = parse_push_subscription(await _json_body(request), catalog,
                                          config.test_origins)
        except PushRequestError as exc:
            return _refused(exc)
        address = client_address(request.client.host if request.client else "unknown",
                                 request.headers.get("x-forwarded-for"),
                                 config.trusted_proxy_hops)
        try:
            if not await store.exists(sub.id):
                count, retry_after = await store.count_new(address)
                if count > config.per_hour:
                    return error(429, "too many subscriptions", "$",
                                 f"at most {config.per_hour} new subscriptions per address "
                                 "per hour", headers={"Retry-After": str(retry_after)})
            created = await store.save(sub)
        except UNAVAILABLE:
            return error(503, "store unavailable", "$", "try again",
                         headers={"Retry-After": "5"})
        metrics.subscriptions_saved.inc()
        log.info("push subscription saved", endpoint=redact(sub.endpoint), created=created,
                 locations=len(sub.locations), zones=len(sub.zones))
        return JSONResponse({"id": sub.id, "locations": sorted(sub.locations),
                             "zones": sorted(sub.zones), "lang": sub.lang},
                            status_code=201 if created else 200)

    async def delete_subscription(request: Request) -> Response:
        try:
            endpoint = parse_endpoint_only(await _json_body(request), config.test_origins)
        except PushRequestError as exc:
            return _refused(exc)
        try:
            deleted = await store.delete(subscription_id(endpoint))
        except UNAVAILABLE:
            return error(503, "store unavailable", "$", "try again",
                         headers={"Retry-After": "5"})
        if deleted:
            metrics.subscriptions_deleted.labels(reason="client").inc()
        return Response(status_code=204)

    return [
        Route("/v1/push/key", get_key, methods=["GET"]),
        Route("/v1/push/subscriptions", post_subscription, methods=["POST"]),
        Route("/v1/push/subscriptions", delete_subscription, methods=["DELETE"]),
    ]
