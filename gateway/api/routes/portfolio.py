"""The portfolio across every site in the store: utilization and idle spaces per site."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from gateway.api.deps import ClockDep, ReadModelDep, StaffRead
from gateway.api.routes.utilization import FromQ, ToQ, window_of

router = APIRouter(prefix="/portfolio", tags=["portfolio"], dependencies=[StaffRead])


class PortfolioReport(BaseModel):
    start: datetime
    end: datetime
    data: list[dict[str, Any]]
    count: int


@router.get("", response_model=PortfolioReport)
def get_portfolio(
    clock: ClockDep, rm: ReadModelDep, start: FromQ = None, end: ToQ = None
) -> PortfolioReport:
    """Per site: time used %, coverage, average/peak occupancy and utilization, band (each
    site's own business hours), and its idle spaces now (as of that site's last save)."""
    t0, t1 = window_of(clock, start, end)
    w0, w1, rows = rm.portfolio(t0, t1)
    return PortfolioReport(
        start=datetime.fromtimestamp(w0, UTC),
        end=datetime.fromtimestamp(w1, UTC),
        data=rows,
        count=len(rows),
    )
