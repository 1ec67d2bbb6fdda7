"""Paging of list endpoints: how many rows a filtered query selects before limit and offset."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


def count_rows(session: Session, q: Select[Any]) -> int:
    """The number of rows ``q`` selects (its ``total`` beside one page of ``data``)."""
    return int(session.execute(select(func.count()).select_from(q.subquery())).scalar_one())
