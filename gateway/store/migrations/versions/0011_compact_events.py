"""Events stored compactly: a series dictionary, an event row of keys and numbers, the
``event`` view for readers, and one redelivery record per batch instead of a row per message.

Every event row carried its site, device, space, kind, quantity and unit as strings, behind
three indexes (about 195 bytes each on SQLite); now it carries one integer key into
``event_series``, its time, its receive lag in milliseconds and its value, behind two (about
70). The rows keep their ids. On SQLite the whole revision runs in one transaction (it
starts with a write, so the DDL after it is inside it): a kill in the middle leaves the old
schema whole, and the next start runs it again.

Revision ID: 0011_compact_events
Revises: 0010_outbox
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from gateway.store import redelivery
from gateway.store.event_view import VIEW_SQL
from gateway.store.rows import BATCH_MARK

revision: str = "0011_compact_events"
down_revision: str | None = "0010_outbox"
branch_labels: str | None = None
depends_on: str | None = None

_STR = sqlmodel.sql.sqltypes.AutoString
_LAG = (
    "CASE WHEN (e.received_at - e.ts) * 1000 > 4.6e18 THEN 4611686018427387904 "
    "WHEN (e.received_at - e.ts) * 1000 < -4.6e18 THEN -4611686018427387904 "
    "ELSE CAST(round((e.received_at - e.ts) * 1000) AS BIGINT) END"
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":  # opens the transaction the DDL below runs in
        op.execute("UPDATE alembic_version SET version_num = version_num")
    _series_and_data()
    op.execute(
        "INSERT INTO event_series (site, device, space, kind, quantity, unit) "
        "SELECT DISTINCT site, device, coalesce(space, ''), kind, quantity, coalesce(unit, '') "
        "FROM event"
    )
    op.execute(
        "INSERT INTO event_data (id, series, ts, lag_ms, value_num, value_text, attrs) "
        f"SELECT e.id, s.id, e.ts, {_LAG}, e.value_num, e.value_text, e.attrs "
        "FROM event e JOIN event_series s ON s.site = e.site AND s.device = e.device "
        "AND s.space = coalesce(e.space, '') AND s.kind = e.kind AND s.quantity = e.quantity "
        "AND s.unit = coalesce(e.unit, '')"
    )
    _sequence_past_ids(bind, "event_data")
    for ix in ("ix_event_space_ts", "ix_event_device_ts", "ix_event_ts"):
        op.drop_index(ix, table_name="event")
    op.drop_table("event")
    op.create_index("ix_event_data_series_ts", "event_data", ["series", "ts"])
    op.create_index("ix_event_data_ts", "event_data", ["ts"])
    op.execute(VIEW_SQL)
    _records_from_fingerprints(bind)


def _sequence_past_ids(bind: sa.engine.Connection, table: str) -> None:
    """On PostgreSQL, move ``table``'s id sequence past the ids copied into it."""
    if bind.dialect.name == "postgresql":
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
        )


def _series_and_data() -> None:
    op.create_table(
        "event_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", _STR(length=64), nullable=False),
        sa.Column("device", _STR(length=128), nullable=False),
        sa.Column("space", _STR(length=64), nullable=False),
        sa.Column("kind", _STR(length=16), nullable=False),
        sa.Column("quantity", _STR(length=32), nullable=False),
        sa.Column("unit", _STR(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "site", "device", "space", "kind", "quantity", "unit", name="uq_event_series"
        ),
    )
    op.create_table(
        "event_data",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series", sa.Integer(), nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.Column("lag_ms", sa.BigInteger(), nullable=False),
        sa.Column("value_num", sa.Float(), nullable=True),
        sa.Column("value_text", _STR(length=64), nullable=True),
        sa.Column("attrs", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )


def _records_from_fingerprints(bind: sa.engine.Connection) -> None:
    """One record per batch mark, and each (site, client)'s message fingerprints packed
    into one record older than them: a redelivery just after the upgrade is still known."""
    record = op.create_table(
        "ingest_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", _STR(length=64), nullable=False),
        sa.Column("client", _STR(length=128), nullable=False),
        sa.Column("batch", sa.BigInteger(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("fingerprints", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ingest_record_batch", "ingest_record", ["site", "client", "batch"])
    rows = bind.execute(
        sa.text("SELECT site, client, mid, digest FROM ingestfingerprint ORDER BY id")
    ).all()
    pairs: dict[tuple[str, str], list[tuple[int, int]]] = {}
    marks: list[dict[str, object]] = []
    for site, client, mid, digest in rows:
        if mid == BATCH_MARK:
            marks.append({"site": site, "client": client, "batch": digest, "messages": 0,
                          "fingerprints": b""})  # fmt: skip
        else:
            pairs.setdefault((site, client), []).append((mid, digest))
    packed = [
        {"site": s, "client": c, "batch": 0, "messages": len(p),
         "fingerprints": redelivery.pack(p)}
        for (s, c), p in pairs.items()
    ]  # fmt: skip
    if packed or marks:
        op.bulk_insert(record, packed + marks)
    op.drop_index("ix_fingerprint_site_client_mid", table_name="ingestfingerprint")
    op.drop_table("ingestfingerprint")


def downgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "ingestfingerprint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", _STR(length=64), nullable=False),
        sa.Column("client", _STR(length=128), nullable=False),
        sa.Column("mid", sa.Integer(), nullable=False),
        sa.Column("digest", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_fingerprint_site_client_mid", "ingestfingerprint", ["site", "client", "mid"]
    )
    fps = []
    for site, client, batch, blob in bind.execute(
        sa.text("SELECT site, client, batch, fingerprints FROM ingest_record ORDER BY id")
    ):
        fps += [{"site": site, "client": client, "mid": m, "digest": d}
                for m, d in redelivery.unpack(bytes(blob))]  # fmt: skip
        fps.append({"site": site, "client": client, "mid": BATCH_MARK, "digest": batch})
    if fps:
        bind.execute(
            sa.text(
                "INSERT INTO ingestfingerprint (site, client, mid, digest) "
                "VALUES (:site, :client, :mid, :digest)"
            ),
            fps,
        )
    op.drop_index("ix_ingest_record_batch", table_name="ingest_record")
    op.drop_table("ingest_record")
    op.create_table(
        "event_old",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", _STR(length=64), nullable=False),
        sa.Column("device", _STR(length=128), nullable=False),
        sa.Column("space", _STR(length=64), nullable=True),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("kind", _STR(length=16), nullable=False),
        sa.Column("quantity", _STR(length=32), nullable=False),
        sa.Column("value_num", sa.Float(), nullable=True),
        sa.Column("value_text", _STR(length=64), nullable=True),
        sa.Column("unit", _STR(length=16), nullable=True),
        sa.Column("attrs", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    cols = "id, site, device, space, ts, received_at, kind, quantity, value_num, value_text, unit"
    op.execute(f"INSERT INTO event_old ({cols}, attrs) SELECT {cols}, attrs FROM event")
    _sequence_past_ids(bind, "event_old")
    op.execute("DROP VIEW event")
    op.drop_index("ix_event_data_series_ts", table_name="event_data")
    op.drop_index("ix_event_data_ts", table_name="event_data")
    op.drop_table("event_data")
    op.drop_table("event_series")
    op.rename_table("event_old", "event")
    op.create_index("ix_event_space_ts", "event", ["site", "space", "ts"])
    op.create_index("ix_event_device_ts", "event", ["site", "device", "ts"])
    op.create_index("ix_event_ts", "event", ["ts"])
