"""Baseline: the tables a gateway created with ``create_all`` before migrations existed.

Revision ID: 0001_baseline
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0001_baseline"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("member", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("credential", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("result", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index("ix_audit_site_action_ts", ["site", "action", "ts"], unique=False)
        batch_op.create_index("ix_audit_site_ts", ["site", "ts"], unique=False)

    op.create_table(
        "dead_letter_pruned",
        sa.Column("site", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("pruned", sa.Integer(), nullable=False),
        sa.Column("last_pruned_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("site"),
    )
    op.create_table(
        "deadletter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("profile", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("device", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("deadletter", schema=None) as batch_op:
        batch_op.create_index("ix_deadletter_received", ["received_at"], unique=False)

    op.create_table(
        "device",
        sa.Column("site", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("profile", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("space", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("bound", sa.Boolean(), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=True),
        sa.Column("first_seen", sa.Float(), nullable=True),
        sa.Column("last_seen", sa.Float(), nullable=True),
        sa.Column("readings", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("site", "id"),
    )
    op.create_table(
        "devicebindingoverride",
        sa.Column("site", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("profile", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("space", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("bound_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("site", "id"),
    )
    op.create_table(
        "engine_snapshot",
        sa.Column("site", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("taken_at", sa.Float(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("site"),
    )
    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("device", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("space", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("quantity", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("value_num", sa.Float(), nullable=True),
        sa.Column("value_text", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("attrs", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index("ix_event_device_ts", ["site", "device", "ts"], unique=False)
        batch_op.create_index("ix_event_space_ts", ["site", "space", "ts"], unique=False)
        batch_op.create_index("ix_event_ts", ["ts"], unique=False)

    op.create_table(
        "finding",
        sa.Column("site", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("ref", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("space", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("detected_at", sa.Float(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("site", "kind", "ref"),
    )
    op.create_table(
        "floor",
        sa.Column("site", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("site", "id"),
    )
    op.create_table(
        "idle_episode",
        sa.Column("site", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("space", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("opened_at", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("site", "space", "start"),
    )
    with op.batch_alter_table("idle_episode", schema=None) as batch_op:
        batch_op.create_index("ix_idle_episode_site_start", ["site", "start"], unique=False)

    op.create_table(
        "ingestfingerprint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("mid", sa.Integer(), nullable=False),
        sa.Column("digest", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "rollup_bin",
        sa.Column("site", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("space", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("length", sa.Float(), nullable=False),
        sa.Column("day", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("occupied_s", sa.Float(), nullable=False),
        sa.Column("known_s", sa.Float(), nullable=False),
        sa.Column("counted_s", sa.Float(), nullable=False),
        sa.Column("person_s", sa.Float(), nullable=False),
        sa.Column("peak", sa.Integer(), nullable=True),
        sa.Column("hist", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("site", "space", "start"),
    )
    with op.batch_alter_table("rollup_bin", schema=None) as batch_op:
        batch_op.create_index("ix_rollup_bin_site_start", ["site", "start"], unique=False)

    op.create_table(
        "rollup_day",
        sa.Column("site", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("space", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("day", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("occupied_s", sa.Float(), nullable=False),
        sa.Column("known_s", sa.Float(), nullable=False),
        sa.Column("counted_s", sa.Float(), nullable=False),
        sa.Column("person_s", sa.Float(), nullable=False),
        sa.Column("peak", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("site", "space", "day"),
    )
    with op.batch_alter_table("rollup_day", schema=None) as batch_op:
        batch_op.create_index("ix_rollup_day_site_start", ["site", "start"], unique=False)

    op.create_table(
        "site",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "space",
        sa.Column("site", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("floor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("bookable", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("site", "id"),
    )


def downgrade() -> None:
    op.drop_table("space")
    op.drop_table("site")
    with op.batch_alter_table("rollup_day", schema=None) as batch_op:
        batch_op.drop_index("ix_rollup_day_site_start")

    op.drop_table("rollup_day")
    with op.batch_alter_table("rollup_bin", schema=None) as batch_op:
        batch_op.drop_index("ix_rollup_bin_site_start")

    op.drop_table("rollup_bin")
    op.drop_table("ingestfingerprint")
    with op.batch_alter_table("idle_episode", schema=None) as batch_op:
        batch_op.drop_index("ix_idle_episode_site_start")

    op.drop_table("idle_episode")
    op.drop_table("floor")
    op.drop_table("finding")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_ts")
        batch_op.drop_index("ix_event_space_ts")
        batch_op.drop_index("ix_event_device_ts")

    op.drop_table("event")
    op.drop_table("engine_snapshot")
    op.drop_table("devicebindingoverride")
    op.drop_table("device")
    with op.batch_alter_table("deadletter", schema=None) as batch_op:
        batch_op.drop_index("ix_deadletter_received")

    op.drop_table("deadletter")
    op.drop_table("dead_letter_pruned")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_site_ts")
        batch_op.drop_index("ix_audit_site_action_ts")

    op.drop_table("audit_entry")
