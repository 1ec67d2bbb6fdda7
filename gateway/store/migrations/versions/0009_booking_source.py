"""Bookings keep where they came from: a room calendar, a booking platform or the gateway.

Revision ID: 0009_booking_source
Revises: 0008_grant_booking
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0009_booking_source"
down_revision: str | None = "0008_grant_booking"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "source",
                sqlmodel.sql.sqltypes.AutoString(length=128),
                nullable=False,
                server_default="local",  # every booking before this one was made locally
            )
        )
        batch_op.add_column(
            sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True)
        )
        batch_op.add_column(sa.Column("source_updated_at", sa.Float(), nullable=True))
        batch_op.create_index(
            "ix_booking_site_source_external", ["site", "source", "external_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_index("ix_booking_site_source_external")
        batch_op.drop_column("source_updated_at")
        batch_op.drop_column("external_id")
        batch_op.drop_column("source")
