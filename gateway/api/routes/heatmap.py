"""The utilization heatmap: time used % by space, floor or type x local hour of day."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from gateway.api.deps import Auth, ClockDep, ReadModelDep
from gateway.api.routes.utilization import window_of

router = APIRouter(tags=["utilization"], dependencies=[Auth])

MAX_DAYS = 366


class HeatmapPublic(BaseModel):
    start: datetime
    end: datetime
    by: Literal["space", "floor", "type"]
    hours: list[int]
    available_s: list[float]
    rows: list[dict[str, Any]]


@router.get(
    "/utilization/heatmap",
    response_model=HeatmapPublic,
    responses={422: {"description": "bad window or row kind"}},
)
async def utilization_heatmap(
    clock: ClockDep,
    rm: ReadModelDep,
    start: Annotated[datetime | None, Query(alias="from", description="default to-7d")] = None,
    end: Annotated[datetime | None, Query(alias="to", description="ISO-8601; default now")] = None,
    by: Literal["space", "floor", "type"] = "space",
) -> HeatmapPublic:
    """Rows (spaces, floors or types) x open local hours; cells are time used % or null.

    A window longer than 366 days is cut to its last 366 days.
    """
    t0, t1 = window_of(clock, start, end)
    t0 = max(t0, t1 - MAX_DAYS * 86_400)
    try:
        hm = await run_in_threadpool(rm.heatmap, t0, t1, by)
    except (OverflowError, ValueError, OSError) as err:  # dates past what the calendar holds
        raise HTTPException(422, f"the window is outside the supported dates: {err}") from err
    return HeatmapPublic.model_validate(hm, from_attributes=True)  # epoch seconds: UTC times
