"""Access grants keep the booking they rest on, so cancelling the booking revokes them.

Revision ID: 0008_grant_booking
Revises: 0007_rollup_week
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0008_grant_booking"
down_revision: str | None = "0007_rollup_week"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("access_grant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("booking", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_access_grant_booking"), ["booking"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("access_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_grant_booking"))
        batch_op.drop_column("booking")
