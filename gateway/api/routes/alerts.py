"""Alerts: printer faults, devices offline, environment out of range (active or all)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel

from gateway.api.deps import ServicesDep, StaffRead
from gateway.api.paging import Limit, ServiceOffset
from gateway.api.service_http import Id, iso

router = APIRouter(prefix="/alerts", tags=["alerts"], dependencies=[StaffRead])


class Alert(BaseModel):
    id: int
    kind: str
    subject: str
    device: str | None
    space: str | None
    message: str
    value: float | None
    raised_at: datetime
    cleared_at: datetime | None
    active: bool
    work_order: int | None


class Alerts(BaseModel):
    data: list[Alert]
    count: int
    total: int


def out(row: dict[str, Any]) -> Alert:
    fields = {k: row[k] for k in Alert.model_fields if k in row}
    return Alert(
        **{**fields, "raised_at": iso(row["raised_at"]), "cleared_at": iso(row["cleared_at"])},
        active=row["cleared_at"] is None,
    )


@router.get("", response_model=Alerts)
def list_alerts(
    services: ServicesDep,
    state: Literal["active", "cleared", "all"] = "active",
    kind: Id | None = None,
    subject: Id | None = None,
    limit: Limit = 100,
    offset: ServiceOffset = 0,
) -> Alerts:
    """Alerts, newest first: the active ones by default, or ``state=cleared`` / ``all``."""
    active = {"active": True, "cleared": False, "all": None}[state]
    rows, total = services.alerts.query(
        active=active, kind=kind, subject=subject, limit=limit, offset=offset
    )
    return Alerts(data=[out(r) for r in rows], count=len(rows), total=total)
