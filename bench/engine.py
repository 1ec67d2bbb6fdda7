"""Benchmark: the occupancy engine at 10k and 100k spaces, against a naive full recompute.

Measured in the same run:
- cost per event applied (µs, median over chunks of 1,000 events);
- cost per tick (ms, median) with 1 % of the spaces receiving an event between ticks, and
  with a fixed 100 spaces changing (the tick should cost what changed, not the building).
  The tick is the engine's time-driven work only (motion timeouts, badge holds, stale
  sensors, idle thresholds, booking grace falling due); applying the events that arrived
  between ticks is timed on its own and printed next to it (``events_ms_per_tick_1pct``);
  the rare tick crossing a bin boundary is measured separately;
- the cost of a bin boundary (every space with a known state settles once per 15 minutes);
- a naive tick: recompute every space's state and utilization each tick;
- peak RSS of a process holding the 100k-space building and engine (each size runs in its
  own child process, so the figure is that size's own peak);
- a utilization report of 1,000 spaces over 30 days read from rollups, against the same
  figures computed with SQL from the raw events (SQLite; the SQL version does not even clip
  to business hours, which only flatters it).

    .venv/bin/python bench/engine.py [--sizes 10000,100000] [--ticks 300]

Ends with one line holding a JSON object.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.building import Building, BusinessHours, DeviceBinding, Floor, Site, Space  # noqa: E402
from gateway.events import Event, kind_of  # noqa: E402
from gateway.occupancy import OccupancyEngine  # noqa: E402
from gateway.occupancy.accumulate import Acc  # noqa: E402
from gateway.occupancy.fusion import OCCUPIED, fuse  # noqa: E402
from gateway.settings import OccupancySettings  # noqa: E402

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


WARM_S = 1500  # > motion timeout + idle threshold (300 + 900 s)
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


def naive_tick(engine: OccupancyEngine, accs: dict[str, Acc], now: float, dt: float) -> None:
    """Every space: recompute its state from its evidence and add ``dt`` to its utilization."""
    st = engine.settings
    cal = engine.cal
    idx = int(now // cal.bin_s)
    open_dt = cal.open_in_bin(idx, now - dt, now)
    for sid, sp in engine.spaces.items():
        state, occ, _ = fuse(sp.sensors, now, st)
        if state != "unknown" and open_dt > 0:
            accs[sid].add(state == OCCUPIED, occ, open_dt)


def run_size(n: int, ticks: int) -> dict[str, float]:
    """One building size, in this process."""
    rng = random.Random(n)
    t_build = time.perf_counter()
    building = synthetic(n)
    sensors = list(building.devices.values())
    # the bench's sensors count as reporting (as with availability heartbeats): silence alone
    # does not end them, so the change rate is the one the bench sets
    engine = OccupancyEngine(building, OccupancySettings(sensor_stale_s=86_400), T0)
    now = T0

    def drain_every(t_now: float) -> None:
        # the service hands the engine's output (closed bins, episodes, findings) to the
        # store every ``snapshot_s`` (5 s) and drops it; the bench drops it on the same beat
        if t_now % 5 == 0:
            engine.drain()

    # every sensor speaks once, spread over n/100 s (about 135 a second at any size), so
    # the deadlines they arm (motion, idle, staleness) are spread as in a running building
    per_s = -(-len(sensors) // max(1, n // 100))
    for k in range(0, len(sensors), per_s):
        for s in sensors[k : k + per_s]:
            engine.apply(event_for(rng, building, s, now), now)
        now += 1
        engine.tick(now)
        drain_every(now)
    build_s = time.perf_counter() - t_build
    # long-lived objects out of the cyclic collector's way, as a long-running daemon would
    gc.collect()
    gc.freeze()

    # cost per event
    per_event: list[float] = []
    for _ in range(50):
        chunk = [event_for(rng, building, rng.choice(sensors), now) for _ in range(1000)]
        t = time.perf_counter()
        for ev in chunk:
            engine.apply(ev, now)
        per_event.append((time.perf_counter() - t) / 1000 * 1e6)
        now += 1
        engine.tick(now)
        drain_every(now)

    applied: list[float] = []  # ms to apply one tick's worth of events (not in the tick)

    def ticks_with(changing: int, count: int, start: float) -> tuple[list[float], float]:
        out = []
        t_now = start
        applied.clear()
        for _ in range(count):
            evs = [event_for(rng, building, s, t_now) for s in rng.sample(sensors, changing)]
            t = time.perf_counter()
            for ev in evs:
                engine.apply(ev, t_now)
            applied.append((time.perf_counter() - t) * 1000)
            t_now += 1.0
            # skip the rare bin boundary: it is measured on its own below
            if int(t_now // engine.bin_s) != int((t_now - 1) // engine.bin_s):
                engine.tick(t_now)
                drain_every(t_now)
                continue
            t = time.perf_counter()
            engine.tick(t_now)
            out.append((time.perf_counter() - t) * 1000)
            drain_every(t_now)
        return out, t_now

    # 100 spaces changing a second at both sizes: the tick should cost the same. Each rate
    # runs WARM_S before it is measured, so the motion timeouts (300 s) and the idle
    # thresholds they lead to (900 s later) armed by earlier changes -- including the building
    # phase, which lasts n/100 s -- fall due at the rate being measured, not the last one
    _, now = ticks_with(100, WARM_S, now)
    c0, d0 = engine.changes, engine.due_recomputes
    tick_fixed, now = ticks_with(100, ticks, now)
    fixed_changes = (engine.changes - c0) / ticks
    fixed_due = (engine.due_recomputes - d0) / ticks
    one_pct = max(1, n // 100)
    _, now = ticks_with(one_pct, WARM_S, now)
    c0, d0 = engine.changes, engine.due_recomputes
    tick_ms, now = ticks_with(one_pct, ticks, now)
    apply_ms = statistics.median(applied)
    pct_changes = (engine.changes - c0) / ticks
    pct_due = (engine.due_recomputes - d0) / ticks

    # one bin boundary: every known space settles once
    boundary = (int(now // engine.bin_s) + 1) * engine.bin_s
    engine.tick(boundary - 1)
    t = time.perf_counter()
    settled = engine.close_bins(boundary)
    boundary_ms = (time.perf_counter() - t) * 1000
    engine.drain()

    # the engine's own peak: taken before the naive baseline allocates its accumulators
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    accs = {sid: Acc(sid, 0) for sid in engine.spaces}
    naive = []
    for _ in range(3):
        now += 1
        t = time.perf_counter()
        naive_tick(engine, accs, now, 1.0)
        naive.append((time.perf_counter() - t) * 1000)
    return {
        "spaces": n,
        "sensors": len(sensors),
        "build_s": round(build_s, 2),
        "event_us_median": round(statistics.median(per_event), 2),
        "tick_ms_median": round(statistics.median(tick_ms), 4),
        "tick_ms_p95": round(sorted(tick_ms)[int(len(tick_ms) * 0.95)], 4),
        "events_ms_per_tick_1pct": round(apply_ms, 3),
        "tick_ms_median_fixed100": round(statistics.median(tick_fixed), 4),
        "state_changes_per_tick_1pct": round(pct_changes, 1),
        "state_changes_per_tick_fixed100": round(fixed_changes, 1),
        "due_recomputes_per_tick_1pct": round(pct_due, 1),
        "due_recomputes_per_tick_fixed100": round(fixed_due, 1),
        "bin_boundary_ms": round(boundary_ms, 1),
        "bin_boundary_spaces": settled,
        "naive_tick_ms_median": round(statistics.median(naive), 1),
        "peak_rss_mb": round(rss_mb, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--ticks", type=int, default=300)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_size(args.one, args.ticks)))
        return
    from bench.engine_report import report_bench

    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[int, dict[str, float]] = {}
    for n in sizes:
        proc = subprocess.run(
            [sys.executable, __file__, "--one", str(n), "--ticks", str(args.ticks)],
            check=True,
            capture_output=True,
            text=True,
        )
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        results[n] = r
        print(
            f"{n:>7} spaces ({r['sensors']} sensors, built in {r['build_s']} s): "
            f"event {r['event_us_median']} µs; applying 1 % of spaces' events "
            f"{r['events_ms_per_tick_1pct']} ms per tick (not in the tick); tick (deadlines "
            f"due, no events) {r['tick_ms_median']} ms median "
            f"(p95 {r['tick_ms_p95']}) with 1 % changing, {r['tick_ms_median_fixed100']} ms "
            f"with 100 changing (spaces recomputed by the tick: "
            f"{r['due_recomputes_per_tick_1pct']} / {r['due_recomputes_per_tick_fixed100']}); "
            f"naive tick {r['naive_tick_ms_median']} ms "
            f"(x{r['naive_tick_ms_median'] / max(r['tick_ms_median'], 1e-6):.0f}); "
            f"bin boundary {r['bin_boundary_ms']} ms for {r['bin_boundary_spaces']} spaces; "
            f"peak RSS {r['peak_rss_mb']} MB",
            flush=True,
        )
    rep = report_bench()
    print(
        f"report 1000 spaces x 30 days: rollups {rep['report_ms']} ms, SQL from "
        f"{rep['raw_events']} raw events {rep['sql_ms']} ms (x{rep['speedup']:.0f})"
    )
    small, big = results[min(sizes)], results[max(sizes)]
    figures = {
        "tick_ms_median_10k": small["tick_ms_median"],
        "tick_ms_median_100k": big["tick_ms_median"],
        "tick_ms_median_fixed100_10k": small["tick_ms_median_fixed100"],
        "tick_ms_median_fixed100_100k": big["tick_ms_median_fixed100"],
        "event_us_median": big["event_us_median"],
        "events_ms_per_tick_1pct_100k": big["events_ms_per_tick_1pct"],
        "naive_tick_ms_100k": big["naive_tick_ms_median"],
        "speedup_vs_naive_100k": round(
            big["naive_tick_ms_median"] / max(big["tick_ms_median"], 1e-6), 1
        ),
        # the naive tick against the engine's events-plus-tick for the same second
        "speedup_vs_naive_incl_events_100k": round(
            big["naive_tick_ms_median"]
            / max(big["tick_ms_median"] + big["events_ms_per_tick_1pct"], 1e-6),
            1,
        ),
        "bin_boundary_ms_100k": big["bin_boundary_ms"],
        "report_ms_1000x30d": rep["report_ms"],
        "report_sql_ms_1000x30d": rep["sql_ms"],
        "report_speedup_vs_sql": round(rep["speedup"], 1),
        "peak_rss_mb_100k": big["peak_rss_mb"],
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
