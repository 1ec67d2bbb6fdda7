"""A covering index for utilization reports over day rollups.

Revision ID: 0004_rollup_day_report
Revises: 0003_site_hours
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision: str = "0004_rollup_day_report"
down_revision: str | None = "0003_site_hours"
branch_labels: str | None = None
depends_on: str | None = None

COLUMNS = ["site", "space", "start", "occupied_s", "known_s", "counted_s", "person_s", "peak"]


def upgrade() -> None:
    with op.batch_alter_table("rollup_day", schema=None) as batch_op:
        batch_op.create_index("ix_rollup_day_report", COLUMNS, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rollup_day", schema=None) as batch_op:
        batch_op.drop_index("ix_rollup_day_report")
