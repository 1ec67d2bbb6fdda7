"""The portfolio across every site in the store: utilization and idle spaces per site."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from gateway.api.deps import GatewayDep, StaffRead
from gateway.api.routes.utilization import FromQ, ToQ, window_of
from gateway.store.portfolio import portfolio

router = APIRouter(prefix="/portfolio", tags=["portfolio"], dependencies=[StaffRead])


class PortfolioReport(BaseModel):
    start: datetime
    end: datetime
    data: list[dict[str, Any]]
    count: int


@router.get("", response_model=PortfolioReport)
def get_portfolio(gw: GatewayDep, start: FromQ = None, end: ToQ = None) -> PortfolioReport:
    """Per site: time used %, coverage, average/peak occupancy and utilization, band (each
    site's own business hours), and its idle spaces now (as of that site's last save)."""
    t0, t1 = window_of(gw, start, end)
    occ = gw.settings.occupancy
    b = occ.bin_s
    rows = portfolio(gw.db, t0, t1, b, occ.band_under_pct, occ.band_over_pct)
    return PortfolioReport(
        start=datetime.fromtimestamp((t0 // b) * b, UTC),
        end=datetime.fromtimestamp(-(-t1 // b) * b, UTC),
        data=rows,
        count=len(rows),
    )
