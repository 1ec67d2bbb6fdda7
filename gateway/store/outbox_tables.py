"""Store tables of outbound webhooks: the subscriptions and the durable outbox of deliveries.

A delivery row is written when a finding is recorded and deleted only when pruned after it
was delivered (or dropped by the outbox cap, counted on its subscription): a restart or a
``kill -9`` finds every pending delivery where it was (``gateway.integrations.outbox``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, Index, Table, Text
from sqlmodel import Field, SQLModel


class WebhookSubscriptionRow(SQLModel, table=True):
    """Where findings of some kinds go, signed with its secret; paused after failing."""

    __tablename__ = "webhook_subscription"

    site: str = Field(primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=64)
    url: str = Field(max_length=2000)
    secret: str = Field(max_length=200)  # the HMAC key: needed in clear to sign
    kinds: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    format: str = Field(default="json", max_length=16)  # json, slack, teams
    integration: str | None = Field(default=None, max_length=64)  # release write-back
    origin: str = Field(default="api", max_length=16)  # api or config
    state: str = Field(default="active", max_length=16)  # active or paused
    paused_reason: str | None = Field(default=None, max_length=500)
    failures_in_row: int = 0
    delivered: int = 0  # counters kept with the row, so /metrics survives a restart
    failures: int = 0
    dropped: int = 0
    created_at: float


class WebhookDeliveryRow(SQLModel, table=True):
    """One finding on its way to one subscription; sent in ``seq`` order per subscription."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index("ix_webhook_delivery_queue", "site", "subscription", "status", "seq"),
        Index("ix_webhook_delivery_id", "delivery_id", unique=True),
    )

    seq: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=64)
    subscription: str = Field(max_length=64)
    delivery_id: str = Field(max_length=64)  # the id the receiver sees, stable over retries
    kind: str = Field(max_length=64)
    created_at: float
    body: str = Field(sa_column=Column(Text, nullable=False))  # the exact JSON sent
    status: str = Field(default="pending", max_length=16)  # pending, delivered
    attempts: int = 0
    next_at: float = 0.0  # not before (backoff)
    last_status: int | None = None  # the receiver's HTTP status of the last attempt
    last_error: str | None = Field(default=None, max_length=500)
    delivered_at: float | None = None


def _t(model: type[SQLModel]) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


SUBSCRIPTIONS, DELIVERIES = _t(WebhookSubscriptionRow), _t(WebhookDeliveryRow)
