"""Spaces and their live state."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, status

from gateway.api.deps import Auth, GatewayDep
from gateway.api.schemas import SpacePublic, SpacesPublic, iso, space_fields
from gateway.runtime import Gateway

router = APIRouter(prefix="/spaces", tags=["spaces"], dependencies=[Auth])


def space_public(gw: Gateway, space_id: str, now: float) -> SpacePublic:
    sp = gw.building.spaces[space_id]
    v = gw.engine.view(space_id, now)
    since = iso(v.since)
    assert since is not None
    return SpacePublic(
        **space_fields(sp),
        state=v.state,  # type: ignore[arg-type]
        occupancy=v.occupancy,
        since=since,
        idle=v.idle,
    )


@router.get("", response_model=SpacesPublic)
def list_spaces(
    gw: GatewayDep,
    floor: str | None = None,
    type: str | None = None,  # noqa: A002 - the public query name
    state: Literal["occupied", "vacant", "unknown"] | None = None,
) -> SpacesPublic:
    """Every space with its live state; filter by floor, type or state."""
    now = gw.clock()
    with gw.state_lock:
        data = [
            space_public(gw, sid, now)
            for sid, sp in gw.building.spaces.items()
            if (floor is None or sp.floor == floor) and (type is None or sp.type == type)
        ]
    if state is not None:
        data = [s for s in data if s.state == state]
    return SpacesPublic(data=data, count=len(data))


@router.get(
    "/{space_id}", response_model=SpacePublic, responses={404: {"description": "no such space"}}
)
def get_space(space_id: str, gw: GatewayDep) -> SpacePublic:
    """One space with its live state."""
    if space_id not in gw.building.spaces:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no space '{space_id}'")
    with gw.state_lock:
        return space_public(gw, space_id, gw.clock())
