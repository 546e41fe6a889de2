"""OpenAPI descriptions of sealed bodies (their JSON models are named, not inlined)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from sync.crypto import SEALED_MEDIA_TYPE
from sync.protocol import ErrorBody

SEALED_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "JSON tersegel (sync.crypto.sealed_body) untuk kunci X25519 server.",
        "content": {SEALED_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    }
}


def sealed_answer(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """The 200 answer (model sealed to the device) and the plain-JSON error answers."""
    return {
        200: {
            "description": f"{model.__name__} tersegel untuk kunci X25519 perangkat.",
            "content": {SEALED_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        },
        400: {"model": ErrorBody},
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
        413: {"model": ErrorBody},
        415: {"model": ErrorBody},
        422: {"model": ErrorBody},
    }


def query_parameters(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` declaring `model`'s fields as query parameters, for endpoints that
    parse their query themselves (to refuse unknown parameters)."""
    schema = model.model_json_schema()
    return {
        "parameters": [
            {"name": name, "in": "query", "required": False, "schema": field_schema}
            for name, field_schema in schema.get("properties", {}).items()
        ]
    }
