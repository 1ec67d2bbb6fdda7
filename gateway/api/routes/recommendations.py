"""Recommendations: chronic underuse, right-sizing, ghost bookings to release; no-show figures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from gateway.api.deps import Auth, ClockDep, LiveDep, ReadModelDep

router = APIRouter(prefix="/recommendations", tags=["recommendations"], dependencies=[Auth])


class NoShow(BaseModel):
    required_checkin: int
    released: int
    checked_in: int
    unverified: int
    rate: float | None


class Recommendations(BaseModel):
    start: datetime
    end: datetime
    days: int
    data: list[dict[str, Any]]
    count: int
    no_show: NoShow


@router.get("", response_model=Recommendations)
def recommendations(
    clock: ClockDep,
    live: LiveDep,
    rm: ReadModelDep,
    days: Annotated[int | None, Query(ge=1, le=366)] = None,
) -> Recommendations:
    """Over the last ``days`` (default the lookback setting): underuse, right-size, release."""
    recs = rm.recommendations(clock(), days)
    ns = live.no_show()
    no_show = NoShow(
        required_checkin=ns.required,
        released=ns.released,
        checked_in=ns.checked_in,
        unverified=ns.unverified,
        rate=ns.rate,
    )
    return Recommendations(
        start=datetime.fromtimestamp(recs.start, UTC),
        end=datetime.fromtimestamp(recs.end, UTC),
        days=recs.days,
        data=recs.data,
        count=len(recs.data),
        no_show=no_show,
    )
