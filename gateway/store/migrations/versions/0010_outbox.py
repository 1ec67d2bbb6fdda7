"""Outbound webhooks: subscriptions and the durable outbox of their deliveries.

Revision ID: 0010_outbox
Revises: 0009_booking_source
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0010_outbox"
down_revision: str | None = "0009_booking_source"
branch_labels: str | None = None
depends_on: str | None = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "webhook_subscription",
        sa.Column("site", S(length=64), nullable=False),
        sa.Column("id", S(length=64), nullable=False),
        sa.Column("url", S(length=2000), nullable=False),
        sa.Column("secret", S(length=200), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("format", S(length=16), nullable=False),
        sa.Column("integration", S(length=64), nullable=True),
        sa.Column("origin", S(length=16), nullable=False),
        sa.Column("state", S(length=16), nullable=False),
        sa.Column("paused_reason", S(length=500), nullable=True),
        sa.Column("failures_in_row", sa.Integer(), nullable=False),
        sa.Column("delivered", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("dropped", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("site", "id"),
    )
    op.create_table(
        "webhook_delivery",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("site", S(length=64), nullable=False),
        sa.Column("subscription", S(length=64), nullable=False),
        sa.Column("delivery_id", S(length=64), nullable=False),
        sa.Column("kind", S(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", S(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.Float(), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", S(length=500), nullable=True),
        sa.Column("delivered_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_delivery_queue", ["site", "subscription", "status", "seq"], unique=False
        )
        batch_op.create_index("ix_webhook_delivery_id", ["delivery_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_delivery_id")
        batch_op.drop_index("ix_webhook_delivery_queue")
    op.drop_table("webhook_delivery")
    op.drop_table("webhook_subscription")
