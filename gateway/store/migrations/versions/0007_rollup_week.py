"""Week rollups for long reports, filled from the day rollups already stored.

Revision ID: 0007_rollup_week
Revises: 0006_access
Create Date: 2026-11-28
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0007_rollup_week"
down_revision: str | None = "0006_access"
branch_labels: str | None = None
depends_on: str | None = None

SUMS = ("occupied_s", "known_s", "counted_s", "person_s")
COLUMNS = ["site", "space", "start", *SUMS, "peak"]


def _backfill() -> None:
    """One week row per (site, space, local week) from its day rows, as the store writes it."""
    days = sa.table(
        "rollup_day",
        *(sa.column(c) for c in ("site", "space", "day", "start", *SUMS, "peak")),
    )
    weeks = sa.table("rollup_week", *(sa.column(c) for c in ("week", *COLUMNS)))
    conn = op.get_bind()
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in conn.execute(sa.select(days)).mappings():
        d = date.fromisoformat(r["day"])
        week = (d - timedelta(days=d.weekday())).isoformat()
        w = out.get((r["site"], r["space"], week))
        if w is None:
            out[(r["site"], r["space"], week)] = {"week": week, **{c: r[c] for c in COLUMNS}}
            continue
        w["start"] = min(w["start"], r["start"])
        for m in SUMS:
            w[m] = (w[m] or 0.0) + (r[m] or 0.0)
        if r["peak"] is not None and (w["peak"] is None or r["peak"] > w["peak"]):
            w["peak"] = r["peak"]
    rows = list(out.values())
    for k in range(0, len(rows), 5000):
        conn.execute(weeks.insert(), rows[k : k + 5000])


def upgrade() -> None:
    op.create_table(
        "rollup_week",
        sa.Column("site", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("space", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("week", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("occupied_s", sa.Float(), nullable=False),
        sa.Column("known_s", sa.Float(), nullable=False),
        sa.Column("counted_s", sa.Float(), nullable=False),
        sa.Column("person_s", sa.Float(), nullable=False),
        sa.Column("peak", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("site", "space", "week"),
    )
    with op.batch_alter_table("rollup_week", schema=None) as batch_op:
        batch_op.create_index("ix_rollup_week_report", COLUMNS, unique=False)
    _backfill()


def downgrade() -> None:
    with op.batch_alter_table("rollup_week", schema=None) as batch_op:
        batch_op.drop_index("ix_rollup_week_report")
    op.drop_table("rollup_week")
