"""Benchmark part: the synthetic building and the sensor traffic the engine benches drive."""

from __future__ import annotations

import os
import random
import time
from zoneinfo import ZoneInfo

from gateway.building import Building, BusinessHours, DeviceBinding, Floor, Site, Space
from gateway.events import Event, kind_of

#: What the engine benches time with: the process's CPU time by default, so that other load on
#: a shared machine does not inflate one side of a ratio measured a minute after the other (on
#: a quiet machine it equals wall time); ``BENCH_CLOCK=wall`` times wall-clock instead.
clock = time.perf_counter if os.environ.get("BENCH_CLOCK") == "wall" else time.process_time

T0 = 1_772_607_600.0  # Wed 2026-03-04 08:00 CET
TZ = ZoneInfo("Europe/Amsterdam")
# (type, capacity, share, sensors): a co-working mix
MIX = [
    ("hot_desk", 1, 0.40, ("presence",)),
    ("private_office", 4, 0.20, ("motion", "door")),
    ("meeting_room", 8, 0.15, ("people_count", "motion")),
    ("phone_booth", 1, 0.10, ("presence",)),
    ("open_area", 20, 0.10, ("people_count",)),
    ("lounge", 15, 0.05, ("motion",)),
]


QUANTITY = {"peo": "people_count", "pre": "presence", "mot": "motion", "doo": "door"}


def pick(r: float) -> tuple[str, int, tuple[str, ...]]:
    """The space type whose share of the mix ``r`` (in [0, 1)) falls in."""
    acc = 0.0
    for typ, cap, share, kinds in MIX:
        acc += share
        if r < acc:
            return typ, cap, kinds
    return MIX[-1][0], MIX[-1][1], MIX[-1][3]


def synthetic(n: int, hours: BusinessHours | None = None) -> Building:
    """A building of ``n`` spaces; a device's id ends with its quantity (``s12-mot``)."""
    site = Site("bench", "Bench", "Europe/Amsterdam", TZ, hours or BusinessHours.always(TZ))
    spaces: dict[str, Space] = {}
    devices: dict[str, DeviceBinding] = {}
    floors = []
    k = 0
    for f in range(0, n, 250):
        fid = f"f{f // 250}"
        members = []
        for _ in range(min(250, n - f)):
            r = (k * 0.6180339887) % 1.0  # deterministic spread over the mix
            typ, cap, kinds = pick(r)
            sid = f"s{k}"
            sp = Space(sid, sid, typ, cap, typ == "meeting_room", fid)
            spaces[sid] = sp
            members.append(sp)
            for q in kinds:
                did = f"{sid}-{q[:3]}"
                devices[did] = DeviceBinding(did, "ref", sid)
            k += 1
        floors.append(Floor(fid, fid, tuple(members)))
    return Building(site, tuple(floors), spaces, devices)


def event_for(rng: random.Random, b: Building, dev: DeviceBinding, ts: float) -> Event:
    did, sid = dev.id, dev.space
    assert sid is not None
    q = QUANTITY[did[-3:]]
    if q == "people_count":
        cap = b.spaces[sid].capacity
        value: object = rng.choice((0, 0, rng.randint(1, cap)))
    elif q == "presence":
        value = rng.random() < 0.5
    elif q == "door":
        value = "granted"
    else:
        value = True
    return Event("bench", did, sid, ts, kind_of(q), q, value)  # type: ignore[arg-type]
