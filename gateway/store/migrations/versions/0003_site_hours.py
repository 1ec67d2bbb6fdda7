"""Sites keep their business hours, so a report across sites knows each one's open time.

Revision ID: 0003_site_hours
Revises: 0002_fingerprint_site
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003_site_hours"
down_revision: str | None = "0002_fingerprint_site"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.add_column(sa.Column("business_hours", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_column("business_hours")
