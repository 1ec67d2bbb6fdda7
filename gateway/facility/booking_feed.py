"""The bookings' side facing the occupancy engine: windows fed in, check-ins and ghosts back.

The engine watches each space's live bookings that have not passed their grace period
(``set_bookings``). A booking is checked in when its space is occupied inside
``[start, start + grace]`` (what the engine counts) or when its member badges into the space;
a ``ghost_booking`` finding releases it when ``bookings.auto_release`` is on -- audited as
``gateway`` and announced on the hub's ``notices`` channel -- and frees the room.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from gateway.events import Event
from gateway.facility.ports import (
    BookingGrants,
    Bus,
    ConfigSource,
    LiveView,
    MemberLookup,
    SiteStore,
)
from gateway.facility.rows import one
from gateway.facility.service_errors import NotFound
from gateway.logtext import clean
from gateway.occupancy.accumulate import Finding
from gateway.occupancy.bookings import BookingWindow
from gateway.settings import BookingSettings
from gateway.store.audit import Audit, record
from gateway.store.booking_lookup import LIVE
from gateway.store.member_tables import BOOKINGS

log = logging.getLogger(__name__)

B = BOOKINGS.c
COMPLETE_EVERY_S = 30.0  # how often bookings that ended are marked completed


class BookingFeed:
    """Keeps the engine's booking windows current and records what it concludes."""

    def __init__(
        self,
        store: SiteStore,
        settings: BookingSettings,
        *,
        config: ConfigSource,
        live: LiveView,
        bus: Bus,
        members: MemberLookup | None = None,
        grants: BookingGrants | None = None,
    ) -> None:
        self.db, self.clock, self.site = store.db, store.clock, store.site
        self.config, self.live, self.bus = config, live, bus
        self.members, self.grants = members, grants
        self.grace_s = settings.grace_s
        self.auto_release = settings.auto_release
        self._lock = threading.Lock()  # overlap check and insert are one step
        self._next_complete = 0.0

    # -- the engine and what it finds --------------------------------------------------------
    def feed(self, space: str, now: float) -> None:
        """Hand the engine the space's live bookings still inside their grace period."""
        with self.db.connect() as conn:
            rows = conn.execute(
                select(B.id, B.start, B.end, B.requires_checkin, B.status).where(
                    B.site == self.site,
                    B.space == space,
                    B.status.in_(LIVE),
                    B.end > now,
                    # past start + grace the engine has decided; handing it back would redo it
                    B.start + self.grace_s > now,
                )
            ).all()
        windows: list[BookingWindow] = [
            (r.id, r.start, r.end, bool(r.requires_checkin) and r.status == "booked") for r in rows
        ]
        self.live.set_bookings(space, windows, now)

    def restore(self, now: float) -> int:
        """At start: feed every space that has live bookings; how many spaces were fed."""
        with self.db.connect() as conn:
            spaces = conn.execute(
                select(B.space)
                .where(B.site == self.site, B.status.in_(LIVE), B.end > now)
                .distinct()
            ).scalars()
            ids = list(spaces)
        for sid in ids:
            self.feed(sid, now)
        return len(ids)

    def on_findings(self, findings: Iterable[Finding], now: float) -> list[dict[str, Any]]:
        """Record the engine's verdicts; release ghosts when the policy says so."""
        released = []
        for f in findings:
            if not isinstance(f, Finding) or f.kind not in ("ghost_booking", "unverified_booking"):
                continue
            outcome = "ghost" if f.kind == "ghost_booking" else "unverified"
            with self._lock, self.db.begin() as conn:
                try:
                    row = self._get(conn, f.ref)
                except NotFound:
                    continue  # a booking this store does not hold (another system's)
                if row["status"] != "booked" or row["outcome"] is not None:
                    continue
                values: dict[str, Any] = {"outcome": outcome}
                if outcome == "ghost" and self.auto_release:
                    values.update(status="released", released_at=now)
                    reason = f"no presence within {self.grace_s:g} s of the start"
                    record(
                        conn,
                        [self._audit(row, now, "gateway", "booking_released", "released", reason)],
                    )
                conn.execute(
                    update(BOOKINGS).where(B.site == self.site, B.id == f.ref).values(**values)
                )
                row.update(values)
            if row["status"] == "released":
                released.append(row)
                log.info("ghost booking %s of %s released", row["id"], clean(row["space"]))
                self.revoke_grants(row["id"], "gateway", "booking released as a ghost")
                self.bus.publish("notices", released_notice(row, now), now)
        return released

    def revoke_grants(self, booking_id: str, actor: str, why: str) -> None:
        """Revoke the access grants a booking was the basis of (it no longer holds)."""
        if self.grants is not None:
            self.grants.revoke_for_booking(booking_id, actor, why)

    def check_in(self, ids: Sequence[str], at: float, via: str, now: float) -> list[str]:
        """Mark booked bookings checked in; the ids that changed."""
        done = []
        with self._lock, self.db.begin() as conn:
            for bid in ids:
                n = conn.execute(
                    update(BOOKINGS)
                    .where(B.site == self.site, B.id == bid, B.status == "booked")
                    .values(
                        status="checked_in", checked_in_at=at, checkin_via=via, outcome="checked_in"
                    )
                ).rowcount
                if n:
                    row = self._get(conn, bid)
                    record(
                        conn,
                        [self._audit(row, now, "gateway", "booking_checked_in", "ok", f"by {via}")],
                    )
                    done.append(bid)
        return done

    def on_events(self, events: Iterable[Event], now: float) -> None:
        """A granted badge of the booking's member into its space checks it in.

        One query finds the bookings every granted badge of the batch might check in; each
        badge then takes those of its own member, space and time, in the batch's order.
        """
        badges = [
            (ev.ts, space, str(member))
            for ev in events
            if ev.quantity == "door"
            and ev.value == "granted"
            and (space := ev.space) is not None
            and (member := ev.attrs.get("member"))
        ]
        if not badges:
            return
        with self.db.connect() as conn:
            rows = conn.execute(
                select(B.id, B.space, B.member, B.start, B.end).where(
                    B.site == self.site,
                    B.space.in_({space for _, space, _ in badges}),
                    B.member.in_({member for _, _, member in badges}),
                    B.status == "booked",
                    B.start - self.grace_s <= max(ts for ts, _, _ in badges),
                    B.end > min(ts for ts, _, _ in badges),
                )
            ).all()
        for ts, space, member in badges:
            ids = [
                r.id
                for r in rows
                if r.space == space and r.member == member and r.start - self.grace_s <= ts < r.end
            ]
            if ids and self.check_in(ids, ts, "badge", now):
                self.feed(space, now)

    def poll(self, now: float) -> None:
        """Check in bookings whose space is occupied inside their grace window (what the
        engine counts as a check-in); mark bookings that ended completed."""
        with self.db.connect() as conn:
            due = conn.execute(
                select(B.id, B.space).where(
                    B.site == self.site,
                    B.status == "booked",
                    B.start <= now,
                    B.start + self.grace_s >= now,
                )
            ).all()
        if due:
            occupied = self.live.occupied({r.space for r in due})
            ids = [r.id for r in due if r.space in occupied]
            if ids:
                self.check_in(ids, now, "presence", now)
        if now < self._next_complete:
            return
        self._next_complete = now + COMPLETE_EVERY_S  # a write every tick would contend
        with self.db.begin() as conn:
            conn.execute(
                update(BOOKINGS)
                .where(B.site == self.site, B.status.in_(LIVE), B.end <= now)
                .values(status="completed")
            )

    def _get(self, conn: Connection, booking_id: str) -> dict[str, Any]:
        return one(conn, BOOKINGS, self.site, booking_id, f"no booking {booking_id!r}")

    def _audit(
        self,
        row: dict[str, Any],
        now: float,
        actor: str,
        action: str,
        result: str,
        reason: str = "",
    ) -> Audit:
        return Audit(
            site=self.site,
            ts=now,
            actor=actor,
            action=action,
            subject=row["id"],
            result=result,
            reason=reason,
            member=row["member"],
            detail={"space": row["space"], "start": row["start"], "end": row["end"]},
        )


def released_notice(row: dict[str, Any], now: float) -> dict[str, Any]:
    """The ``notices`` item announcing a released booking (the room is free again)."""
    return {
        "type": "booking_released",
        "booking": row["id"],
        "space": row["space"],
        "member": row["member"],
        "start": row["start"],
        "end": row["end"],
        "ts": now,
    }
