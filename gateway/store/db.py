"""Engine factory: SQLite in WAL mode by default, PostgreSQL through the same SQLAlchemy code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import create_engine

from gateway.errors import ConfigError
from gateway.private_files import private_dir, touch_private

# registers the tables (the ingest's, the engine's) on SQLModel.metadata
from gateway.store import (  # noqa: F401
    access_tables,  # noqa: F401
    audit,
    engine_tables,
    member_tables,
    outbox_tables,
    tables,
)


def db_error(err: BaseException) -> str:
    """What went wrong, as the database said it ("database or disk is full"): its first
    line, without the statement, parameters and row context SQLAlchemy and PostgreSQL add
    (a whole batch's values, in logs and /stats)."""
    orig = err.orig if isinstance(err, DBAPIError) and err.orig is not None else err
    return f"{type(orig).__name__}: " + str(orig).strip().split("\n", 1)[0]


def _sqlite_pragmas(busy_timeout_ms: int) -> Any:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if cur.execute("PRAGMA page_count").fetchone()[0] == 0:
            # a new store, before its first table, where it takes effect: the retention pass
            # gives pruned pages back to the disk (an existing store: migrate.reclaimable).
            # Only then: on a store another connection holds, setting it would wait for it.
            cur.execute("PRAGMA auto_vacuum=INCREMENTAL")
        # WAL lets the API read while the writer commits. synchronous=FULL fsyncs the WAL at
        # every commit, so an acknowledged message survives power loss as well as a kill -9
        # (NORMAL would survive the kill but could lose the last commits on power loss);
        # batching keeps it to one fsync per batch.
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        # Speed without touching durability: temp b-trees in memory, a bigger page cache.
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.execute("PRAGMA cache_size=-32000")
        cur.close()

    return on_connect


def sqlite_file(url: str | URL) -> str | None:
    """The database file of a SQLite URL; None for an in-memory one or another backend."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or u.database in (None, "", ":memory:"):
        return None
    return u.database


def create_db_engine(url: str, busy_timeout_ms: int = 5_000) -> Engine:
    """An engine for ``url``; SQLite files get their folder created (0700, the file 0600)
    and WAL switched on.

    ``busy_timeout_ms`` is how long a write waits for a lock held by another connection
    before it fails (and the ingest worker reports the store as failing and retries)."""
    u = make_url(url)
    kwargs: dict[str, Any] = {}
    if u.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {
            "check_same_thread": False,
            "timeout": max(busy_timeout_ms, 1) / 1000,
        }
        path = sqlite_file(u)
        if path is not None:
            # made owner-only before SQLite opens it; its -wal and -shm files take its mode
            db_file = Path(path).expanduser().resolve()
            private_dir(db_file.parent)
            touch_private(db_file)
    elif u.get_backend_name() == "postgresql" and u.get_driver_name() in ("", "psycopg2"):
        u = u.set(drivername="postgresql+psycopg")
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(u, **kwargs)
    except ModuleNotFoundError as err:  # the driver is an optional extra
        raise ConfigError(
            f"database URL {u.get_backend_name()}://... needs the {err.name} driver, which is "
            "not installed: pip install 'gateway[postgres]'"
        ) from err
    if u.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas(busy_timeout_ms))
    return engine
