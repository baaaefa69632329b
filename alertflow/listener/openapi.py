"""The listener's OpenAPI document, built from the same types that validate requests."""

from __future__ import annotations

from typing import Any

from alertflow.domain.alert import alert_in_schema
from alertflow.domain.hfc import feed_schema


def openapi_document() -> dict[str, Any]:
    bodies, components = alert_in_schema()
    bodies["hfc"] = feed_schema(components)
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
        "required": ["accepted", "ids", "resolved", "unknown_locations",
                     "ambiguous_locations"],
        "properties": {
            # 0 for a feed body with nothing active or only the feed's test entries.
            "accepted": {"type": "integer", "minimum": 0},
            "ids": {"type": "array", "items": {"type": "string"}},
            "resolved": {
                "type": "object",
                "description": "Each place name as the source wrote it → the catalog areas it "
                               "resolved to (one area, a split city's areas, a zone's areas).",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
            "unknown_locations": {
                "type": "array", "items": {"type": "string"},
                "description": "Names that resolved to no area (accepted as given, unless "
                               "--strict-locations).",
            },
            "ambiguous_locations": {
                "type": "array", "items": {"type": "string"},
                "description": "Names that fit several places equally; kept unknown.",
            },
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
        "415": answer("Not a media type this route reads.", "Error"),
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
                "summary": "The original sources' format: "
                           "{location, type, timestamp, duration (minutes)}; a timestamp up "
                           "to 15 minutes ahead is the window's start.",
                "security": security,
                "requestBody": {"required": True, **json_body(bodies["legacy"])},
                "responses": answers,
            }},
            "/v1/feeds/hfc": {"post": {
                "summary": "The national feed's realtime Alerts.json object or its history "
                           "array, as served (UTF-8 with or without BOM, UTF-16 with BOM; an "
                           "empty body means nothing is active).",
                "description": "The body is optional: the feed answers with an empty body "
                               "when nothing is active, and so may its relays. A body that "
                               "is empty, or holds nothing but JSON whitespace (space, tab, "
                               "CR, LF) and byte-order marks, in any of the encodings above, "
                               "is that empty answer: 202 with `accepted: 0`, nothing "
                               "enqueued. Any other body that is not one of the two shapes "
                               "is refused (400, 422).",
                "security": security,
                # Not required: the listener reads an absent, empty or blank body as "nothing
                # active" (alertflow.domain.hfc.BLANK), and the document must say so.
                "requestBody": {"required": False, **json_body(bodies["hfc"])},
                "responses": answers,
            }},
            "/v1/cap": {"post": {
                "summary": "An OASIS CAP 1.2 message (Alert, Update or Cancel).",
                "description": "Validated against the CAP 1.2 XML schema; no DTD, entities or "
                               "external references. Errors name the element (`field` is its "
                               "path, e.g. /alert/info[1]/area[1]/polygon[1]). An Update "
                               "replaces the messages its <references> name, a Cancel closes "
                               "what they opened (it needs no <info> or <area>).",
                "security": security,
                "requestBody": {"required": True, "content": {
                    media: {"schema": {
                        "type": "string", "format": "xml",
                        "externalDocs": {"url": "https://docs.oasis-open.org/emergency/cap/"
                                                "v1.2/CAP-v1.2-os.html"},
                        "description": "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">",
                    }} for media in ("application/cap+xml", "application/xml")}},
                "responses": answers,
            }},
        },
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
