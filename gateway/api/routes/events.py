"""Stored normalized events, filtered and paged."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlmodel import col, select

from gateway.api.deps import Auth, ConfigDep, SessionDep
from gateway.api.paging import Limit, Offset, in_window, page, where_given
from gateway.api.routes.utilization import FromQ, ToQ
from gateway.api.schemas import iso
from gateway.store.event_view import of_site
from gateway.store.tables import Event
from gateway.store.writer import row_value

router = APIRouter(prefix="/events", tags=["events"], dependencies=[Auth])


class EventPublic(BaseModel):
    id: int
    device: str
    space: str | None
    time: datetime
    received_at: datetime
    kind: str
    quantity: str
    value: bool | int | float | str | None
    unit: str | None
    attrs: dict[str, Any] | None


#: Events counted for ``total`` at most: a count reads every row it counts, and a month of a
#: building is tens of millions of rows (seconds a page); past this, ``total_exact`` is false.
TOTAL_CAP = 100_000


class EventsPublic(BaseModel):
    data: list[EventPublic]
    count: int
    total: int  # the events matching, counted up to TOTAL_CAP
    total_exact: bool  # false: there are more than ``total``


@router.get("", response_model=EventsPublic)
def list_events(
    config: ConfigDep,
    session: SessionDep,
    space: str | None = None,
    device: str | None = None,
    quantity: str | None = None,
    kind: str | None = None,
    start: FromQ = None,
    end: ToQ = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> EventsPublic:
    """Newest first (by event time); ``from`` inclusive, ``to`` exclusive. ``total`` counts
    the matching events up to ``TOTAL_CAP`` (``total_exact`` false beyond)."""
    narrowed = any(v is not None for v in (space, device, quantity, kind))
    q = where_given(
        select(Event).where(of_site(Event.site, config.get().building.site.id, narrowed=narrowed)),
        (Event.space, space),
        (Event.device, device),
        (Event.quantity, quantity),
        (Event.kind, kind),
    )
    q = in_window(q, col(Event.ts), start, end)
    order = [col(Event.ts).desc(), col(Event.id).desc()]
    rows, total = page(session, q, order, limit, offset, count_cap=TOTAL_CAP + 1)
    data = []
    for r in rows:
        t, rx = iso(r.ts), iso(r.received_at)
        assert r.id is not None and t is not None and rx is not None
        data.append(
            EventPublic(
                id=r.id,
                device=r.device,
                space=r.space,
                time=t,
                received_at=rx,
                kind=r.kind,
                quantity=r.quantity,
                value=row_value(r.quantity, r.value_num, r.value_text),
                unit=r.unit,
                attrs=r.attrs,
            )
        )
    exact = total <= TOTAL_CAP
    return EventsPublic(data=data, count=len(data), total=min(total, TOTAL_CAP), total_exact=exact)
