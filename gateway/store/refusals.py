"""A store that refuses a batch for its data, told apart from one that is down, locked or full."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from gateway.errors import StoreError


class StoreDataError(StoreError):
    """The store refused a batch because of a value in it (a retry would fail the same way)."""


def is_data_error(err: BaseException) -> bool:
    """True when ``err`` is about the values written, not the store's state: a value the
    driver cannot bind, or a data or integrity error of the database (PostgreSQL's classes
    22 and 23). Locks, a full disk and a lost connection are not."""
    if isinstance(err, SQLAlchemyError):
        if isinstance(err, DataError | IntegrityError):
            return True
        orig = getattr(err, "orig", None)
        return isinstance(orig, sqlite3.InterfaceError)  # "Error binding parameter"
    try:
        import psycopg
    except ImportError:  # pragma: no cover - SQLite-only installs
        return isinstance(err, ValueError | OverflowError)
    if isinstance(err, psycopg.Error):
        return isinstance(err, psycopg.DataError | psycopg.IntegrityError)
    # raised while binding, before the database saw the row: a NaN the JSON encoder would
    # not write, an integer too large, a string that is not UTF-8
    return isinstance(err, ValueError | OverflowError)
