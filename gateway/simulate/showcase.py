"""What the demo plays in its first live minutes, so each thing the product is for shows:

- a booking of an empty room that nobody comes to: released as a ghost booking once the
  grace period has passed;
- a full meeting in a room with a CO2 monitor, booked and kept: checked in by presence, the
  air rising over the limit in about twenty simulated minutes (an alert and a work order);
- a paper jam on the building's first printer a few simulated minutes in.

Each is set up on the simulated clock; what the building file lacks (no bookable room, no
CO2 monitor, no printer) is skipped and said so.
"""

from __future__ import annotations

from functools import partial

from gateway.simulate.bookings import BookingRequest
from gateway.simulate.core import LiveSpace
from gateway.simulate.env import RefEnvironment, ZigbeeAirQuality
from gateway.simulate.printers import Printer
from gateway.simulate.traffic import Traffic

CROWD_AFTER_S = 60.0
CROWD_S = 2700.0


def _set(live: LiveSpace, count: int, ts: float) -> None:
    live.set(ts, count)


def _crowd(traffic: Traffic, ts: float) -> str:
    booker = traffic.booker
    monitored = {
        d.space
        for d in traffic.devices
        if isinstance(d, RefEnvironment | ZigbeeAirQuality) and d.space is not None
    }
    rooms = [r for r in (booker.rooms if booker else []) if r.id in monitored]
    if booker is None or not booker.members or not rooms:
        return "no bookable meeting room with a CO2 monitor: no crowded meeting"
    start, end = ts + CROWD_AFTER_S, ts + CROWD_AFTER_S + CROWD_S
    for room in rooms:
        planned = booker.planned.get(room.id, [])
        if any(a < end and b > ts for a, b, _ in planned) or traffic.world.count(room.id):
            continue
        live = traffic.world.spaces[room.id]
        traffic.world.clock.at(start, partial(_set, live, room.capacity))
        traffic.world.clock.at(end, partial(_set, live, 0))
        member = booker.members[-1]
        traffic.world.bookings.append(BookingRequest(ts, room.id, member, start, end, True))
        return f"a full meeting in {room.name} (CO2 rises)"
    return "every monitored meeting room is busy: no extra crowded meeting"


def showcase(traffic: Traffic, ts: float) -> list[str]:
    """Set up the first minutes' showcase at simulated ``ts``; what was set up or skipped."""
    said: list[str] = []
    booker = traffic.booker
    if booker is None or not booker.rooms:
        said.append("no bookable meeting rooms: no bookings, no ghost-booking releases")
    elif not booker.members:
        said.append("no members in the building file: nobody to book rooms for")
    else:
        got = booker.no_show_soon(ts)
        room = got and traffic.world.spaces[got.space].space.name
        said.append(f"a no-show booking of {room}" if got else "no room free for a no-show")
    said.append(_crowd(traffic, ts))
    printer = next((d for d in traffic.devices if isinstance(d, Printer) and d.lead), None)
    if printer is None:
        said.append("no printer: no paper jam")
    else:
        printer.jam_soon(ts)
        said.append(f"a paper jam on {printer.id}")
    return said
