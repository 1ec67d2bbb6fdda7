"""Spaces and their live state."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from gateway.api.deps import Auth, ClockDep, ConfigDep, LiveDep
from gateway.api.paging import found
from gateway.api.schemas import SpacePublic, SpacesPublic, iso, space_fields
from gateway.building import Building
from gateway.occupancy.live import SpaceView

router = APIRouter(prefix="/spaces", tags=["spaces"], dependencies=[Auth])


def space_public(building: Building, v: SpaceView) -> SpacePublic:
    sp = building.spaces[v.id]
    since = iso(v.since)
    assert since is not None
    return SpacePublic(
        **space_fields(building, sp),
        state=v.state,  # type: ignore[arg-type]
        occupancy=v.occupancy,
        since=since,
        idle=v.idle,
    )


@router.get("", response_model=SpacesPublic)
def list_spaces(
    live: LiveDep,
    config: ConfigDep,
    clock: ClockDep,
    floor: str | None = None,
    type: str | None = None,  # noqa: A002 - the public query name
    state: Literal["occupied", "vacant", "unknown"] | None = None,
) -> SpacesPublic:
    """Every space with its live state; filter by floor, type or state."""
    b = config.get().building
    wanted = [
        sid
        for sid, sp in b.spaces.items()
        if (floor is None or sp.floor == floor) and (type is None or sp.type == type)
    ]
    data = [space_public(b, v) for v in live.space_views(wanted, clock())]
    if state is not None:
        data = [s for s in data if s.state == state]
    return SpacesPublic(data=data, count=len(data))


@router.get(
    "/{space_id}", response_model=SpacePublic, responses={404: {"description": "no such space"}}
)
def get_space(space_id: str, live: LiveDep, config: ConfigDep, clock: ClockDep) -> SpacePublic:
    """One space with its live state."""
    b = config.get().building
    found(b.spaces.get(space_id), f"no space '{space_id}'")
    return space_public(b, live.space_view(space_id, clock()))
