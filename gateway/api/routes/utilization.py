"""Utilization reports read from the rollups: per space, or grouped by floor, type or site."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel

from gateway.api.deps import Auth, GatewayDep
from gateway.occupancy.report import build_report, group_key, split_window
from gateway.runtime import Gateway
from gateway.store import rollups

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


def epoch(dt: datetime) -> float:
    """Epoch seconds of an ISO-8601 time; a time without offset is UTC."""
    return (dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)).timestamp()


def window_of(gw: Gateway, start: datetime | None, end: datetime | None) -> tuple[float, float]:
    t1 = epoch(end) if end is not None else gw.clock()
    t0 = epoch(start) if start is not None else t1 - DEFAULT_DAYS * 86_400
    if t1 <= t0:
        raise HTTPException(422, "'to' must be after 'from'")
    if t1 - t0 > 3660 * 86_400:  # a report walks the days: bound the work one request asks
        raise HTTPException(422, "the window from 'from' to 'to' may span at most 3660 days")
    return t0, t1


def report(
    gw: Gateway, t0: float, t1: float, group_by: str, space_ids: list[str] | None = None
) -> UtilizationReport:
    b = gw.building
    occ = gw.settings.occupancy
    w = split_window(gw.engine.cal, t0, t1)
    available = gw.engine.cal.open_seconds(w.start, w.end)
    spaces = b.spaces if space_ids is None else {s: b.spaces[s] for s in space_ids}
    # the whole building: read the site's rows by range (build_report keeps only its spaces),
    # which is cheaper than naming every space; a chosen few are read by key
    totals = rollups.space_totals(gw.db, b.site.id, w, None if space_ids is None else list(spaces))
    peaks: dict[str, int] = {}
    if group_by != "space":
        group_of = {sid: group_key(sp, group_by, b.site.id) for sid, sp in spaces.items()}
        peaks = rollups.bucket_peaks(gw.db, b.site.id, w, group_of)
    data = build_report(
        spaces, b.site.id, totals, available, group_by, peaks, occ.band_under_pct, occ.band_over_pct
    )
    return UtilizationReport(
        start=datetime.fromtimestamp(w.start, UTC),
        end=datetime.fromtimestamp(w.end, UTC),
        group_by=group_by,  # type: ignore[arg-type]
        available_s=available,
        data=data,
        count=len(data),
    )


FromQ = Annotated[datetime | None, Query(alias="from", description="ISO-8601; default to-7d")]
ToQ = Annotated[datetime | None, Query(alias="to", description="ISO-8601; default now")]


@router.get("/utilization", response_model=UtilizationReport)
def utilization(
    gw: GatewayDep, start: FromQ = None, end: ToQ = None, group_by: GroupBy = "space"
) -> UtilizationReport:
    """Time used %, occupancy, utilization and band over the window (widened to whole bins)."""
    t0, t1 = window_of(gw, start, end)
    return report(gw, t0, t1, group_by)


@router.get(
    "/spaces/{space_id}/utilization",
    response_model=UtilizationReport,
    responses={404: {"description": "no such space"}},
)
def space_utilization(
    space_id: str, gw: GatewayDep, start: FromQ = None, end: ToQ = None
) -> UtilizationReport:
    """One space's utilization over the window."""
    if space_id not in gw.building.spaces:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no space '{space_id}'")
    t0, t1 = window_of(gw, start, end)
    return report(gw, t0, t1, "space", [space_id])
