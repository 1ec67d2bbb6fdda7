"""The bench's naive baseline computes what the engine computes: the ratio compares like work."""

from __future__ import annotations

import random

from bench.engine_building import T0, event_for, synthetic
from bench.engine_naive import NaiveEngine
from gateway.occupancy import OccupancyEngine
from gateway.settings import OccupancySettings


def test_naive_recompute_agrees_with_the_engine_every_tick() -> None:
    rng = random.Random(3)
    building = synthetic(200)
    sensors = list(building.devices.values())
    st = OccupancySettings(sensor_stale_s=86_400, bin_s=60)
    engine, naive = OccupancyEngine(building, st, T0), NaiveEngine(building, st, T0)
    now = T0
    seen = set()
    # every sensor speaks, then 4 sensors a second, past several bins (the naive lists are
    # compacted at each) and the motion timeouts (300 s), which fall due on both sides
    for second in range(600):
        for s in sensors if second == 0 else rng.sample(sensors, 4):
            ev = event_for(rng, building, s, now)
            engine.apply(ev, now)
            naive.apply(ev)
        now += 1
        engine.tick(now)
        engine.drain()
        occupied = naive.tick(now)
        assert occupied == sum(sp.state == "occupied" for sp in engine.spaces.values()), second
        seen.add(occupied)
    assert len(seen) > 10  # the occupied count moved: the comparison was not of constants
    assert naive.cur_bin > int(T0 // naive.bin_s)  # a bin boundary (compaction) was crossed
