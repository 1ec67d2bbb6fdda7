"""Get-or-404, filter, and list-and-paginate, as every route does them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import HTTPException, Query, status
from sqlalchemy import Select, func, literal, select
from sqlalchemy.orm import Session
from sqlmodel import Session as ModelSession

from gateway.timefmt import epoch

T = TypeVar("T")
Q = TypeVar("Q", bound=Select[Any])

Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=2**62)]  # the store takes 64-bit ints; beyond, none can
ServiceOffset = Annotated[int, Query(ge=0, le=1_000_000)]  # the member services' lists


def found(value: T | None, detail: str) -> T:
    """``value``, or a 404 with ``detail`` when there is none."""
    if value is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail)
    return value


def count_rows(session: Session, q: Select[Any], cap: int | None = None) -> int:
    """The number of rows ``q`` selects (its ``total`` beside one page of ``data``); with
    ``cap``, counted no further than ``cap`` (a count reads every row it counts)."""
    if cap is not None:
        # its FROM kept: a select with no WHERE would otherwise count one row
        q = q.with_only_columns(literal(1), maintain_column_froms=True).limit(cap)
    return int(session.execute(select(func.count()).select_from(q.subquery())).scalar_one())


def page(
    session: ModelSession,
    q: Any,
    order: Sequence[Any],
    limit: int,
    offset: int,
    *,
    count_cap: int | None = None,
) -> tuple[list[Any], int]:
    """One page of what ``q`` selects in ``order`` (models for a model's select, rows for a
    table's), and how many rows it selects in all (at most ``count_cap``, when given)."""
    total = count_rows(session, q, count_cap)
    rows = session.exec(q.order_by(*order).offset(offset).limit(limit)).all()
    return list(rows), total


def where_given(q: Q, *pairs: tuple[Any, object]) -> Q:
    """``q`` narrowed to ``column == value`` for each ``(column, value)`` whose value is given."""
    for column, value in pairs:
        if value is not None:
            q = q.where(column == value)
    return q


def in_window(q: Q, column: Any, start: datetime | None, end: datetime | None) -> Q:
    """``q`` narrowed to ``start <= column < end``, for the bounds given."""
    if start is not None:
        q = q.where(column >= epoch(start))
    if end is not None:
        q = q.where(column < epoch(end))
    return q
