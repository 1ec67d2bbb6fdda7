"""The one booking question access control asks: does a member hold a live booking here now.

Access grants ask it when a door's request names a booking window; the bookings service owns
every other query of the table.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlmodel import Session

from gateway.store.member_tables import BOOKINGS

LIVE = ("booked", "checked_in")  # the statuses that hold a space
_B = BOOKINGS.c


def booking_for(
    conn: Connection | Session, site: str, member: str, space: str, start: float, end: float
) -> str | None:
    """The id of a live booking of ``space`` by ``member`` covering ``[start, end]``, if any."""
    q = (
        select(_B.id)
        .where(_B.site == site, _B.member == member, _B.space == space, _B.status.in_(LIVE))
        .where(_B.start <= start, _B.end >= end)
        .order_by(_B.start, _B.id)
        .limit(1)
    )
    r = conn.execute(q).first()
    return None if r is None else str(r[0])
