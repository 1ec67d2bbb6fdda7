"""Integrations in: booking platforms post booking changes, signed (no bearer token).

``POST /integrations/bookings`` takes one change (created, updated, cancelled) signed with
the integration's secret (``gateway.integrations.booking_hooks``); the guard lets it through
without a token, this route reads at most ``booking_hooks.max_body_bytes`` of its body. It
answers what became of the booking: 201 created, 200 updated / cancelled / unchanged / stale /
past / unknown, 409 when it overlaps a live booking; 401 bad or old signature, 409 a replay,
413 too large, 422 not a booking change, 404 while no integration is configured.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from gateway.api.service_http import http_errors
from gateway.facility.service_errors import ServiceError
from gateway.integrations.booking_hooks import BookingChange, BookingHooks, Refused

router = APIRouter(prefix="/integrations", tags=["integrations"])


def _hooks(request: Request) -> BookingHooks:
    hooks: BookingHooks = request.app.state.booking_hooks
    return hooks


HooksDep = Annotated[BookingHooks, Depends(_hooks)]


class HookAnswer(BaseModel):
    result: str  # created, updated, cancelled, unchanged, stale, conflict, past, unknown
    booking: str | None
    id: str  # the platform's booking id
    reason: str = ""


async def _body(request: Request, limit: int) -> bytes:
    """The body, reading no more than ``limit + 1`` bytes."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        return b"\0" * (limit + 1)  # refused by size without reading it
    chunks, n = [], 0
    async for chunk in request.stream():
        chunks.append(chunk)
        n += len(chunk)
        if n > limit:
            break
    return b"".join(chunks)


@router.post(
    "/bookings",
    response_model=HookAnswer,
    responses={
        201: {"model": HookAnswer},
        401: {"description": "bad or old signature"},
        409: {"description": "replayed, or overlaps a live booking"},
        413: {"description": "body too large"},
    },
)
async def booking_change(
    request: Request,
    hooks: HooksDep,
    x_gateway_integration: Annotated[str | None, Header()] = None,
    x_gateway_signature: Annotated[str | None, Header()] = None,
) -> Any:
    """A booking platform's signed booking change (see docs/integrations/booking-webhooks.md)."""
    if not hooks.enabled:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no booking integration is configured")
    body = await _body(request, hooks.settings.max_body_bytes)
    try:
        integration = hooks.check(x_gateway_integration, x_gateway_signature, body)
    except Refused as err:
        raise HTTPException(err.status, err.detail) from err
    try:
        change = BookingChange.model_validate(json.loads(body))
    except (ValueError, ValidationError) as err:
        hooks.invalid()
        detail: Any = str(err)
        if isinstance(err, ValidationError):
            detail = err.errors(include_url=False, include_context=False, include_input=False)
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail) from err
    with http_errors():
        try:
            done = await run_in_threadpool(hooks.apply, integration, change)
        except ServiceError:  # an unknown or unbookable space
            hooks.invalid()
            raise
    code = {"created": 201, "conflict": 409}.get(done.result, 200)
    answer = HookAnswer(result=done.result, booking=done.booking, id=change.id, reason=done.reason)
    return JSONResponse(answer.model_dump(), status_code=code)
