"""Migrations build exactly the tables declared in code, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from gateway.store import migrate
from gateway.store.db import create_db_engine, init_db


def drift(url: str) -> list[Any]:
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(ctx, SQLModel.metadata))
    finally:
        engine.dispose()


def describe(diffs: list[Any]) -> str:
    """Which tables need a revision, then every other difference."""
    tables = sorted(d[1].name for d in diffs if isinstance(d, tuple) and d[0] == "add_table")
    rest = [
        d
        for d in diffs
        if not (isinstance(d, tuple) and d[0] in ("add_table", "add_index"))
        or (d[0] == "add_index" and d[1].table.name not in tables)
    ]
    return (
        f"tables without a migration: {tables}; other differences: {rest}. "
        "Write a revision: .venv/bin/gateway db revision -m '<what changed>'"
    )


def test_upgrade_builds_exactly_the_tables_in_code(empty_db_url: str) -> None:
    engine = create_db_engine(empty_db_url)
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.head()
    engine.dispose()
    diffs = drift(empty_db_url)
    assert diffs == [], describe(diffs)


def test_an_older_create_all_store_is_adopted_and_upgraded(empty_db_url: str) -> None:
    """A store made before migrations (tables, no alembic_version) keeps its rows."""
    engine = create_db_engine(empty_db_url)
    migrate.upgrade(engine, migrate.BASELINE)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(text("INSERT INTO site (id, name, timezone) VALUES ('hq', 'HQ', 'UTC')"))
        conn.execute(
            text("INSERT INTO ingestfingerprint (client, mid, digest) VALUES ('gw', 7, -5)")
        )
    assert migrate.current(engine) is None
    init_db(engine)
    assert migrate.current(engine) == migrate.head()
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT site, client, mid, digest FROM ingestfingerprint")).all()
    # the single site of an older store owns its redelivery records
    assert [tuple(r) for r in rows] == [("hq", "gw", 7, -5)]
    init_db(engine)  # a second start changes nothing
    assert migrate.current(engine) == migrate.head()
    engine.dispose()


def test_downgrade_to_base_removes_every_migrated_table(empty_db_url: str) -> None:
    engine = create_db_engine(empty_db_url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        from alembic import command

        command.downgrade(migrate.config(conn), "base")
    with engine.connect() as conn:
        left = set(inspect(conn).get_table_names())
    assert left <= {"alembic_version"}, left
    engine.dispose()
