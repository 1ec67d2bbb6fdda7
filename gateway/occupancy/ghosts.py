"""Ghost bookings: a booked room with no presence within ``grace_s`` of the start."""

from __future__ import annotations

import math
from collections.abc import Iterable

from gateway.occupancy.accumulate import Finding
from gateway.occupancy.bookings import Booking, BookingWindow
from gateway.occupancy.fusion import OCCUPIED, UNKNOWN
from gateway.occupancy.live import EngineBase, SpaceLive


class BookingWatch(EngineBase):
    """Watches each room's booking windows; decides check-in or a finding at start + grace."""

    def set_bookings(self, space_id: str, windows: Iterable[BookingWindow], now: float) -> None:
        """Replace the booking windows the engine watches for one space (KeyError if unknown)."""
        space = self.spaces[space_id]
        old = {b.id: b for b in space.bookings or ()}
        fresh = []
        for bid, start, end, req in windows:
            b = old.get(bid)
            if b is None or (b.start, b.end, b.requires_checkin) != (start, end, req):
                b = Booking(bid, start, end, req)
            fresh.append(b)
        space.bookings = sorted(fresh, key=lambda b: b.start)
        self._recompute(space, now)

    def _check_bookings(self, space: SpaceLive, now: float) -> float:
        due = math.inf
        keep: list[Booking] = []
        for b in space.bookings or ():
            if now < b.start:
                due = min(due, b.start)
                keep.append(b)
                continue
            limit = b.start + self.grace_s
            if b.checked_in is None:
                if space.state == OCCUPIED and now <= limit:
                    b.checked_in = now
                elif space.state == UNKNOWN:
                    b.saw_unknown = True
            if b.checked_in is None and now < limit:
                due = min(due, limit)
                keep.append(b)
                continue
            self._decide(space, b, now)
        space.bookings = keep or None
        return due

    def _decide(self, space: SpaceLive, b: Booking, now: float) -> None:
        if not b.requires_checkin:
            return
        ns = self.no_show
        if b.checked_in is not None:
            ns.required += 1
            ns.checked_in += 1
            return
        kind = "unverified_booking" if b.saw_unknown else "ghost_booking"
        if b.saw_unknown:
            ns.unverified += 1
        else:
            ns.required += 1
            ns.released += 1
        details = {"grace_s": self.grace_s, "action": "none" if b.saw_unknown else "release"}
        self.out.findings.append(Finding(kind, b.id, space.id, b.start, b.end, now, details))
