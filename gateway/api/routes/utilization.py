"""Utilization reports read from the rollups: per space, or grouped by floor, type or site."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel

from gateway.api.deps import Auth, ClockDep, ReadModelDep
from gateway.readmodel.utilization import Report
from gateway.timefmt import epoch

router = APIRouter(tags=["utilization"], dependencies=[Auth])

GroupBy = Literal["space", "floor", "type", "site"]
DEFAULT_DAYS = 7


class UtilizationReport(BaseModel):
    start: datetime
    end: datetime
    group_by: GroupBy
    available_s: float
    data: list[dict[str, Any]]
    count: int

    @classmethod
    def of(cls, r: Report) -> UtilizationReport:
        return cls(
            start=datetime.fromtimestamp(r.start, UTC),
            end=datetime.fromtimestamp(r.end, UTC),
            group_by=r.group_by,  # type: ignore[arg-type]
            available_s=r.available_s,
            data=r.rows,
            count=len(r.rows),
        )


def window_of(
    clock: Callable[[], float], start: datetime | None, end: datetime | None
) -> tuple[float, float]:
    """The asked window in epoch seconds (default: the last 7 days); 422 when it is not one."""
    t1 = epoch(end) if end is not None else clock()
    t0 = epoch(start) if start is not None else t1 - DEFAULT_DAYS * 86_400
    if t1 <= t0:
        raise HTTPException(422, "'to' must be after 'from'")
    if t1 - t0 > 3660 * 86_400:  # a report walks the days: bound the work one request asks
        raise HTTPException(422, "the window from 'from' to 'to' may span at most 3660 days")
    return t0, t1


FromQ = Annotated[datetime | None, Query(alias="from", description="ISO-8601; default to-7d")]
ToQ = Annotated[datetime | None, Query(alias="to", description="ISO-8601; default now")]


@router.get("/utilization", response_model=UtilizationReport)
def utilization(
    clock: ClockDep,
    rm: ReadModelDep,
    start: FromQ = None,
    end: ToQ = None,
    group_by: GroupBy = "space",
) -> UtilizationReport:
    """Time used %, occupancy, utilization and band over the window (widened to whole bins)."""
    t0, t1 = window_of(clock, start, end)
    return UtilizationReport.of(rm.utilization(t0, t1, group_by))


@router.get(
    "/spaces/{space_id}/utilization",
    response_model=UtilizationReport,
    responses={404: {"description": "no such space"}},
)
def space_utilization(
    space_id: str, clock: ClockDep, rm: ReadModelDep, start: FromQ = None, end: ToQ = None
) -> UtilizationReport:
    """One space's utilization over the window."""
    if space_id not in rm.building.spaces:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no space '{space_id}'")
    t0, t1 = window_of(clock, start, end)
    return UtilizationReport.of(rm.utilization(t0, t1, "space", [space_id]))
