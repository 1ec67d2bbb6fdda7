"""Alembic environment: the gateway's tables as the target, its engine factory for the URL."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from gateway.store import db as _db  # registers every table on SQLModel.metadata

config = context.config


def _run(conn: Connection) -> None:
    context.configure(
        connection=conn,
        target_metadata=SQLModel.metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode rebuilds the table there instead
        render_as_batch=conn.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    conn = config.attributes.get("connection")
    if conn is not None:  # called from gateway.store.migrate with the gateway's connection
        _run(conn)
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get(
        "GATEWAY_DATABASE_URL", "sqlite:///./gateway.db"
    )
    engine = _db.create_db_engine(url)
    try:
        with engine.begin() as c:
            _run(c)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them on a database")
run_online()
