"""PostgreSQL's fastest bulk path for the batch writer: ``COPY .. FROM STDIN`` (psycopg 3)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.engine import Connection

from gateway.errors import StoreError
from gateway.store.db import db_error
from gateway.store.refusals import StoreDataError, is_data_error


def copy_rows(
    conn: Connection, table: str, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]
) -> None:
    """Stream ``rows`` into ``table`` inside the connection's open transaction.

    One COPY carries a whole batch in a single round trip with no per-row statement; the
    rows commit or roll back with the rest of the batch. JSON columns take JSON text."""
    import psycopg

    raw: Any = conn.connection.dbapi_connection
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    try:
        with raw.cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as err:
        kind = StoreDataError if is_data_error(err) else StoreError
        raise kind(f"COPY into {table} failed: {db_error(err)}") from err
