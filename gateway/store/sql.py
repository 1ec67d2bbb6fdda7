"""Multi-row statements for the store: the driver-level insert of the hot path, the upsert."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from itertools import chain
from typing import Any

from sqlalchemy import Table, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

PAD_STEP = 256  # rows: statement sizes are powers of two up to this, then multiples of it
MAX_PARAMS = 30_000  # bound values per statement: under SQLite's limit since 3.32 (32,766)
_param_limit: int | None = None


def insert_rows(conn: Connection, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]],
                suffix: str = "") -> None:  # fmt: skip
    """Multi-row ``INSERT .. SELECT .. FROM (VALUES (..), (..))`` at the driver level (SQLite,
    qmark style), in as few statements as the bound-value limit allows (one for a usual
    batch).

    sqlite3 releases the GIL for each statement step and must take it back afterwards; while
    the decoding thread holds it, that can take a whole switch interval (5 ms). executemany
    steps once per row, and even chunks of 200 rows spent most of a batch's commit in that
    wait (``bench/ingest.py``): one statement per batch waits once. Each statement is padded
    to one of a few sizes with rows whose leading marker is NULL (the SELECT leaves them
    out), so sqlite3's statement cache holds a few prepared statements instead of one per
    batch size (each is large)."""
    width = len(columns) + 1  # the marker, then the columns
    one = f"({', '.join('?' * width)})"
    picked = ", ".join(f"column{i}" for i in range(2, width + 1))
    head = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {picked} FROM (VALUES "
    tail = ") WHERE column1 IS NOT NULL" + suffix
    per = max(1, _params_allowed(conn) // width)
    for i in range(0, len(rows), per):
        chunk = rows[i : i + per]
        size = _padded(len(chunk), per)
        pad = (None,) * (width * (size - len(chunk)))
        sql = head + ", ".join([one] * size) + tail
        conn.exec_driver_sql(sql, (*chain.from_iterable((1, *r) for r in chunk), *pad))


def _padded(n: int, most: int) -> int:
    """``n`` rounded up to a power of two up to 256 rows, then to a multiple of 256."""
    size = 1 << max(0, n - 1).bit_length() if n <= PAD_STEP else -(-n // PAD_STEP) * PAD_STEP
    return min(size, most)


def _params_allowed(conn: Connection) -> int:
    """Bound values one statement may carry here (the SQLite library's own limit, read once)."""
    global _param_limit
    if _param_limit is None:
        raw = conn.connection.dbapi_connection
        getlimit = getattr(raw, "getlimit", None)
        limit = getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if getlimit is not None else 999
        _param_limit = min(MAX_PARAMS, limit)
    return _param_limit


def upsert_rows(
    conn: Connection,
    table: Table,
    keys: Sequence[str],
    rows: list[dict[str, Any]],
    insert_only: tuple[str, ...] = (),
) -> None:
    """INSERT .. ON CONFLICT (``keys``) DO UPDATE for SQLite or PostgreSQL, of rows with the
    same columns, as one statement executed for all of them; ``insert_only`` columns are
    written for a new row and left alone on an existing one."""
    if not rows:
        return
    ins: Any = (
        postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)
    )
    cols = [k for k in rows[0] if k not in keys and k not in insert_only]
    conn.execute(
        ins.on_conflict_do_update(
            index_elements=list(keys), set_={c: getattr(ins.excluded, c) for c in cols}
        ),
        rows,
    )


def device_upsert(devices: Table, dialect: str) -> Any:
    """The device rows' upsert: a batch that heard no availability keeps the stored one."""
    ins: Any = postgresql.insert(devices) if dialect == "postgresql" else sqlite.insert(devices)
    ex = ins.excluded
    return ins.on_conflict_do_update(
        index_elements=["site", "id"],
        set_={
            "profile": ex.profile,
            "space": ex.space,
            "bound": ex.bound,
            "online": func.coalesce(ex.online, devices.c.online),
            "first_seen": ex.first_seen,
            "last_seen": ex.last_seen,
            "readings": ex.readings,
        },
    )
