"""SQLModel tables of the member services: bookings, print jobs, alerts and work orders."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, Index, Table
from sqlmodel import Field, SQLModel


class BookingRow(SQLModel, table=True):
    """A room or desk booking; live while ``booked`` or ``checked_in``."""

    __tablename__ = "booking"
    __table_args__ = (
        Index("ix_booking_site_space_start", "site", "space", "start"),
        Index("ix_booking_site_member", "site", "member"),
        Index("ix_booking_site_source_external", "site", "source", "external_id"),
    )

    site: str = Field(primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=64)
    space: str = Field(max_length=64)
    member: str = Field(max_length=64)
    start: float
    end: float
    status: str = Field(max_length=16)  # booked, checked_in, cancelled, released, completed
    requires_checkin: bool = True
    checked_in_at: float | None = None
    checkin_via: str | None = Field(default=None, max_length=16)  # presence, badge
    released_at: float | None = None
    cancelled_at: float | None = None
    # the presence verdict at start + grace: checked_in, ghost, unverified (sensors unknown)
    outcome: str | None = Field(default=None, max_length=16)
    created_by: str = Field(max_length=128)
    created_at: float
    # where it came from: local (the gateway's API), ics:<space> (a room calendar) or
    # platform:<integration> (a booking-platform webhook); external_id is the id it has there
    source: str = Field(default="local", max_length=128)
    external_id: str | None = Field(default=None, max_length=255)
    # the source's own last-modified time, so an older update arriving late changes nothing
    source_updated_at: float | None = None


class PrintJobRow(SQLModel, table=True):
    """A print job's lifecycle as its printer and the release requests tell it."""

    __tablename__ = "print_job"
    __table_args__ = (Index("ix_print_job_site_owner", "site", "owner", "status"),)

    site: str = Field(primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=128)
    printer: str = Field(max_length=128)
    owner: str | None = Field(default=None, max_length=64)
    pages: int | None = None
    status: str = Field(max_length=16)  # submitted, held, released, printing, completed, ...
    submitted_at: float | None = None
    released_at: float | None = None
    released_by: str | None = Field(default=None, max_length=128)
    finished_at: float | None = None
    updated_at: float
    history: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class AlertRow(SQLModel, table=True):
    """A fault or out-of-range condition; active until ``cleared_at`` is set."""

    __tablename__ = "alert"
    __table_args__ = (Index("ix_alert_site_active", "site", "cleared_at"),)

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=64)
    kind: str = Field(max_length=32)  # printer_jam, out_of_paper, co2_high, device_offline, ...
    subject: str = Field(max_length=128)  # the device or space it is about
    device: str | None = Field(default=None, max_length=128)
    space: str | None = Field(default=None, max_length=64)
    message: str = ""
    value: float | None = None
    raised_at: float
    cleared_at: float | None = None
    work_order: int | None = None


class WorkOrderRow(SQLModel, table=True):
    """A job for facility staff: open, assigned, in progress, done; each move kept."""

    __tablename__ = "work_order"
    __table_args__ = (Index("ix_work_order_site_status", "site", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=64)
    kind: str = Field(max_length=32)
    subject: str = Field(max_length=128)
    title: str = Field(max_length=200)
    description: str = ""
    status: str = Field(max_length=16)
    source: str = Field(max_length=16)  # alert or staff
    alert: int | None = None
    assignee: str | None = Field(default=None, max_length=128)
    created_at: float
    created_by: str = Field(max_length=128)
    updated_at: float
    history: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


def _t(model: type[SQLModel]) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


BOOKINGS, PRINT_JOBS = _t(BookingRow), _t(PrintJobRow)
ALERTS, WORK_ORDERS = _t(AlertRow), _t(WorkOrderRow)
