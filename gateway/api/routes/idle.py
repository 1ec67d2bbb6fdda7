"""Spaces free right now (with since-when; for a member, those they may use), idle episodes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlmodel import col, select

from gateway.api.deps import (
    AccessDep,
    AppOrStaff,
    ClockDep,
    ConfigDep,
    LiveDep,
    SessionDep,
    StaffRead,
)
from gateway.api.paging import Limit, Offset, found, page, where_given
from gateway.api.routes.utilization import FromQ, ToQ
from gateway.api.schemas import SpaceBase, iso, space_fields
from gateway.store.engine_tables import IdleEpisodeRow
from gateway.timefmt import epoch

router = APIRouter(prefix="/idle", tags=["idle"])


class FreeSpace(SpaceBase):
    vacant_since: datetime
    idle: bool
    idle_since: datetime | None


class FreeSpaces(BaseModel):
    data: list[FreeSpace]
    count: int


class Episode(BaseModel):
    space: str
    start: datetime
    end: datetime | None
    opened_at: datetime
    duration_s: float | None


class Episodes(BaseModel):
    data: list[Episode]
    count: int
    total: int


@router.get(
    "",
    response_model=FreeSpaces,
    dependencies=[AppOrStaff],
    responses={404: {"description": "unknown member"}},
)
def free_now(
    live: LiveDep,
    config: ConfigDep,
    access: AccessDep,
    clock: ClockDep,
    idle: bool | None = None,
    type: str | None = None,  # noqa: A002 - the public query name
    floor: str | None = None,
    member: Annotated[
        str | None, Query(description="only spaces bookable or covered by this member's plan")
    ] = None,
) -> FreeSpaces:
    """Vacant spaces now; ``idle=true`` keeps those vacant for idle_after in business hours."""
    if member is not None:
        found(access.directory.get(member), f"unknown member {member!r}")
    views = live.free_now(clock())
    data = []
    building = config.get().building
    for v in views:
        sp = building.spaces[v.id]
        if (idle is not None and v.idle != idle) or (type and sp.type != type):
            continue
        if floor and sp.floor != floor:
            continue
        if member is not None and not (sp.bookable or access.directory.covers(member, sp.id)[0]):
            continue
        since = iso(v.since)
        assert since is not None
        data.append(
            FreeSpace(
                **space_fields(building, sp),
                vacant_since=since,
                idle=v.idle,
                idle_since=iso(v.idle_since),
            )
        )
    data.sort(key=lambda f: f.vacant_since)
    return FreeSpaces(data=data, count=len(data))


@router.get("/episodes", response_model=Episodes, dependencies=[StaffRead])
def episodes(
    config: ConfigDep,
    session: SessionDep,
    space: str | None = None,
    start: FromQ = None,
    end: ToQ = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Episodes:
    """Idle episodes, newest first; ``from``/``to`` select episodes overlapping the window."""
    q = select(IdleEpisodeRow).where(IdleEpisodeRow.site == config.get().building.site.id)
    q = where_given(q, (IdleEpisodeRow.space, space))
    if end is not None:
        q = q.where(col(IdleEpisodeRow.start) < epoch(end))
    if start is not None:
        t0 = epoch(start)
        q = q.where((col(IdleEpisodeRow.end).is_(None)) | (col(IdleEpisodeRow.end) > t0))
    rows, total = page(session, q, [col(IdleEpisodeRow.start).desc()], limit, offset)
    data = []
    for r in rows:
        s, o = iso(r.start), iso(r.opened_at)
        assert s is not None and o is not None
        dur = None if r.end is None else r.end - r.start
        data.append(Episode(space=r.space, start=s, end=iso(r.end), opened_at=o, duration_s=dur))
    return Episodes(data=data, count=len(data), total=total)
