"""Bookings made elsewhere -- a room calendar, a booking platform -- kept as bookings here.

Each has a ``source`` (``ics:<space>``, ``platform:<integration>``) and the id it has there
(``external_id``); ``apply_source`` creates, moves, reinstates or cancels them by that id, so
the same input twice changes nothing. They are ordinary bookings afterwards: the overlap rule
holds (an incoming booking that would overlap a live one is refused as ``conflict``), the
engine is fed their windows, check-in, ghost release and the no-show rate count them.

- an incoming change older than the last one applied (``modified`` before the kept
  ``source_updated_at``) is ``stale`` and ignored;
- a booking already released, completed -- or whose time is past -- is not changed again;
- ``missing`` (a calendar's whole window): the source's live bookings of that space there that
  the input no longer holds are cancelled (an occurrence removed, cancelled or moved away).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from gateway.facility.booking_feed import B, BookingFeed
from gateway.facility.service_errors import Invalid, NotFound
from gateway.store.audit import record
from gateway.store.booking_lookup import LIVE
from gateway.store.member_tables import BOOKINGS

_IN = 500  # ids per IN list


@dataclass(frozen=True, slots=True)
class Incoming:
    """A booking as its source tells it."""

    external_id: str
    space: str
    member: str
    start: float
    end: float
    modified: float | None = None
    cancelled: bool = False
    requires_checkin: bool = True


@dataclass(frozen=True, slots=True)
class Applied:
    """What became of one incoming booking: created, updated, cancelled, unchanged, stale,
    conflict (overlaps a live booking), past (ended before it came), unknown (nothing to
    cancel)."""

    external_id: str
    result: str
    booking: str | None = None
    reason: str = ""


class SourcedBookings(BookingFeed):
    """The bookings service's side taking bookings from other systems."""

    def apply_source(
        self,
        source: str,
        items: Sequence[Incoming],
        missing: tuple[str, float, float] | None = None,
    ) -> tuple[list[Applied], int]:
        """Apply ``items`` of ``source`` in one transaction; the results, and how many of its
        live bookings ``missing`` = (space, from, to) cancelled for not being among them."""
        spaces = self.config.get().building.spaces
        for it in items:
            sp = spaces.get(it.space)
            if sp is None:
                raise NotFound(f"unknown space {it.space!r}")
            if not sp.bookable:
                raise Invalid(f"space {it.space!r} is not bookable", ("body", "space"))
        now = self.clock()
        touched: set[str] = set()
        revoked: list[str] = []
        with self._lock, self.db.begin() as conn:
            kept = self._by_external(conn, source, [it.external_id for it in items])
            out = [self._one(conn, source, it, kept.get(it.external_id), now) for it in items]
            gone = [] if missing is None else self._gone(conn, source, items, missing, now)
            for row in gone:
                self._set(conn, row, now, source, "booking_cancelled", "cancelled",
                          "gone from the source", status="cancelled", cancelled_at=now)  # fmt: skip
            touched.update(it.space for it in items)
            touched.update(row["space"] for row in gone)
            for a in out:
                if a.result == "cancelled" and a.booking is not None:
                    revoked.append(a.booking)
            revoked.extend(row["id"] for row in gone)
            touched.update(row["space"] for row in kept.values())
        for space in touched:
            self.feed(space, now)
        for bid in revoked:
            self.revoke_grants(bid, source, "booking cancelled at its source")
        return out, len(gone)

    def _one(
        self, conn: Connection, source: str, it: Incoming, row: dict[str, Any] | None, now: float
    ) -> Applied:
        key = it.external_id
        if row is None:
            if it.cancelled:
                return Applied(key, "unknown")
            if it.end <= now:
                return Applied(key, "past")
            clash = self._clash(conn, it, None)
            if clash is not None:
                return Applied(key, "conflict", reason=f"overlaps booking {clash}")
            return Applied(key, "created", self._insert(conn, source, it, now))
        bid = row["id"]
        if it.modified is not None and (row["source_updated_at"] or 0.0) > it.modified:
            return Applied(key, "stale", bid)
        if row["status"] in ("released", "completed") or row["end"] <= now:
            return Applied(key, "unchanged", bid)
        if it.cancelled:
            if row["status"] not in LIVE:
                return Applied(key, "unchanged", bid)
            self._set(conn, row, now, source, "booking_cancelled", "cancelled", "cancelled at "
                      "its source", status="cancelled", cancelled_at=now,
                      source_updated_at=it.modified)  # fmt: skip
            return Applied(key, "cancelled", bid)
        same = (row["space"], row["start"], row["end"]) == (it.space, it.start, it.end)
        if same and row["status"] in LIVE and row["member"] == it.member[:64]:
            return Applied(key, "unchanged", bid)
        clash = self._clash(conn, it, bid)
        if clash is not None:
            return Applied(key, "conflict", bid, f"overlaps booking {clash}")
        values: dict[str, Any] = {"space": it.space, "start": it.start, "end": it.end}
        values.update(member=it.member[:64], source_updated_at=it.modified)
        if row["status"] == "cancelled":  # back at its source: booked again
            values.update(status="booked", cancelled_at=None)
        self._set(conn, row, now, source, "booking_updated", "ok", "changed at its source",
                  **values)  # fmt: skip
        return Applied(key, "updated", bid)

    def _insert(self, conn: Connection, source: str, it: Incoming, now: float) -> str:
        row: dict[str, Any] = {
            "site": self.site,
            "id": _new_id(),
            "space": it.space,
            "member": it.member[:64],
            "start": it.start,
            "end": it.end,
            "status": "booked",
            "requires_checkin": it.requires_checkin,
            "created_by": source,
            "created_at": now,
            "source": source,
            "external_id": it.external_id,
            "source_updated_at": it.modified,
        }
        conn.execute(insert(BOOKINGS), [row])
        record(conn, [self._audit(row, now, source, "booking_created", "ok")])
        return str(row["id"])

    def _set(
        self,
        conn: Connection,
        row: dict[str, Any],
        now: float,
        actor: str,
        action: str,
        result: str,
        reason: str,
        **values: Any,
    ) -> None:
        conn.execute(
            update(BOOKINGS).where(B.site == self.site, B.id == row["id"]).values(**values)
        )
        record(conn, [self._audit({**row, **values}, now, actor, action, result, reason)])

    def _clash(self, conn: Connection, it: Incoming, own: str | None) -> str | None:
        q = select(B.id).where(
            B.site == self.site, B.space == it.space, B.status.in_(LIVE),
            B.start < it.end, B.end > it.start,
        )  # fmt: skip
        if own is not None:
            q = q.where(B.id != own)
        r = conn.execute(q.limit(1)).first()
        return None if r is None else str(r[0])

    def _by_external(
        self, conn: Connection, source: str, ids: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        unique = sorted(set(ids))
        for i in range(0, len(unique), _IN):
            rows = conn.execute(
                select(BOOKINGS).where(
                    B.site == self.site,
                    B.source == source,
                    B.external_id.in_(unique[i : i + _IN]),
                )  # fmt: skip
            ).all()
            found.update({r.external_id: dict(r._mapping) for r in rows})
        return found

    def _gone(
        self,
        conn: Connection,
        source: str,
        items: Sequence[Incoming],
        missing: tuple[str, float, float],
        now: float,
    ) -> list[dict[str, Any]]:
        space, a, b = missing
        held = {it.external_id for it in items if not it.cancelled}
        rows = conn.execute(
            select(BOOKINGS).where(
                B.site == self.site,
                B.source == source,
                B.space == space,
                B.status.in_(LIVE),
                B.end > max(a, now),
                B.start < b,
            )  # fmt: skip
        ).all()
        return [dict(r._mapping) for r in rows if r.external_id not in held]


def _new_id() -> str:
    return f"bk-{secrets.token_hex(6)}"
