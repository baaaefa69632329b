"""Who may post, how often, and the audit line of what they posted: shared by every format.

- Authentication: a bearer token looked up in the tokens in force (re-read from the tokens
  file when it changes, see `tokens`); the request keeps the source it was authenticated as,
  so a rotation never fails a request already in flight.
- Rate limit: one budget per source, shared by every listener through Redis when configured
  (`alertflow.backends.ratelimit`).
- Audit: every accepted request is logged once with the source, a request id, the alert ids,
  their count and the client's address — never the token.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass

import structlog
from starlette.requests import Request
from starlette.responses import Response

from alertflow import metrics
from alertflow.backends.ports import RateLimiter
from alertflow.domain.alert import Alert
from alertflow.listener.tokens import TokenRegistry
from alertflow.roles.http import error

audit_log = structlog.get_logger("alertflow.audit")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


@dataclass(slots=True)
class Access:
    tokens: TokenRegistry
    limiter: RateLimiter | None = None
    insecure_no_auth: bool = False
    rate: float = 0.0  # for the 429's explanation

    def source_of(self, request: Request) -> str | None:
        if self.insecure_no_auth:
            return "anonymous"
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not presented:
            return None
        return self.tokens.source_of(presented.strip())

    async def over_limit(self, source: str) -> Response | None:
        if self.limiter is None:
            return None
        wait = await self.limiter.take(source)
        if not wait:
            return None
        metrics.alerts_rejected.labels("rate_limited").inc()
        return error(429, "rate_limited", "$",
                     f"more than {self.rate:g} requests per second from this source",
                     headers={"Retry-After": str(max(1, math.ceil(wait)))})


def request_id(request: Request) -> str:
    """The caller's X-Request-Id when it is a plain token, else a new one."""
    given = request.headers.get("x-request-id", "")
    return given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def audit(request: Request, source: str, rid: str, alerts: list[Alert]) -> None:
    """One line per accepted request: enough to answer "who sent this alert"."""
    client = request.client
    forwarded = request.headers.get("x-forwarded-for")
    audit_log.info("alerts accepted", source=source, request_id=rid,
                   alert_ids=[alert.id for alert in alerts], count=len(alerts),
                   client=client.host if client else None,
                   # As given by the proxy in front (not trusted, recorded for the operator).
                   forwarded_for=forwarded[:256] if forwarded else None)
