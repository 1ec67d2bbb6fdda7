"""Where a benchmark's gateway keeps its store: a SQLite file, or a fresh PostgreSQL database.

``database(work, tag)`` names the store of one run: a file in the run's folder, or, once
``use_server(url)`` was called, a new database ``gw_bench_<pid>_<tag>`` on that PostgreSQL
server (all dropped by ``drop_all``). ``Reader`` reads either back with plain SQL.
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

_server: str | None = None
_created: list[str] = []


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def use_server(url: str | None) -> None:
    """Put the runs' stores on this PostgreSQL server (None: SQLite files)."""
    global _server
    _server = url


def database(work: Path, tag: str) -> str:
    """The database URL for one run, created empty."""
    if _server is None:
        return f"sqlite:///{work}/{tag}.db"
    import psycopg

    name = f"gw_bench_{os.getpid()}_{re.sub(r'[^a-z0-9_]', '_', tag.lower())}"
    with psycopg.connect(_dsn(_server), autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{name}"')
    _created.append(name)
    return make_url(_dsn(_server)).set(database=name).render_as_string(hide_password=False)


def drop_all() -> None:
    """Drop the PostgreSQL databases this process created."""
    if _server is None:
        return
    import psycopg

    with psycopg.connect(_dsn(_server), autocommit=True) as c:
        while _created:
            c.execute(f'DROP DATABASE IF EXISTS "{_created.pop()}" WITH (FORCE)')


class Reader:
    """Plain SQL reads (``?`` placeholders) of a run's store, seeing each new commit."""

    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite")
        self.conn: Any
        if self.sqlite:
            self.conn = sqlite3.connect(make_url(url).database or "", timeout=1)
        else:
            import psycopg

            self.conn = psycopg.connect(_dsn(url), autocommit=True)

    def rows(self, sql: str, params: tuple[Any, ...] = (), missing_ok: bool = False) -> list[Any]:
        """The rows; with ``missing_ok``, none while the gateway has not made its tables."""
        if not self.sqlite:
            sql = sql.replace("?", "%s")
        try:
            return list(self.conn.execute(sql, params).fetchall())
        except Exception:
            if missing_ok:
                return []
            raise

    def close(self) -> None:
        self.conn.close()


def ready(url: str) -> bool:
    """Whether the gateway has created its tables in the store yet."""
    if url.startswith("sqlite") and not Path(make_url(url).database or "").exists():
        return False
    r = Reader(url)
    try:
        return bool(r.rows("SELECT count(*) FROM event", missing_ok=True))
    finally:
        r.close()
