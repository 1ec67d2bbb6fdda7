"""Reading the services' tables: one row by id, or a filtered page and its total."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Table, func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import UnaryExpression

from gateway.facility.service_errors import NotFound


def where(table: Table, site: str, **equal: Any) -> list[ColumnElement[bool]]:
    """The site's rows whose columns equal each value given (None: any)."""
    c = table.c
    return [c.site == site, *(c[k] == v for k, v in equal.items() if v is not None)]


def one(conn: Connection, table: Table, site: str, key: object, missing: str) -> dict[str, Any]:
    """The site's row with this id; NotFound saying ``missing`` when there is none."""
    r = conn.execute(select(table).where(table.c.site == site, table.c.id == key)).first()
    if r is None:
        raise NotFound(missing)
    return dict(r._mapping)


def page(
    db: Engine,
    table: Table,
    conds: list[ColumnElement[bool]],
    order: tuple[ColumnElement[Any] | UnaryExpression[Any], ...],
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """The rows matching ``conds`` in ``order``, ``limit`` from ``offset``; and how many match."""
    with db.connect() as conn:
        total = conn.execute(select(func.count()).where(*conds)).scalar_one()
        rows = conn.execute(
            select(table).where(*conds).order_by(*order).limit(limit).offset(offset)
        ).all()
    return [dict(r._mapping) for r in rows], int(total)
