"""`POST /v1/cap`: OASIS CAP 1.2 messages (`application/cap+xml` or `application/xml`).

The parsing, schema validation and meaning of Alert/Update/Cancel are `alertflow.domain.cap`;
this module only builds the catalog's spatial index and the schema once per listener.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alertflow.domain import cap
from alertflow.domain.alert import Alert, IngestRules
from alertflow.domain.geo import AreaIndex
from alertflow.domain.incoming import to_alerts
from alertflow.domain.locations import Catalog
from alertflow.listener.ingest import Ingest
from alertflow.schemas import cap12


def is_cap(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() in cap.MEDIA_TYPES


def routes(ingest: Ingest) -> list[Route]:
    schema = cap12()  # loaded now, so the first message is not the slow one
    index = AreaIndex.of(ingest.catalog)

    def parse(body: bytes, *, source: str, now_ms: int, catalog: Catalog,
              rules: IngestRules) -> list[Alert]:
        message = cap.parse(body, schema, index)
        return to_alerts(list(message.alerts), source=source, now_ms=now_ms, catalog=catalog,
                         rules=rules)

    async def post(request: Request) -> Response:
        return await ingest.handle(request, parse, is_cap, "application/cap+xml")

    return [Route("/v1/cap", post, methods=["POST"])]
