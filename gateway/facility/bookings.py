"""Room and desk bookings: overlap-free, checked in by presence or badge, ghosts released.

A booking is *live* while ``booked`` or ``checked_in``; only live bookings block a space, so
a cancelled or released booking frees its room at once. The occupancy engine watches each
space's live bookings that have not passed their grace period (``set_bookings``); its
``ghost_booking`` findings come back through the hub and, with ``bookings.auto_release``,
release the booking (audited as ``gateway``) and announce it on the ``notices`` channel.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session

from gateway.facility.booking_feed import B, released_notice
from gateway.facility.booking_sources import SourcedBookings
from gateway.facility.rows import page, where
from gateway.facility.service_errors import Conflict, Invalid, NotFound
from gateway.store.audit import record
from gateway.store.booking_lookup import LIVE, booking_for
from gateway.store.member_tables import BOOKINGS

__all__ = ["LIVE", "STATUSES", "Bookings", "booking_for", "has_booking", "released_notice"]

STATUSES = ("booked", "checked_in", "cancelled", "released", "completed")


def has_booking(
    conn: Connection | Session, site: str, member: str, space: str, start: float, end: float
) -> bool:
    """True when ``member`` holds a live booking of ``space`` covering ``[start, end]``."""
    return booking_for(conn, site, member, space, start, end) is not None


class Bookings(SourcedBookings):
    """Bookings of one site: requests and reports; the engine side is ``BookingFeed``, other
    systems' bookings come in through ``SourcedBookings``."""

    # -- requests ---------------------------------------------------------------------------
    def create(
        self, space: str, member: str, start: float, end: float, requires_checkin: bool, actor: str
    ) -> dict[str, Any]:
        """Book ``space`` for ``member``; NotFound, Invalid or Conflict say why not."""
        sp = self.config.get().building.spaces.get(space)
        if sp is None:
            raise NotFound(f"unknown space {space!r}")
        if not sp.bookable:
            raise Invalid(f"space {space!r} is not bookable", ("body", "space"))
        if end <= start:
            raise Invalid("must be after start", ("body", "end"))
        now = self.clock()
        if end <= now:
            raise Invalid("the booking would end in the past", ("body", "end"))
        self._check_member(member)
        row: dict[str, Any] = {
            "site": self.site,
            "id": f"bk-{secrets.token_hex(6)}",
            "space": space,
            "member": member,
            "start": start,
            "end": end,
            "status": "booked",
            "requires_checkin": requires_checkin,
            "created_by": actor,
            "created_at": now,
        }
        with self._lock, self.db.begin() as conn:
            clash = conn.execute(
                select(B.id, B.start, B.end)
                .where(B.site == self.site, B.space == space, B.status.in_(LIVE))
                .where(B.start < end, B.end > start)
                .limit(1)
            ).first()
            if clash is not None:
                raise Conflict(f"space {space!r} is already booked by {clash.id} in that window")
            conn.execute(insert(BOOKINGS), [row])
            record(conn, [self._audit(row, now, actor, "booking_created", "ok")])
            created = self._get(conn, row["id"])
        self.feed(space, now)
        return created

    def cancel(self, booking_id: str, actor: str) -> dict[str, Any]:
        """Cancel a live booking; NotFound or Conflict (already over, cancelled, released)."""
        now = self.clock()
        with self._lock, self.db.begin() as conn:
            row = self._get(conn, booking_id)
            if row["status"] not in LIVE:
                raise Conflict(f"booking {booking_id} is {row['status']}; it cannot be cancelled")
            conn.execute(
                update(BOOKINGS)
                .where(B.site == self.site, B.id == booking_id)
                .values(status="cancelled", cancelled_at=now)
            )
            record(conn, [self._audit(row, now, actor, "booking_cancelled", "cancelled")])
            row.update(status="cancelled", cancelled_at=now)
        self.feed(row["space"], now)
        self.revoke_grants(booking_id, actor, "booking cancelled")
        return row

    def get(self, booking_id: str) -> dict[str, Any]:
        with self.db.connect() as conn:
            return self._get(conn, booking_id)

    def query(
        self,
        *,
        space: str | None = None,
        member: str | None = None,
        status: str | None = None,
        start: float | None = None,
        end: float | None = None,
        limit: int = 100,
        offset: int = 0,
        source: str | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """Bookings overlapping ``[start, end)`` (either may be open), earliest first."""
        conds = where(BOOKINGS, self.site, space=space, member=member, status=status, source=source)
        if start is not None:
            conds.append(B.end > start)
        if end is not None:
            conds.append(B.start < end)
        return page(self.db, BOOKINGS, conds, (B.start, B.id), limit, offset)

    def no_show(self, start: float, end: float, space: str | None = None) -> dict[str, Any]:
        """Auto-released / bookings that required check-in and were decided, by start time."""
        conds = [B.site == self.site, B.start >= start, B.start < end, B.requires_checkin]
        if space is not None:
            conds.append(B.space == space)
        with self.db.connect() as conn:
            rows = conn.execute(
                select(B.space, B.outcome, B.status, func.count())
                .where(*conds)
                .group_by(B.space, B.outcome, B.status)
            ).all()
        per: dict[str, dict[str, int]] = {}
        for sid, outcome, status, n in rows:
            c = per.setdefault(sid, {"required": 0, "released": 0, "ghost": 0, "unverified": 0})
            if outcome in ("checked_in", "ghost"):
                c["required"] += n
            if outcome == "ghost":
                c["ghost"] += n
            if outcome == "unverified":
                c["unverified"] += n
            if status == "released":
                c["released"] += n
        total = {k: sum(c[k] for c in per.values()) for k in ("required", "released", "ghost")}
        total["unverified"] = sum(c["unverified"] for c in per.values())
        return {
            **total,
            "rate": _rate(total),
            "by_space": [{"space": s, **c, "rate": _rate(c)} for s, c in sorted(per.items())],
        }

    def _check_member(self, member: str) -> None:
        if self.members is not None and self.members.get(member) is None:
            raise NotFound(f"unknown member {member!r}")


def _rate(c: dict[str, int]) -> float | None:
    return None if c["required"] == 0 else c["released"] / c["required"]
