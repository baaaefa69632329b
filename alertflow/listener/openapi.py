"""The listener's OpenAPI document, built from the same types that validate requests."""

from __future__ import annotations

from typing import Any

from alertflow.domain.alert import alert_in_schema


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
        "required": ["accepted", "ids", "resolved", "unknown_locations",
                     "ambiguous_locations"],
        "properties": {
            "accepted": {"type": "integer", "minimum": 1},
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
                "summary": "The original sources' format: "
                           "{location, type, timestamp, duration (minutes)}; a timestamp up "
                           "to 15 minutes ahead is the window's start.",
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
