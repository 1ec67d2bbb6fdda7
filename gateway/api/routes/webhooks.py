"""Webhook subscriptions (admin): create, list, pause and resume, their deliveries, a test."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from gateway.api.deps import AdminOnly, WebhooksDep
from gateway.api.paging import Limit, ServiceOffset
from gateway.api.service_http import PathId, errors, http_errors, iso
from gateway.integrations.webhooks_subscriptions import KINDS, public

router = APIRouter(prefix="/webhooks", tags=["webhooks"], dependencies=[AdminOnly])

Format = Literal["json", "slack", "teams"]
State = Literal["active", "paused"]
KIND_HELP = f"finding kinds, or * for every one: {', '.join(KINDS)}"


class Subscription(BaseModel):
    id: str
    url: str
    kinds: list[str]
    format: Format
    integration: str | None
    origin: Literal["api", "config"]
    state: State
    paused_reason: str | None
    failures_in_row: int
    delivered: int
    failures: int
    dropped: int = Field(description="oldest pending deliveries dropped by the outbox cap")
    pending: int
    created_at: datetime


class SubscriptionCreated(Subscription):
    secret: str = Field(description="the HMAC-SHA256 key of X-Gateway-Signature; shown once")


class Subscriptions(BaseModel):
    data: list[Subscription]
    count: int


class SubscriptionCreate(BaseModel):
    url: str = Field(pattern=r"^https?://[^\s\x00]+$", max_length=2000)
    kinds: list[str] | None = Field(default=None, description=KIND_HELP + " (default *)")
    format: Format = "json"
    integration: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="a booking platform: its released bookings go back here (kinds default "
        "booking_released)",
    )
    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    secret: str | None = Field(default=None, min_length=16, max_length=200, pattern=r"^[^\x00]+$")


class SubscriptionUpdate(BaseModel):
    state: State | None = Field(default=None, description="active resumes a paused one")
    url: str | None = Field(default=None, pattern=r"^https?://[^\s\x00]+$", max_length=2000)
    kinds: list[str] | None = Field(default=None, description=KIND_HELP)
    format: Format | None = None


class Delivery(BaseModel):
    delivery_id: str
    kind: str
    status: Literal["pending", "delivered"]
    attempts: int
    created_at: datetime
    next_at: datetime | None
    delivered_at: datetime | None
    last_status: int | None = Field(description="the receiver's HTTP status, last attempt")
    last_error: str | None


class Deliveries(BaseModel):
    data: list[Delivery]
    count: int
    total: int


def out(hooks: WebhooksDep, row: dict[str, Any]) -> dict[str, Any]:
    p = public(row)
    return {
        **p,
        "created_at": iso(p["created_at"]),
        "pending": hooks.outbox.pending.get(p["id"], 0),
    }


@router.get("", response_model=Subscriptions)
def list_subscriptions(hooks: WebhooksDep) -> Subscriptions:
    rows = [Subscription(**out(hooks, r)) for r in hooks.subs.all()]
    return Subscriptions(data=rows, count=len(rows))


@router.post(
    "",
    response_model=SubscriptionCreated,
    status_code=status.HTTP_201_CREATED,
    responses=errors(409),
)
def create(body: SubscriptionCreate, hooks: WebhooksDep) -> SubscriptionCreated:
    """A new subscription; the answer holds its secret, the only time it is shown."""
    values = body.model_dump()
    if values["kinds"] is None:
        values["kinds"] = ["booking_released"] if body.integration else ["*"]
    with http_errors():
        row = hooks.subs.create(values)
    return SubscriptionCreated(**out(hooks, row), secret=row["secret"])


@router.get("/{sub_id}", response_model=Subscription, responses=errors(404))
def get_subscription(sub_id: PathId, hooks: WebhooksDep) -> Subscription:
    with http_errors():
        return Subscription(**out(hooks, hooks.subs.get(sub_id)))


@router.patch("/{sub_id}", response_model=Subscription, responses=errors(404, 409))
def update(sub_id: PathId, body: SubscriptionUpdate, hooks: WebhooksDep) -> Subscription:
    """Pause or resume it (resuming retries its oldest delivery now); change an API one."""
    values = body.model_dump(exclude_none=True)
    with http_errors():
        if values.get("state") == "active":
            hooks.resume(sub_id)
        row = hooks.subs.update(sub_id, values)
    return Subscription(**out(hooks, row))


@router.delete("/{sub_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(404, 409))
def delete(sub_id: PathId, hooks: WebhooksDep) -> Response:
    """Remove an API subscription and its pending deliveries."""
    with http_errors():
        hooks.subs.delete(sub_id)
    hooks.outbox.forget(sub_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{sub_id}/deliveries", response_model=Deliveries, responses=errors(404))
def deliveries(
    sub_id: PathId,
    hooks: WebhooksDep,
    status: Literal["pending", "delivered"] | None = None,
    limit: Limit = 100,
    offset: ServiceOffset = 0,
) -> Deliveries:
    """Its deliveries, newest first: attempts, the last answer or error, when next tried."""
    with http_errors():
        hooks.subs.get(sub_id)
    rows, total = hooks.outbox.page(sub_id, status, limit, offset)
    data = [
        Delivery(
            **{
                **r,
                "created_at": iso(r["created_at"]),
                "next_at": iso(r["next_at"]) if r["status"] == "pending" and r["next_at"] else None,
                "delivered_at": iso(r["delivered_at"]) if r["delivered_at"] else None,
            }
        )
        for r in rows
    ]
    return Deliveries(data=data, count=len(data), total=total)


@router.post("/{sub_id}/test", status_code=status.HTTP_202_ACCEPTED, responses=errors(404))
def test(sub_id: PathId, hooks: WebhooksDep) -> dict[str, str]:
    """Queue a ``test`` delivery to this subscription alone; its delivery id."""
    with http_errors():
        sub = hooks.subs.get(sub_id)
    did = hooks.emit_to(sub, "test", {"message": "test delivery"}, hooks.clock())
    return {"delivery_id": did}
