"""422 answers: the member-service routes name the field; the schema admits both 422 forms.

Request validation answers ``{"detail": [{"loc", "msg", "type"}, ...]}``. A route refusing a
value itself can raise :func:`field_error` to answer in that same form, naming the field.
Routes that raise ``HTTPException(422, "message")`` answer ``{"detail": "message"}``;
``install`` documents that second form next to the first in every operation's 422 response,
so the OpenAPI schema states what clients actually receive. Request-validation answers never
echo the input: a value JSON cannot carry back (``1e309`` parses to infinity, a lone
surrogate cannot be encoded) would otherwise turn a 422 into a 500.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

MESSAGE = {
    "title": "ErrorMessage",
    "type": "object",
    "properties": {"detail": {"type": "string", "title": "Detail"}},
    "required": ["detail"],
}


def field_error(loc: tuple[str, ...], message: str) -> RequestValidationError:
    """A 422 about one field, in the request-validation form: ``loc`` names it."""
    return RequestValidationError([{"type": "value_error", "loc": loc, "msg": message}])


def _clean(text: str, limit: int = 200) -> str:
    """Text that encodes as JSON and UTF-8: lone surrogates and control characters replaced."""
    out = "".join("\ufffd" if (0xD800 <= ord(c) <= 0xDFFF or ord(c) < 0x20) else c for c in text)
    return out[:limit]


def _loc_part(part: Any) -> str | int:
    return part if isinstance(part, int) and not isinstance(part, bool) else _clean(str(part), 64)


def clean_errors(errors: Any) -> list[dict[str, Any]]:
    """Validation errors as ``loc``, ``msg`` and ``type`` only: never the input or its context."""
    out = []
    for e in list(errors)[:50]:
        out.append(
            {
                "loc": [_loc_part(p) for p in e.get("loc", ())][:16],
                "msg": _clean(str(e.get("msg", "invalid value")), 300),
                "type": _clean(str(e.get("type", "value_error")), 64),
            }
        )
    return out


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse({"detail": clean_errors(errors)}, status_code=422)


def install(app: FastAPI) -> None:
    """Answer request-validation errors cleanly; let each operation's documented 422 be
    either form."""
    app.add_exception_handler(RequestValidationError, validation_error)
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
