"""Benchmark part: the naive way, every space recomputed from its events at each tick.

What the naive side does (a straightforward implementation, using the engine's own code for
the per-sensor folding and the fusion, so only the strategy differs):
- an event is appended to its space's event list (that is its whole cost per event);
- every tick, for *every* space, the space's event list is folded into fresh sensor evidence
  with ``fusion.fold``, fused with ``fusion.fuse`` at ``now``, and the tick's business seconds
  are added to the space's open utilization bin by the state found;
- so that the lists stay bounded, each is compacted at every bin boundary to the events that
  still decide the state (per device and quantity the newest one; for motion the newest report
  with and without motion). The lists therefore hold what arrived in the current bin on top of
  that; the measured ticks lie in the middle of a bin (half a bin of events on average).

The building and the event stream are the engine bench's (``bench/engine_building.py``): each
sensor speaks once, then 1 % of the spaces receive an event every second.
"""

from __future__ import annotations

import gc
import random
import statistics
from typing import Any

from bench.engine_building import T0, clock, event_for, synthetic
from gateway.building import Building
from gateway.events import Event
from gateway.occupancy.accumulate import Acc
from gateway.occupancy.calendar import Calendar
from gateway.occupancy.fusion import OCCUPIED, UNKNOWN, SensorEvidence, fold, fuse
from gateway.settings import OccupancySettings


class NaiveEngine:
    """Keeps every space's events; recomputes every space from them at each tick."""

    def __init__(self, building: Building, settings: OccupancySettings, now: float) -> None:
        self.settings = settings
        self.bin_s = int(settings.bin_s)
        self.cal = Calendar(building.site.business_hours, self.bin_s)
        self.events: dict[str, list[Event]] = {sid: [] for sid in building.spaces}
        self.bins: dict[str, Acc] = {}
        self.last = now
        self.cur_bin = int(now // self.bin_s)

    def apply(self, ev: Event) -> None:
        if ev.space is not None and ev.space in self.events:
            self.events[ev.space].append(ev)

    def tick(self, now: float) -> int:
        """Recompute every space at ``now``; the number of spaces found occupied."""
        st, stale = self.settings, self.settings.sensor_stale_s
        idx = int(now // self.bin_s)
        open_dt = self.cal.open_in_bin(idx, max(self.last, idx * self.bin_s), now)
        occupied = 0
        for sid, evs in self.events.items():
            sensors: dict[str, SensorEvidence] = {}
            for ev in evs:
                s = sensors.get(ev.device)
                if s is None:
                    s = sensors[ev.device] = SensorEvidence(ev.device, stale_s=stale)
                fold(s, ev)
            state, occ, _ = fuse(list(sensors.values()), now, st)
            if state == OCCUPIED:
                occupied += 1
            if state != UNKNOWN and open_dt > 0:
                acc = self.bins.get(sid)
                if acc is None or acc.key != idx:
                    acc = self.bins[sid] = Acc(sid, idx)
                acc.add(state == OCCUPIED, occ, open_dt)
        self.last = now
        if idx != self.cur_bin:
            self.cur_bin = idx
            self.compact()
        return occupied

    def compact(self) -> None:
        for sid, evs in self.events.items():
            newest: dict[tuple[str, str, object], Event] = {}
            for ev in evs:
                q = ev.quantity
                key = (ev.device, q, bool(ev.value) if q == "motion" else None)
                old = newest.get(key)
                if old is None or ev.ts >= old.ts:
                    newest[key] = ev
            self.events[sid] = sorted(newest.values(), key=lambda e: e.ts)


def run_naive(n: int, ticks: int) -> dict[str, Any]:
    """The naive side at ``n`` spaces: median ms per tick (its events plus its recompute)."""
    rng = random.Random(n)
    building = synthetic(n)
    sensors = list(building.devices.values())
    st = OccupancySettings(sensor_stale_s=86_400)
    naive = NaiveEngine(building, st, T0)
    now = T0
    # every sensor speaks once (as in the engine bench), then 1 % of the spaces change every
    # second until the middle of a bin; none of this is timed
    per_s = -(-len(sensors) // max(1, n // 100))
    for k in range(0, len(sensors), per_s):
        for s in sensors[k : k + per_s]:
            naive.apply(event_for(rng, building, s, now))
        now += 1
    bin_s = naive.bin_s
    naive.tick(now)
    mid = (int(now // bin_s) + 1) * bin_s + bin_s // 2
    one_pct = max(1, n // 100)
    while now < mid:
        for s in rng.sample(sensors, one_pct):
            naive.apply(event_for(rng, building, s, now))
        now += 1
        if int(now // bin_s) != naive.cur_bin:
            naive.tick(now)  # compacts the lists at the bin boundary
    naive.last = now - 1
    gc.collect()
    gc.freeze()
    total_ms, events_ms = [], []
    lengths = [len(v) for v in naive.events.values()]
    for _ in range(ticks):
        evs = [event_for(rng, building, s, now) for s in rng.sample(sensors, one_pct)]
        t = clock()
        for ev in evs:
            naive.apply(ev)
        t1 = clock()
        now += 1
        naive.tick(now)
        t2 = clock()
        total_ms.append((t2 - t) * 1000)
        events_ms.append((t1 - t) * 1000)
    return {
        "naive_ms_median": round(statistics.median(total_ms), 1),
        "naive_events_ms_median": round(statistics.median(events_ms), 3),
        "naive_ticks": ticks,
        "naive_events_per_space": round(statistics.fmean(lengths), 2),
    }
