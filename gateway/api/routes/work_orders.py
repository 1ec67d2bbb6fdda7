"""Work orders: created by faults and by staff; open -> assigned -> in_progress -> done."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, status
from pydantic import BaseModel, Field, model_validator

from gateway.api.deps import CallerStaff, ServicesDep, StaffRead
from gateway.api.paging import Limit, ServiceOffset
from gateway.api.service_http import Id, PathNumber, Text, errors, http_errors, iso

router = APIRouter(prefix="/work-orders", tags=["work orders"], dependencies=[StaffRead])

Status = Literal["open", "assigned", "in_progress", "done"]


class Step(BaseModel):
    status: Status
    by: str
    at: datetime
    assignee: str | None = None
    note: str | None = None


class WorkOrder(BaseModel):
    id: int
    kind: str
    subject: str
    title: str
    description: str
    status: Status
    source: Literal["alert", "staff"]
    alert: int | None
    assignee: str | None
    created_at: datetime
    created_by: str
    updated_at: datetime
    history: list[Step] = Field(description="every move: status, who, when")


class WorkOrders(BaseModel):
    data: list[WorkOrder]
    count: int
    total: int


class WorkOrderCreate(BaseModel):
    title: str = Field(min_length=1, max_length=200, pattern=Text)
    subject: Id = Field(description="the device or space it is about")
    kind: Id = "other"
    description: str = Field(default="", max_length=4000, pattern=Text)


class WorkOrderMove(BaseModel):
    status: Status
    assignee: Id | None = None
    note: str | None = Field(default=None, max_length=2000, pattern=Text)

    @model_validator(mode="after")
    def _assignee(self) -> WorkOrderMove:
        if self.status == "assigned" and not self.assignee:
            raise ValueError("assignee: required when status is 'assigned'")
        return self


def out(row: dict[str, Any]) -> WorkOrder:
    history = [{**h, "at": iso(h["at"])} for h in row["history"]]
    return WorkOrder(
        **{
            **row,
            "created_at": iso(row["created_at"]),
            "updated_at": iso(row["updated_at"]),
            "history": history,
        }
    )


@router.get("", response_model=WorkOrders)
def list_orders(
    services: ServicesDep,
    status: Status | None = None,
    kind: Id | None = None,
    subject: Id | None = None,
    limit: Limit = 100,
    offset: ServiceOffset = 0,
) -> WorkOrders:
    """Work orders, newest first."""
    rows, total = services.orders.query(
        status=status, kind=kind, subject=subject, limit=limit, offset=offset
    )
    return WorkOrders(data=[out(r) for r in rows], count=len(rows), total=total)


@router.post("", response_model=WorkOrder, status_code=status.HTTP_201_CREATED)
def create(body: WorkOrderCreate, services: ServicesDep, caller: CallerStaff) -> WorkOrder:
    """Open a work order by hand."""
    row = services.orders.create(
        body.kind, body.subject, body.title, caller.name, description=body.description
    )
    return out(row)


@router.get("/{order_id}", response_model=WorkOrder, responses=errors(404))
def get_order(order_id: PathNumber, services: ServicesDep) -> WorkOrder:
    with http_errors():
        return out(services.orders.get(order_id))


@router.patch("/{order_id}", response_model=WorkOrder, responses=errors(404, 409))
def move(
    order_id: PathNumber, body: WorkOrderMove, services: ServicesDep, caller: CallerStaff
) -> WorkOrder:
    """Move an order along (409 for a move its status does not allow); who and when are kept."""
    with http_errors():
        row = services.orders.move(
            order_id, body.status, caller.name, assignee=body.assignee, note=body.note
        )
    return out(row)
