"""`POST /v1/feeds/hfc`: the national feed's `Alerts.json` or history shape, as it serves them.

Same authentication, limits and answers as `/v1/alerts`; an empty body (nothing active) is
accepted with no alerts. The parsing is `alertflow.domain.hfc`; `alertflow follow` reads the
same shapes from a URL. Titles no rule knows are counted and logged
(`metrics.count_unknown_titles`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alertflow import metrics
from alertflow.domain import hfc
from alertflow.domain.alert import Alert, IngestRules
from alertflow.domain.incoming import to_alerts
from alertflow.domain.locations import Catalog
from alertflow.listener.ingest import Ingest


def parse(body: bytes, *, source: str, now_ms: int, catalog: Catalog,
          rules: IngestRules) -> list[Alert]:
    incoming = hfc.parse(body, now_ms)
    metrics.count_unknown_titles(hfc.unknown_titles(incoming), source=source, via="listener")
    return to_alerts(incoming, source=source, now_ms=now_ms, catalog=catalog, rules=rules)


def _feed_media(content_type: str) -> bool:
    # The feed is served as JSON, as text, or with no type at all; the parser decides.
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type in ("", "application/json", "text/json", "text/plain")


def routes(ingest: Ingest) -> list[Route]:
    async def post(request: Request) -> Response:
        return await ingest.handle(request, parse, _feed_media,
                                   "application/json (the feed's Alerts.json or history)")

    return [Route("/v1/feeds/hfc", post, methods=["POST"])]
