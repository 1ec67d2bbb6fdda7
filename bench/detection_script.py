"""The scripted part of a detection bench day: meetings and bookings of every kind, outages."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from gateway.simulate.script import Outage, Script, Visit


@dataclass(frozen=True, slots=True)
class Tunables:
    """The gateway's documented tunables the bench shortens, and what the fake bridges do."""

    motion_timeout_s: float = 120.0  # GATEWAY_OCCUPANCY__MOTION_TIMEOUT_S
    idle_after_s: float = 300.0  # GATEWAY_OCCUPANCY__IDLE_AFTER_S
    grace_s: float = 180.0  # GATEWAY_BOOKINGS__GRACE_S
    stale_s: float = 1200.0  # GATEWAY_OCCUPANCY__SENSOR_STALE_S (> the 900 s heartbeat)
    # zigbee2mqtt availability timeouts, shortened as its configuration allows
    # (availability.active.timeout / passive.timeout, minutes; defaults 10 and 1500)
    z2m_active_s: float = 60.0
    z2m_passive_s: float = 300.0


@dataclass(slots=True)
class Planned:
    """A booking the bench makes through the API, with what the people will do."""

    space: str
    member: str
    start: float
    end: float
    kind: str  # show, early, late, inside, noshow, offline (made while the sensor is off)
    make_at: float | None = None  # simulated time to make it at; None: at the start
    id: str | None = None


@dataclass(slots=True)
class Day:
    script: Script = field(default_factory=Script)
    bookings: list[Planned] = field(default_factory=list)


KINDS = ("show", "early", "late", "inside", "noshow", "show", "walkin")
PIR_ROOMS = ("pir-a", "pir-b")
PRESENCE_ROOMS = ("radar-a", "fp1-a")


def _people(rng: random.Random, arrive: float, leave: float) -> list[Visit]:
    n = rng.randint(1, 3)
    return [(arrive + i * rng.uniform(0, 20), leave - rng.uniform(0, 90)) for i in range(n)]


def _meetings(
    rng: random.Random, day: Day, space: str, t: float, until: float, tu: Tunables, allow: float
) -> None:
    """Bookings one after another, each played as one of ``KINDS``."""
    kinds = list(KINDS)
    rng.shuffle(kinds)
    i = 0
    visits = day.script.visits.setdefault(space, [])
    while True:
        start = float(round(t))
        end = start + rng.choice((600.0, 900.0, 1800.0))
        if end > until:
            return
        kind = kinds[i % len(kinds)]
        i += 1
        g = tu.grace_s
        arrive = {
            "show": start + rng.uniform(0, 0.5 * g),
            "early": start - rng.uniform(60, 240),
            "late": start + g + rng.uniform(30, 300),
            "inside": start + g - allow - rng.uniform(1, 10),  # just inside the grace
            "walkin": start + rng.uniform(0, 60),  # nobody booked it
        }.get(kind)
        if arrive is not None:
            people = _people(rng, arrive, end)
            if kind in ("show", "early") and rng.random() < 0.5:
                # everyone steps out for less than idle_after, then comes back
                out = start + g + rng.uniform(60, 300)
                back = out + rng.uniform(60, 0.8 * tu.idle_after_s)
                if back + 120 < end:
                    people = [(a, out) for a, _ in people] + [(back, b) for _, b in people]
            visits += people
        if kind != "walkin":
            day.bookings.append(Planned(space, f"m-{rng.randint(1, 3)}", start, end, kind))
        # the next meeting starts after the PIR's lag and the early arrivals' lead
        t = end + rng.uniform(
            tu.motion_timeout_s + 360, tu.motion_timeout_s + 2.5 * tu.idle_after_s
        )


def plan(seed: int, t0: float, t1: float, tu: Tunables, allow: dict[str, float]) -> Day:
    """The scripted day from ``t0`` to ``t1``; ``allow``: report allowance per room kind."""
    rng = random.Random(f"{seed}:detection-script")
    day = Day()
    d = t1 - t0
    for room in PIR_ROOMS:
        _meetings(rng, day, room, t0 + rng.uniform(300, 900), t1, tu, allow["pir"])
    for room in PRESENCE_ROOMS:
        _meetings(rng, day, room, t0 + rng.uniform(300, 900), t1, tu, allow["presence"])

    # a PIR that dies while its room is empty; a booking and people after it died
    v = day.script.visits
    end1 = t0 + 0.2 * d
    v["dies-a"] = _people(rng, t0 + 300, end1)
    day.bookings.append(Planned("dies-a", "m-1", t0 + 300, end1, "show"))
    die = end1 + tu.motion_timeout_s + 200
    day.script.outages.append(Outage("z-dies-a-motion", die, None, tu.z2m_passive_s))
    later = die + tu.z2m_passive_s + 300
    if later + 900 < t1:
        v["dies-a"] += _people(rng, later + 60, later + 700)
        day.bookings.append(Planned("dies-a", "m-2", later, later + 900, "offline"))

    # a radar router unplugged (announced offline), a booking made while it is off
    down = t0 + 0.25 * d
    v["offline-a"] = _people(rng, t0 + 200, down - 300)
    made = down + tu.z2m_active_s + 60
    start = made + 240
    up = start + tu.grace_s + 240
    day.script.outages.append(Outage("z-offline-a-presence", down, up, tu.z2m_active_s))
    day.bookings.append(Planned("offline-a", "m-3", start, start + 900, "offline", make_at=made))
    if up + 600 + 900 < t1:
        s2 = up + 600
        v["offline-a"] += _people(rng, s2 + rng.uniform(0, 60), s2 + 900)
        day.bookings.append(Planned("offline-a", "m-3", s2, s2 + 900, "show"))

    # desks whose desk sensor (no availability of its own) goes quiet while they are empty
    quiet = t0 + 0.3 * d
    v["desks-1"] = _people(rng, t0 + 120, quiet - 400) + _people(rng, quiet + 600, t1 - 300)
    day.script.outages.append(Outage("occ-desks-1", quiet, None, None))
    return day
