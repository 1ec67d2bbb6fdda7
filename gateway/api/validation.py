"""422 answers: the member-service routes name the field; the schema admits both 422 forms.

Request validation answers ``{"detail": [{"loc", "msg", "type"}, ...]}``. A route refusing a
value itself can raise :func:`field_error` to answer in that same form, naming the field.
Routes that raise ``HTTPException(422, "message")`` answer ``{"detail": "message"}``;
``install`` documents that second form next to the first in every operation's 422 response,
so the OpenAPI schema states what clients actually receive.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

MESSAGE = {
    "title": "ErrorMessage",
    "type": "object",
    "properties": {"detail": {"type": "string", "title": "Detail"}},
    "required": ["detail"],
}


def field_error(loc: tuple[str, ...], message: str) -> RequestValidationError:
    """A 422 about one field, in the request-validation form: ``loc`` names it."""
    return RequestValidationError([{"type": "value_error", "loc": loc, "msg": message}])


def install(app: FastAPI) -> None:
    """Let each operation's documented 422 be either form."""
    base = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = base()
        schema.setdefault("components", {}).setdefault("schemas", {})["ErrorMessage"] = MESSAGE
        for path in schema.get("paths", {}).values():
            for op in path.values():
                body = op.get("responses", {}).get("422", {}).get("content", {})
                js = body.get("application/json")
                if js is not None and "schema" in js:
                    js["schema"] = {
                        "anyOf": [js["schema"], {"$ref": "#/components/schemas/ErrorMessage"}]
                    }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
