"""Recommendations: chronic underuse, right-sizing, ghost bookings to release; no-show figures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlmodel import col, select

from gateway.api.deps import Auth, GatewayDep, SessionDep
from gateway.api.schemas import iso
from gateway.occupancy.recommend import recommend
from gateway.occupancy.report import split_window
from gateway.store import rollups
from gateway.store.engine_tables import FindingRow

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
    gw: GatewayDep,
    session: SessionDep,
    days: Annotated[int | None, Query(ge=1, le=366)] = None,
) -> Recommendations:
    """Over the last ``days`` (default the lookback setting): underuse, right-size, release."""
    occ = gw.settings.occupancy
    n = days or occ.lookback_days
    now = gw.clock()
    w = split_window(gw.engine.cal, now - n * 86_400, now)
    available = gw.engine.cal.open_seconds(w.start, w.end)
    site = gw.building.site.id
    totals = rollups.space_totals(gw.db, site, w, hist=True)
    data = recommend(
        gw.building.spaces, totals, available, n, occ.underuse_pct, occ.rightsize_ratio
    )
    rows = session.exec(
        select(FindingRow)
        .where(FindingRow.site == site, col(FindingRow.detected_at) >= w.start)
        .order_by(col(FindingRow.detected_at).desc())
    ).all()
    for f in rows:
        sp = gw.building.spaces.get(f.space)
        data.append(
            {
                "space": f.space,
                "name": sp.name if sp else f.space,
                "type": sp.type if sp else None,
                "floor": sp.floor if sp else None,
                "kind": "release_booking" if f.kind == "ghost_booking" else f.kind,
                "suggestion": (
                    "nobody came: release the booking and offer the room"
                    if f.kind == "ghost_booking"
                    else "no working sensor during the grace period: check the room"
                ),
                "figures": {
                    "booking": f.ref,
                    "start": iso(f.start),
                    "end": iso(f.end),
                    "detected_at": iso(f.detected_at),
                    **(f.details or {}),
                },
            }
        )
    with gw.state_lock:
        ns = gw.engine.no_show
        no_show = NoShow(
            required_checkin=ns.required,
            released=ns.released,
            checked_in=ns.checked_in,
            unverified=ns.unverified,
            rate=ns.rate,
        )
    return Recommendations(
        start=datetime.fromtimestamp(w.start, UTC),
        end=datetime.fromtimestamp(w.end, UTC),
        days=n,
        data=data,
        count=len(data),
        no_show=no_show,
    )
