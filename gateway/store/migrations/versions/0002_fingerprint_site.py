"""Ingest fingerprints carry their site, so gateways sharing one store keep separate records.

Revision ID: 0002_fingerprint_site
Revises: 0001_baseline
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0002_fingerprint_site"
down_revision: str | None = "0001_baseline"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("ingestfingerprint", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "site",
                sqlmodel.sql.sqltypes.AutoString(length=64),
                nullable=False,
                server_default="",
            )
        )
    # a store from before this revision served one site: its records are that site's
    op.execute(
        "UPDATE ingestfingerprint SET site = (SELECT min(id) FROM site) "
        "WHERE (SELECT count(*) FROM site) = 1"
    )
    with op.batch_alter_table("ingestfingerprint", schema=None) as batch_op:
        batch_op.alter_column("site", server_default=None)
        batch_op.create_index(
            "ix_fingerprint_site_client_mid", ["site", "client", "mid"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ingestfingerprint", schema=None) as batch_op:
        batch_op.drop_index("ix_fingerprint_site_client_mid")
        batch_op.drop_column("site")
