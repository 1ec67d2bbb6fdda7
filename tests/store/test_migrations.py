"""Migrations build exactly the tables declared in code, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from gateway.store import create_db_engine, init_db, migrate
from gateway.store.redelivery import unpack


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
        rows = conn.execute(text("SELECT site, client, fingerprints FROM ingest_record")).all()
    # the single site of an older store owns its redelivery records
    assert [(s, c, unpack(bytes(b))) for s, c, b in rows] == [("hq", "gw", [(7, -5)])]
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


def schema(url: str) -> dict[str, Any]:
    """Every table's columns (name, type, nullable), primary key, indexes and unique keys."""
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            i = inspect(conn)
            return {
                t: (
                    # by name: a column added by a later script comes last there, and every
                    # statement of the gateway names its columns
                    sorted((c["name"], str(c["type"]), c["nullable"]) for c in i.get_columns(t)),
                    i.get_pk_constraint(t)["constrained_columns"],
                    sorted(
                        (x["name"], tuple(x["column_names"]), bool(x["unique"]))
                        for x in i.get_indexes(t)
                    ),  # fmt: skip
                    sorted(tuple(u["column_names"]) for u in i.get_unique_constraints(t)),
                )
                for t in sorted(i.get_table_names())
            }
    finally:
        engine.dispose()


def test_head_names_the_newest_script() -> None:
    assert migrate.head() == migrate.HEAD


def test_a_new_store_gets_the_same_schema_as_the_scripts_build(tmp_path: Path) -> None:
    """Start-up creates an empty store from the tables in code and stamps it head."""
    scripted, quick = f"sqlite:///{tmp_path}/scripted.db", f"sqlite:///{tmp_path}/quick.db"
    engine = create_db_engine(scripted)
    migrate.upgrade(engine)
    engine.dispose()
    engine = create_db_engine(quick)
    init_db(engine)
    assert migrate.current(engine) == migrate.head()
    engine.dispose()
    assert schema(quick) == schema(scripted)


def test_a_new_store_on_either_backend_matches_the_code_and_is_at_head(empty_db_url: str) -> None:
    engine = create_db_engine(empty_db_url)
    init_db(engine)
    assert migrate.current(engine) == migrate.head()
    engine.dispose()
    diffs = drift(empty_db_url)
    assert diffs == [], describe(diffs)


def test_starting_on_a_store_at_head_does_not_load_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/g.db"
    script = (
        "import sys\n"
        "from gateway.store import create_db_engine, init_db\n"
        f"init_db(create_db_engine({url!r}))\n"
        "print('alembic' in sys.modules)\n"
    )
    runs = [
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
        for _ in range(2)
    ]
    assert [r.stdout.strip() for r in runs] == ["False", "False"]  # new store, then at head
