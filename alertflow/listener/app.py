"""The listener's app: every ingest format's routes over one shared pipeline."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from alertflow import metrics
from alertflow.backends.ports import AlertPublisher
from alertflow.domain.locations import Catalog
from alertflow.listener import cap_xml, hfc_feed, legacy, own_json
from alertflow.listener.access import Access
from alertflow.listener.ingest import Ingest, ListenerConfig
from alertflow.listener.openapi import openapi_document
from alertflow.roles.http import error, health_routes


def create_listener_routes(
    publisher: AlertPublisher, catalog: Catalog, config: ListenerConfig,
    access: Access | None = None,
) -> list[Route]:
    """The ingest routes, so `alertflow dev` can mount them beside the notifier's."""
    ingest = Ingest(publisher, catalog, config, access)
    openapi = openapi_document()

    async def openapi_json(_request: Request) -> Response:
        return JSONResponse(openapi)

    return [
        *own_json.routes(ingest),
        *legacy.routes(ingest),
        *hfc_feed.routes(ingest),
        *cap_xml.routes(ingest),
        Route("/openapi.json", openapi_json, methods=["GET"]),
    ]


def create_listener_app(
    publisher: AlertPublisher, catalog: Catalog, config: ListenerConfig,
    access: Access | None = None,
) -> Starlette:
    def readiness() -> dict[str, bool]:
        metrics.broker_connected.set(1 if publisher.ready else 0)
        return {"broker": publisher.ready}

    async def http_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error(exc.status_code, "http_error", "$", str(exc.detail),
                     headers=dict(exc.headers or {}))

    return Starlette(
        routes=(create_listener_routes(publisher, catalog, config, access)
                + health_routes(readiness)),
        exception_handlers={HTTPException: http_error},
    )
