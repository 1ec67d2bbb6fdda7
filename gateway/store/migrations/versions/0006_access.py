"""API tokens, plans, members, credential hashes and access grants.

Revision ID: 0006_access
Revises: 0005_member_services
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0006_access"
down_revision: str | None = "0005_member_services"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "access_credential",
        sa.Column("site", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("credential_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("member", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("site", "credential_hash"),
    )
    with op.batch_alter_table("access_credential", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_credential_member"), ["member"], unique=False)

    op.create_table(
        "access_grant",
        sa.Column("site", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("member", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("door", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("space", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("valid_from", sa.Float(), nullable=False),
        sa.Column("valid_until", sa.Float(), nullable=False),
        sa.Column("basis", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("revoked_at", sa.Float(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("site", "id"),
    )
    with op.batch_alter_table("access_grant", schema=None) as batch_op:
        batch_op.create_index("ix_grant_site_member", ["site", "member"], unique=False)

    op.create_table(
        "access_member",
        sa.Column("site", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("company", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("plan", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("from_file", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("site", "id"),
    )
    op.create_table(
        "access_plan",
        sa.Column("site", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("spaces", sa.JSON(), nullable=False),
        sa.Column("floors", sa.JSON(), nullable=False),
        sa.Column("space_types", sa.JSON(), nullable=False),
        sa.Column("from_file", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("site", "id"),
    )
    op.create_table(
        "api_token",
        sa.Column("site", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("revoked_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("site", "id"),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index("ix_api_token_hash", ["token_hash"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index("ix_api_token_hash")

    op.drop_table("api_token")
    op.drop_table("access_plan")
    op.drop_table("access_member")
    with op.batch_alter_table("access_grant", schema=None) as batch_op:
        batch_op.drop_index("ix_grant_site_member")

    op.drop_table("access_grant")
    with op.batch_alter_table("access_credential", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_credential_member"))

    op.drop_table("access_credential")
