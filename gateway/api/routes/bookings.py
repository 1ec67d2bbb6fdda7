"""Bookings: create (409 on overlap), list, read, cancel; the no-show rate.

A member-bound token books, lists, reads and cancels its own member's bookings only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field, ValidationInfo, field_validator

from gateway.api.deps import (
    AppOrStaff,
    CallerMemberFacing,
    ClockDep,
    Principal,
    ServicesDep,
    acting_for,
    owned,
)
from gateway.api.paging import Limit, ServiceOffset
from gateway.api.service_http import Id, PathId, Time, epoch, errors, http_errors, iso
from gateway.facility.service_errors import Invalid
from gateway.facility.services import MemberServices

router = APIRouter(prefix="/bookings", tags=["bookings"])

Status = Literal["booked", "checked_in", "cancelled", "released", "completed"]


class BookingCreate(BaseModel):
    space: Id
    member: Id
    start: Time
    end: Time
    requires_checkin: bool = True

    @field_validator("end")
    @classmethod
    def _after_start(cls, v: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("start")
        if start is not None and epoch(v) <= epoch(start):
            raise ValueError("must be after start")
        return v


class Booking(BaseModel):
    id: str
    space: str
    member: str
    start: datetime
    end: datetime
    status: Status
    requires_checkin: bool
    checked_in_at: datetime | None
    checkin_via: str | None
    released_at: datetime | None
    cancelled_at: datetime | None
    outcome: str | None = Field(description="checked_in, ghost or unverified once decided")
    created_by: str
    created_at: datetime
    source: str = Field(
        "local", description="local, ics:<space> (a room calendar) or platform:<integration>"
    )
    external_id: str | None = Field(None, description="its id at the source")


class Bookings(BaseModel):
    data: list[Booking]
    count: int
    total: int


class SpaceNoShow(BaseModel):
    space: str
    required: int
    released: int
    ghost: int
    unverified: int
    rate: float | None


class NoShowRate(BaseModel):
    start: datetime
    end: datetime
    required: int = Field(description="bookings that required check-in and were decided")
    released: int = Field(description="auto-released as ghost bookings")
    ghost: int = Field(description="nobody came (released or not, per the policy)")
    unverified: int = Field(description="sensors unknown during the grace period")
    rate: float | None = Field(description="released / required; null without bookings")
    by_space: list[SpaceNoShow]


def out(row: dict[str, Any]) -> Booking:
    times = ("start", "end", "checked_in_at", "released_at", "cancelled_at", "created_at")
    return Booking(**{**row, **{k: iso(row[k]) for k in times}})


@router.post(
    "",
    response_model=Booking,
    status_code=status.HTTP_201_CREATED,
    responses=errors(404, 409),
)
def create(body: BookingCreate, services: ServicesDep, caller: CallerMemberFacing) -> Booking:
    """Book a space for a member; 409 when it overlaps a live booking of that space."""
    member = acting_for(caller, body.member)
    assert member is not None
    with http_errors():
        row = services.bookings.create(
            body.space,
            member,
            epoch(body.start),
            epoch(body.end),
            body.requires_checkin,
            caller.name,
        )
    return out(row)


@router.get("", response_model=Bookings)
def list_bookings(
    services: ServicesDep,
    caller: CallerMemberFacing,
    space: Id | None = None,
    member: Id | None = None,
    status: Status | None = None,
    start: Annotated[Time | None, Query(alias="from")] = None,
    end: Annotated[Time | None, Query(alias="to")] = None,
    source: Annotated[str | None, Query(max_length=128, pattern=r"^[^\x00-\x1f]+$")] = None,
    limit: Limit = 100,
    offset: ServiceOffset = 0,
) -> Bookings:
    """Bookings overlapping ``from``-``to``, earliest first; ``source``: local, ics:<space>
    or platform:<integration> only."""
    rows, total = services.bookings.query(
        space=space,
        member=acting_for(caller, member),
        status=status,
        source=source,
        start=None if start is None else epoch(start),
        end=None if end is None else epoch(end),
        limit=limit,
        offset=offset,
    )
    return Bookings(data=[out(r) for r in rows], count=len(rows), total=total)


@router.get("/no-show-rate", response_model=NoShowRate, dependencies=[AppOrStaff])
def no_show_rate(
    services: ServicesDep,
    clock: ClockDep,
    start: Annotated[Time | None, Query(alias="from")] = None,
    end: Annotated[Time | None, Query(alias="to")] = None,
    space: Id | None = None,
) -> NoShowRate:
    """Auto-released / bookings that required check-in, by booking start; default 7 days."""
    t1 = epoch(end) if end is not None else clock()
    t0 = epoch(start) if start is not None else t1 - 7 * 86_400
    with http_errors():
        if t1 <= t0:
            raise Invalid("must be after 'from'", ("query", "to"))
        figures = services.bookings.no_show(t0, t1, space)
    s, e = iso(t0), iso(t1)
    assert s is not None and e is not None
    return NoShowRate(start=s, end=e, **figures)


@router.get("/{booking_id}", response_model=Booking, responses=errors(404))
def get_booking(booking_id: PathId, services: ServicesDep, caller: CallerMemberFacing) -> Booking:
    return out(_visible(services, caller, booking_id))


def _visible(services: MemberServices, caller: Principal, booking_id: str) -> dict[str, Any]:
    """The booking, or 404 when it is not there or not the member-bound caller's own."""
    with http_errors():
        row = services.bookings.get(booking_id)
    if not owned(caller, row["member"]):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no booking {booking_id!r}")
    return row


@router.delete("/{booking_id}", response_model=Booking, responses=errors(404, 409))
def cancel(booking_id: PathId, services: ServicesDep, caller: CallerMemberFacing) -> Booking:
    """Cancel a live booking; the space is bookable again at once."""
    _visible(services, caller, booking_id)
    with http_errors():
        return out(services.bookings.cancel(booking_id, caller.name))
