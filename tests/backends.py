"""Both store backends in tests: SQLite in a temp folder, PostgreSQL in a database of its own.

``db_url`` is parametrized over ``sqlite`` and ``postgresql``. The PostgreSQL databases are
named ``gw_test_<pid>_<random>`` on the server of ``GATEWAY_TEST_POSTGRES_URL`` and dropped
afterwards, so parallel runs never share one: ``db_url`` gets the test process's migrated
database with every table emptied, ``empty_db_url`` and ``pg_url`` a new, empty database. The
PostgreSQL cases skip with the reason when the variable is unset.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

ENV = "GATEWAY_TEST_POSTGRES_URL"
NO_POSTGRES = (
    f"{ENV} is not set: no PostgreSQL to run against "
    "(.ci/run sets it when a server answers on 127.0.0.1:5432)"
)


def postgres_url() -> str | None:
    return os.environ.get(ENV) or None


_migrated: dict[str, str] = {}  # server dsn -> this process's migrated database


def _url(dsn: str, name: str) -> str:
    return make_url(dsn).set(database=name).render_as_string(hide_password=False)


def _drop(dsn: str, name: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _emptied_migrated(dsn: str) -> str:
    """This process's database at head, with every table emptied for the next test.

    Migrating a new database for every test costs seconds; emptying one (TRUNCATE, identities
    restarted) leaves the same state in milliseconds. A test that left a connection holding
    locks gets a new database instead. It is dropped when the process exits."""
    import atexit

    import psycopg

    from gateway.store import create_db_engine, init_db

    name = _migrated.get(dsn)
    if name is not None:
        try:
            with psycopg.connect(_url(dsn, name), autocommit=True) as conn:
                conn.execute("SET lock_timeout = '5s'")
                tables = [
                    r[0]
                    for r in conn.execute(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                        "AND tablename <> 'alembic_version'"
                    )
                ]
                conn.execute(f"TRUNCATE {', '.join(f'{chr(34)}{t}{chr(34)}' for t in tables)} "
                             "RESTART IDENTITY")  # fmt: skip
            return name
        except psycopg.Error:
            _drop(dsn, name)
    name = f"gw_test_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    if dsn not in _migrated:
        atexit.register(lambda: _migrated.get(dsn) and _drop(dsn, _migrated[dsn]))
    _migrated[dsn] = name
    engine = create_db_engine(_url(dsn, name))
    init_db(engine)
    engine.dispose()
    return name


@contextmanager
def fresh_postgres(migrated: bool = False) -> Iterator[str]:
    """A database of its own on the test server for one test: new and empty, or
    (``migrated``) at head with empty tables; yields its URL."""
    admin = postgres_url()
    if admin is None:
        pytest.skip(NO_POSTGRES)
    dsn = make_url(admin).set(drivername="postgresql").render_as_string(hide_password=False)
    if migrated:
        yield _url(dsn, _emptied_migrated(dsn))
        return
    import psycopg

    name = f"gw_test_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _url(dsn, name)
    finally:
        _drop(dsn, name)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store URL on each backend: a fresh SQLite file, or a PostgreSQL database of this
    test process at head with every table empty."""
    yield from _store(request.param, tmp_path, migrated=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store URL on each backend with nothing in it (for the migration tests)."""
    yield from _store(request.param, tmp_path, migrated=False)


def _store(backend: str, tmp_path: Path, migrated: bool) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/store.db"
        return
    if postgres_url() is None:
        pytest.skip(NO_POSTGRES)
    with fresh_postgres(migrated=migrated) as url:
        yield url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database only (for tests about sharing one store)."""
    if postgres_url() is None:
        pytest.skip(NO_POSTGRES)
    with fresh_postgres() as url:
        yield url
