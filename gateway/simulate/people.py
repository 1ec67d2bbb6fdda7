"""Where people are: a seeded day plan per space type, turned into head-count changes."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from functools import partial

from gateway.building import Building, BusinessHours, Space
from gateway.simulate.core import LiveSpace, World

#: One person's stay, in local clock hours of the day.
Stay = tuple[float, float]
#: (start, end) epoch seconds of one person's stay.
Visit = tuple[float, float]
ArrivalSink = Callable[[list[Visit]], None]

#: Space types whose people come in through the building's entrance.
RESIDENT_TYPES = frozenset({"private_office", "hot_desk", "open_area"})


def _worker(rng: random.Random, w0: float, w1: float, spread: float) -> list[Stay]:
    """A person's day at a desk: arrive, maybe step out for lunch, leave."""
    arrive = rng.uniform(w0, w0 + spread)
    leave = rng.uniform(max(arrive + 1.0, w1 - 0.35 * (w1 - w0)), w1)
    if rng.random() < 0.6 and arrive < 11.8 and leave > 13.5:
        out = rng.uniform(11.8, 12.9)
        back = out + rng.uniform(0.4, 1.0)
        return [(arrive, out), (back, leave)]
    return [(arrive, leave)]


def _office(space: Space, rng: random.Random, w0: float, w1: float, f: float) -> list[Stay]:
    if rng.random() > 0.85 * f:
        return []
    team = rng.randint(max(1, space.capacity // 3), space.capacity)
    stays: list[Stay] = []
    for _ in range(team):
        if rng.random() < 0.85:
            stays += _worker(rng, w0, w1, 2.0)
    return stays


def _open_area(space: Space, rng: random.Random, w0: float, w1: float, f: float) -> list[Stay]:
    people = round(space.capacity * rng.uniform(0.45, 0.85) * f)
    stays: list[Stay] = []
    for _ in range(people):
        stays += _worker(rng, w0, w1, 3.0)
    for _ in range(rng.randint(1, 4)):  # walk-ins
        t = rng.uniform(w0, w1 - 0.5)
        stays.append((t, t + rng.uniform(0.2, 1.0)))
    return stays


def _hot_desk(space: Space, rng: random.Random, w0: float, w1: float, f: float) -> list[Stay]:
    stays: list[Stay] = []
    for _ in range(space.capacity):
        if rng.random() > 0.7 * f:
            continue
        a = rng.uniform(w0, w0 + 2.5)
        b = min(w1, a + rng.uniform(2.0, 4.5))
        stays.append((a, b))
        if rng.random() < 0.6 and b + 1.5 < w1:
            c = b + rng.uniform(0.5, 1.2)
            stays.append((c, min(w1, c + rng.uniform(1.5, 4.0))))
    return stays


#: One planned meeting, in local clock hours: (start, end, whether anybody comes).
Meeting = tuple[float, float, bool]


def _meetings(
    space: Space, rng: random.Random, w0: float, w1: float, f: float
) -> tuple[list[Stay], list[Meeting]]:
    """A meeting room's day: the stays, and the meetings they are (booked ahead by
    ``gateway.simulate.bookings``; some are booked and nobody comes)."""
    stays: list[Stay] = []
    meetings: list[Meeting] = []
    t = w0 + 0.5
    while t < w1 - 1.0:
        p = 0.5 if t < 12 else 0.25 if t < 14 else 0.1  # afternoons are quiet
        if rng.random() > p * f:
            t += 0.5
            continue
        length = rng.choice((0.5, 1.0, 1.0, 1.5, 2.0))
        kept = rng.random() >= 0.12  # else: booked, nobody came
        meetings.append((t, t + length, kept))
        if kept:
            if rng.random() < 0.15:
                size = space.capacity
            else:
                size = rng.randint(min(2, space.capacity), max(2, round(space.capacity * 0.6)))
            for _ in range(min(size, space.capacity)):
                a = t + rng.uniform(-3, 5) / 60
                stays.append((a, t + length - rng.uniform(0, 6) / 60))
        t += length + (0.0 if rng.random() < 0.3 else 0.5)
    return stays, meetings


def _meeting_room(space: Space, rng: random.Random, w0: float, w1: float, f: float) -> list[Stay]:
    return _meetings(space, rng, w0, w1, f)[0]


def _phone_booth(space: Space, rng: random.Random, w0: float, w1: float, f: float) -> list[Stay]:
    stays: list[Stay] = []
    t = w0 + rng.uniform(0.2, 1.0)
    while t < w1:
        call = rng.uniform(4, 20) / 60
        if rng.random() < 0.8 * f:
            stays.append((t, t + call))
        gap = rng.uniform(10, 70) / 60 * (1.6 if t > 15 else 1.0)
        t += call + gap
    return stays


def _lounge(space: Space, rng: random.Random, w0: float, w1: float, f: float) -> list[Stay]:
    cap = space.capacity
    stays: list[Stay] = []

    def crowd(n: int, lo: float, hi: float, stay_lo: float, stay_hi: float) -> None:
        for _ in range(n):
            a = rng.uniform(lo, hi)
            stays.append((a, a + rng.uniform(stay_lo, stay_hi)))

    crowd(round(cap * rng.uniform(0.5, 0.9) * f), 11.9, 12.9, 0.3, 0.8)  # lunch
    crowd(round(cap * rng.uniform(0.1, 0.25) * f), 9.5, 10.5, 0.1, 0.3)  # morning coffee
    crowd(round(cap * rng.uniform(0.1, 0.2) * f), 15.0, 16.0, 0.1, 0.3)  # afternoon coffee
    crowd(rng.randint(3, 8), w0, w1 - 0.5, 0.2, 1.0)  # singles
    return stays


_PLANNERS = {
    "private_office": _office,
    "open_area": _open_area,
    "hot_desk": _hot_desk,
    "meeting_room": _meeting_room,
    "phone_booth": _phone_booth,
    "lounge": _lounge,
}


def _local(day: date, hour: float, hours: BusinessHours) -> float:
    base = datetime.combine(day, time(0), hours.tz)
    return (base + timedelta(seconds=round(hour * 3600))).timestamp()


def _work_hours(day: date, hours: BusinessHours) -> tuple[float, float] | None:
    opens = hours.spans_on(day)
    if not opens:
        return None
    o0, o1 = opens[0][0] / 60, opens[-1][1] / 60
    w0, w1 = max(o0, 8.0), min(o1, 19.5)
    return None if w1 - w0 < 1.0 else (w0, w1)


def plan_day(space: Space, day: date, hours: BusinessHours, rng: random.Random) -> list[Visit]:
    """Every person's stay in one space on one local day, clipped to the open hours."""
    work = _work_hours(day, hours)
    if work is None:
        return []
    w0, w1 = work
    factor = 1.0 if w1 - w0 >= 8 else 0.4  # short days (Saturdays) are quiet
    factor *= rng.uniform(0.85, 1.1)
    open_epochs = hours.open_intervals(day)
    visits: list[Visit] = []
    for a, b in _PLANNERS[space.type](space, rng, w0, w1, factor):
        start, end = _local(day, a, hours), _local(day, b, hours)
        for lo, hi in open_epochs:
            s, e = max(start, lo), min(end, hi)
            if e - s >= 60:
                visits.append((s, e))
    return visits


def plan_meetings(
    space: Space, day: date, hours: BusinessHours, rng: random.Random
) -> list[tuple[float, float, bool]]:
    """The meetings of a meeting room on one local day (epoch start, end, kept): the same
    plan as :func:`plan_day` makes from a random stream of the same seed."""
    work = _work_hours(day, hours)
    if work is None or space.type != "meeting_room":
        return []
    w0, w1 = work
    factor = (1.0 if w1 - w0 >= 8 else 0.4) * rng.uniform(0.85, 1.1)
    return [
        (_local(day, a, hours), _local(day, b, hours), kept)
        for a, b, kept in _meetings(space, rng, w0, w1, factor)[1]
    ]


def count_at(visits: list[Visit], ts: float) -> int:
    """People present at ``ts``."""
    return sum(1 for a, b in visits if a <= ts < b)


def count_changes(visits: list[Visit]) -> list[tuple[float, int]]:
    """The head count after each moment it changes, in time order."""
    deltas: dict[float, int] = {}
    for a, b in visits:
        deltas[a] = deltas.get(a, 0) + 1
        deltas[b] = deltas.get(b, 0) - 1
    out: list[tuple[float, int]] = []
    count = 0
    for ts in sorted(deltas):
        if deltas[ts]:
            count += deltas[ts]
            out.append((ts, count))
    return out


def _set_count(live: LiveSpace, count: int, ts: float) -> None:
    live.set(ts, count)


class People:
    """Plans each local day for every space and moves the head counts as simulated time passes."""

    def __init__(self, world: World, building: Building) -> None:
        self.world = world
        self.hours = building.site.business_hours
        self.tz = building.site.tz
        self.arrival_sinks: list[ArrivalSink] = []
        self.scripted: dict[str, list[Visit]] = {}  # spaces whose visits are given, not planned

    def start(self, ts: float) -> None:
        """Set the head counts for ``ts`` (silently) and plan the rest of the day."""
        self._plan(datetime.fromtimestamp(ts, self.tz).date(), ts, initial=True)

    def _plan(self, day: date, after: float, *, initial: bool = False) -> None:
        clock = self.world.clock
        arrivals: list[Visit] = []
        for sid, live in self.world.spaces.items():
            if sid in self.scripted:
                visits = [v for v in self.scripted[sid] if self._day_of(v[0]) == day]
            else:
                visits = plan_day(live.space, day, self.hours, self.world.rng("day", sid, str(day)))
            if initial:
                live.count = count_at(visits, after)
            for ts, n in count_changes(visits):
                if ts > after:
                    clock.at(ts, partial(_set_count, live, n))
            if live.space.type in RESIDENT_TYPES:
                arrivals += [v for v in visits if v[0] > after]
        for sink in self.arrival_sinks:
            sink(arrivals)
        midnight = datetime.combine(day + timedelta(days=1), time(0), self.tz).timestamp()
        clock.at(midnight, partial(self._next_day, day + timedelta(days=1)))

    def _day_of(self, ts: float) -> date:
        return datetime.fromtimestamp(ts, self.tz).date()

    def _next_day(self, day: date, ts: float) -> None:
        self._plan(day, ts)
