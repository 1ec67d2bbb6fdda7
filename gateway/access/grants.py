"""Access grants: a member, a door or a space, and a window [valid_from, valid_until).

A grant is issued when the member's plan covers the space (a door's space, for a door) or the
member holds a booking for it over the window; otherwise it is refused with the reason. Live
grants are kept in memory so a door decision never waits for the store; the window is
compared with the clock as is, so a grant opens at ``valid_from`` and is closed from
``valid_until`` on, to the second. Every issue, refusal and revocation is audited. A grant
does not outlive its basis: a booking-based grant keeps the booking's id and is revoked when
the booking is cancelled or released; a member's grants are checked again when the member is
deleted or their plan changes.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from gateway.access.grant_types import (
    GRANTS,
    BookingCheck,
    Grant,
    GrantError,
    GrantNotFound,
    GrantRefused,
    booked,
    check_request,
    grant_of,
    row_of,
)
from gateway.access.members import MemberDirectory
from gateway.building import Building
from gateway.store.audit import Audit, record

__all__ = [
    "GRANTS",
    "Grant",
    "GrantBook",
    "GrantError",
    "GrantNotFound",
    "GrantRefused",
    "grant_of",
]


class GrantBook:
    """The site's grants: issued and revoked through the store, decided from memory."""

    def __init__(
        self,
        db: Engine,
        building: Building,
        directory: MemberDirectory,
        clock: Callable[[], float] = time.time,
        booking_check: BookingCheck = booked,
    ) -> None:
        self.db, self.building, self.directory = db, building, directory
        self.site, self.clock, self.booking_check = building.site.id, clock, booking_check
        self._lock = threading.Lock()
        self._by_member: dict[str, list[Grant]] = {}  # unrevoked, not yet expired
        self.on_revoke: list[Callable[[Grant], None]] = []
        self.is_door: Callable[[str], bool] = lambda _device: True  # set by AccessControl

    def load(self) -> None:
        now = self.clock()
        with self.db.connect() as conn:
            rows = conn.execute(
                select(GRANTS).where(
                    GRANTS.c.site == self.site,
                    GRANTS.c.revoked_at.is_(None),
                    GRANTS.c.valid_until > now,
                )
            ).all()
        by_member: dict[str, list[Grant]] = {}
        for r in rows:
            g = grant_of(r)
            by_member.setdefault(g.member, []).append(g)
        with self._lock:
            self._by_member = by_member

    def space_of(self, door: str | None, space: str | None) -> str | None:
        """The space a grant scope opens: the space itself, or the door's space (None: entrance)."""
        if space is not None:
            return space
        binding = self.building.devices.get(door or "")
        return None if binding is None else binding.space

    def _basis(
        self, member: str, door: str | None, space: str | None, t0: float, t1: float
    ) -> tuple[str, str | None]:
        """Why the member may have it (and the booking it rests on, if one); raises
        GrantRefused with the reason when they may not."""
        m = self.directory.get(member)
        if m is None:
            raise GrantError(f"unknown member {member!r}")
        target = self.space_of(door, space)
        if target is None:  # a door that opens no space: the site's entrance
            if m.plan is not None and self.directory.plan(m.plan) is not None:
                return f"plan {m.plan} opens the site's entrances", None
            raise GrantRefused(f"member {member} has no plan, so no entrance door")
        ok, why = self.directory.covers(member, target)
        if ok:
            return why, None
        booking = self.booking_check(self.db, self.site, member, target, t0, t1)
        if booking is not None:
            return f"booking {booking} of space {target}", booking
        raise GrantRefused(f"{why}, and member {member} holds no booking of it for that time")

    def issue(
        self,
        member: str,
        door: str | None,
        space: str | None,
        valid_from: float,
        valid_until: float,
        actor: str,
    ) -> Grant:
        """Issue a grant, or raise GrantRefused (with the reason, audited) or GrantError."""
        now = self.clock()
        check_request(self.building, self.is_door, door, space, valid_from, valid_until, now)
        subject = door if door is not None else f"space:{space}"
        try:
            basis, booking = self._basis(member, door, space, valid_from, valid_until)
        except GrantRefused as err:
            why = err.reason
            refused = self._entry(actor, "grant_refused", subject, member, "denied", why, now)
            with self.db.begin() as conn:
                record(conn, [refused])
            raise
        g = Grant(
            f"g-{secrets.token_hex(8)}",
            member,
            door,
            space,
            valid_from,
            valid_until,
            basis,
            now,
            actor,
            booking=booking,
        )
        with self.db.begin() as conn:
            conn.execute(GRANTS.insert().values(site=self.site, **row_of(g)))
            window = {"grant": g.id, "valid_from": valid_from, "valid_until": valid_until}
            record(
                conn,
                [self._entry(actor, "grant_issued", subject, member, "ok", basis, now, window)],
            )
        with self._lock:
            self._by_member.setdefault(member, []).append(g)
        return g

    def revoke(self, grant_id: str, actor: str, reason: str = "") -> Grant:
        now = self.clock()
        with self.db.begin() as conn:
            row = conn.execute(
                select(GRANTS).where(GRANTS.c.site == self.site, GRANTS.c.id == grant_id)
            ).first()
            if row is None:
                raise GrantNotFound(f"no grant {grant_id!r}")
            g = grant_of(row)
            if g.revoked_at is None:
                conn.execute(
                    update(GRANTS)
                    .where(GRANTS.c.site == self.site, GRANTS.c.id == grant_id)
                    .values(revoked_at=now)
                )
                subject = g.door if g.door is not None else f"space:{g.space}"
                entry = self._entry(
                    actor, "grant_revoked", subject, g.member, "ok", reason, now, {"grant": g.id}
                )
                record(conn, [entry])
                g = replace(g, revoked_at=now)
        with self._lock:
            live = self._by_member.get(g.member, [])
            self._by_member[g.member] = [x for x in live if x.id != grant_id]
        for cb in self.on_revoke:
            cb(g)
        return g

    def revoke_for_booking(self, booking_id: str, actor: str, reason: str) -> list[Grant]:
        """Revoke the unexpired grants resting on ``booking_id`` (cancelled or released)."""
        rows = self._unexpired(GRANTS.c.booking == booking_id)
        return [self.revoke(r.id, actor, reason) for r in rows]

    def revoke_unfounded(self, member: str, actor: str) -> list[Grant]:
        """Revoke the member's unexpired grants that no longer have a basis: all of them when
        the member is gone, the plan-based ones their (new) plan does not cover."""
        out = []
        for r in self._unexpired(GRANTS.c.member == member):
            g = grant_of(r)
            if self.directory.get(member) is None:
                why = f"member {member} deleted"
            elif g.booking is not None:
                continue  # the booking's cancel or release revokes it
            else:
                try:
                    self._basis(member, g.door, g.space, g.valid_from, g.valid_until)
                    continue
                except (GrantRefused, GrantError) as err:
                    why = f"no longer founded: {err}"
            out.append(self.revoke(g.id, actor, why))
        return out

    def _unexpired(self, *where: Any) -> list[Any]:
        with self.db.connect() as conn:
            return list(
                conn.execute(
                    select(GRANTS).where(
                        GRANTS.c.site == self.site,
                        GRANTS.c.revoked_at.is_(None),
                        GRANTS.c.valid_until > self.clock(),
                        *where,
                    )
                ).all()
            )

    def get(self, grant_id: str) -> Grant | None:
        with self.db.connect() as conn:
            row = conn.execute(
                select(GRANTS).where(GRANTS.c.site == self.site, GRANTS.c.id == grant_id)
            ).first()
        return None if row is None else grant_of(row)

    def allows(self, member: str, door: str, now: float) -> Grant | None:
        """A grant live now that opens ``door`` (for the door itself or for its space)."""
        space = self.space_of(door, None)
        with self._lock:
            grants = self._by_member.get(member, ())
            for g in grants:
                if g.live(now) and (g.door == door or (space is not None and g.space == space)):
                    return g
        return None

    def revoked_live(self, now: float) -> list[str]:
        """Ids of revoked grants whose window has not ended: what offline verifiers must refuse."""
        with self.db.connect() as conn:
            rows = conn.execute(
                select(GRANTS.c.id)
                .where(
                    GRANTS.c.site == self.site,
                    GRANTS.c.revoked_at.is_not(None),
                    GRANTS.c.valid_until > now,
                )
                .order_by(GRANTS.c.id)
            ).all()
        return [r.id for r in rows]

    def prune(self, now: float) -> None:
        """Forget expired grants in memory (the store keeps them)."""
        with self._lock:
            self._by_member = {
                m: kept
                for m, gs in self._by_member.items()
                if (kept := [g for g in gs if g.valid_until > now])
            }

    def _entry(
        self,
        actor: str,
        action: str,
        subject: str,
        member: str,
        result: str,
        reason: str,
        now: float,
        detail: dict[str, object] | None = None,
    ) -> Audit:
        kept = dict(detail) if detail else None
        return Audit(self.site, now, actor, action, subject, result, reason, member, None, kept)
