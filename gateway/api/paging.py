"""Get-or-404 and list-and-paginate, as every route does them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from fastapi import HTTPException, status
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from sqlmodel import Session as ModelSession

T = TypeVar("T")


def found(value: T | None, detail: str) -> T:
    """``value``, or a 404 with ``detail`` when there is none."""
    if value is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail)
    return value


def count_rows(session: Session, q: Select[Any]) -> int:
    """The number of rows ``q`` selects (its ``total`` beside one page of ``data``)."""
    return int(session.execute(select(func.count()).select_from(q.subquery())).scalar_one())


def page(
    session: ModelSession, q: Any, order: Sequence[Any], limit: int, offset: int
) -> tuple[list[Any], int]:
    """One page of what ``q`` selects in ``order`` (models for a model's select, rows for a
    table's), and how many rows it selects in all."""
    total = count_rows(session, q)
    rows = session.exec(q.order_by(*order).offset(offset).limit(limit)).all()
    return list(rows), total
