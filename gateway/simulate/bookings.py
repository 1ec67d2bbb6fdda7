"""Room bookings the simulated people make: their planned meetings, booked ahead.

Each bookable meeting room's meetings come from the same seeded plan the head counts follow
(``people.plan_meetings``), so a booking is kept when its meeting has people and is a
no-show when the plan says nobody came (about one in eight). A booking is made between ten
minutes and two hours before it starts, for one of the building's members, and queued on
``world.bookings``; the simulator sends it to the gateway's bookings API. Nothing here does
I/O. ``no_show_soon`` books one room nobody will come to, to show a ghost release at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial

from gateway.building import Building, Space
from gateway.simulate.core import World
from gateway.simulate.people import People, plan_meetings

log = logging.getLogger(__name__)

LEAD_S = (600.0, 7200.0)  # how long ahead a meeting is booked
NO_SHOW_LEAD_S = 120.0  # the showcase no-show starts this long after it is booked
NO_SHOW_LENGTH_S = 1200.0  # over the grace period: released while it still holds the room


@dataclass(frozen=True, slots=True)
class BookingRequest:
    """One booking to make at simulated time ``ts`` (epoch seconds throughout)."""

    ts: float
    space: str
    member: str
    start: float
    end: float
    kept: bool  # whether people come (the gateway is not told: it finds out)


def bookable_rooms(building: Building) -> list[Space]:
    """The meeting rooms members can book, in building order."""
    return [s for s in building.spaces.values() if s.bookable and s.type == "meeting_room"]


class Booker:
    """Queues the bookings of every bookable meeting room's planned meetings, day by day."""

    def __init__(self, world: World, people: People, building: Building) -> None:
        self.world, self.people = world, people
        self.tz, self.hours = building.site.tz, building.site.business_hours
        self.rooms = [r for r in bookable_rooms(building) if r.id not in people.scripted]
        self.members = sorted(building.members)
        self.rng = world.rng("bookings")
        self.planned: dict[str, list[tuple[float, float, bool]]] = {}  # today's, per room

    @property
    def active(self) -> bool:
        return bool(self.rooms and self.members)

    def start(self, ts: float) -> None:
        """Book today's meetings still ahead, then each day's at midnight."""
        if self.active:
            self._day(datetime.fromtimestamp(ts, self.tz).date(), ts)

    def _day(self, day: date, after: float) -> None:
        clock = self.world.clock
        for room in self.rooms:
            rng = self.world.rng("day", room.id, str(day))  # the stream People plans with
            meetings = plan_meetings(room, day, self.hours, rng)
            self.planned[room.id] = meetings
            for start, end, kept in meetings:
                if start <= after:
                    continue
                made = max(after, start - self.rng.uniform(*LEAD_S))
                member = self.rng.choice(self.members)
                request = BookingRequest(made, room.id, member, start, end, kept)
                clock.at(made, partial(self._queue, request))
        midnight = datetime.combine(day + timedelta(days=1), time(0), self.tz).timestamp()
        clock.at(midnight, lambda t: self._day(day + timedelta(days=1), t))

    def _queue(self, request: BookingRequest, ts: float) -> None:
        self.world.bookings.append(request)

    def no_show_soon(self, ts: float) -> BookingRequest | None:
        """Book, now, a room nobody has a meeting in for the next 20 minutes: its ghost
        booking is released once the grace period has passed. None when no room is free."""
        if not self.active:
            return None
        start = ts + NO_SHOW_LEAD_S
        end = start + NO_SHOW_LENGTH_S
        for room in self.rooms:
            busy = any(a < end and b > ts for a, b, _ in self.planned.get(room.id, []))
            if not busy and self.world.count(room.id) == 0:
                request = BookingRequest(ts, room.id, self.members[0], start, end, False)
                self.world.bookings.append(request)
                return request
        return None
