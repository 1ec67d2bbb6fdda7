"""Benchmark: the occupancy engine at 10k and 100k spaces, against a naive full recompute.

Measured in the same run:
- cost per event applied (µs, median over chunks of 1,000 events);
- cost per tick (ms, median) with 1 % of the spaces receiving an event between ticks, and
  with a fixed 100 spaces changing (the tick should cost what changed, not the building).
  The tick is the engine's time-driven work only (motion timeouts, badge holds, stale
  sensors, idle thresholds, booking grace falling due); applying the events that arrived
  between ticks is timed on its own and printed next to it; the rare tick crossing a bin
  boundary is measured separately;
- the cost of a bin boundary (every space with a known state settles once per 15 minutes);
- the engine against the naive way (``bench/engine_naive.py``) on the same work per second
  at 100k spaces with 1 % changing: the engine applies that second's events and ticks; the
  naive side appends the same events to each space's event list and recomputes *every*
  space's state (folding its event list with the engine's own fold and fusion code) and
  utilization. ``speedup_vs_naive_100k`` is the ratio of the two medians (events + tick on
  both sides);
- peak RSS of a process holding the 100k-space building and engine (each size runs in its
  own child process, so the figure is that size's own peak);
- a utilization report of 1,000 spaces over 30 days read from rollups, against the same
  figures computed with one SQL query from the raw events (SQLite, indexed; the SQL version
  does not even clip to business hours, which only flatters it).

    .venv/bin/python bench/engine.py [--sizes 10000,100000] [--ticks 300] [--repeat 3]

``--repeat`` runs every part that many times (fresh processes) and quotes the median of
each figure. Times are the bench process's CPU time (``BENCH_CLOCK=wall`` for wall-clock; on
a quiet machine the two agree), so that a busy shared machine does not skew one side of a
ratio. Ends with one line holding a JSON object.
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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.engine_building import T0, clock, event_for, synthetic  # noqa: E402
from gateway.occupancy import OccupancyEngine  # noqa: E402
from gateway.settings import OccupancySettings  # noqa: E402

WARM_S = 1500  # > motion timeout + idle threshold (300 + 900 s)


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
        t = clock()
        for ev in chunk:
            engine.apply(ev, now)
        per_event.append((clock() - t) / 1000 * 1e6)
        now += 1
        engine.tick(now)
        drain_every(now)

    applied: list[float] = []  # ms to apply one tick's worth of events (not in the tick)
    both: list[float] = []  # ms of that tick's events plus the tick itself

    def ticks_with(changing: int, count: int, start: float) -> tuple[list[float], float]:
        out = []
        t_now = start
        applied.clear()
        both.clear()
        for _ in range(count):
            evs = [event_for(rng, building, s, t_now) for s in rng.sample(sensors, changing)]
            t = clock()
            for ev in evs:
                engine.apply(ev, t_now)
            applied.append((clock() - t) * 1000)
            t_now += 1.0
            # skip the rare bin boundary: it is measured on its own below
            if int(t_now // engine.bin_s) != int((t_now - 1) // engine.bin_s):
                engine.tick(t_now)
                drain_every(t_now)
                continue
            t = clock()
            engine.tick(t_now)
            out.append((clock() - t) * 1000)
            both.append(applied[-1] + out[-1])
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
    total_ms = statistics.median(both)
    pct_changes = (engine.changes - c0) / ticks
    pct_due = (engine.due_recomputes - d0) / ticks

    # one bin boundary: every known space settles once
    boundary = (int(now // engine.bin_s) + 1) * engine.bin_s
    engine.tick(boundary - 1)
    t = clock()
    settled = engine.close_bins(boundary)
    boundary_ms = (clock() - t) * 1000
    engine.drain()

    # the engine's own peak (the naive side runs in a process of its own)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
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
        "events_plus_tick_ms_1pct": round(total_ms, 3),
        "peak_rss_mb": round(rss_mb, 1),
    }


def child(args: list[str]) -> dict[str, Any]:
    """Run this script with ``args`` in a fresh process; its last line as JSON."""
    proc = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    )
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each figure's median over repeated runs."""
    return {k: round(statistics.median(r[k] for r in runs), 4) for k in runs[0]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--ticks", type=int, default=300)
    ap.add_argument("--naive-ticks", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--naive", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_size(args.one, args.ticks)))
        return
    if args.naive:
        from bench.engine_naive import run_naive

        print(json.dumps(run_naive(args.naive, args.naive_ticks)))
        return
    from bench.engine_report import report_bench

    sizes = [int(s) for s in args.sizes.split(",")]
    rep_n = max(1, args.repeat)
    results: dict[int, dict[str, Any]] = {}
    for n in sizes:
        r = results[n] = medians(
            [child(["--one", str(n), "--ticks", str(args.ticks)]) for _ in range(rep_n)]
        )
        print(
            f"{n:>7} spaces ({r['sensors']:.0f} sensors, built in {r['build_s']} s): "
            f"event {r['event_us_median']} µs; applying 1 % of spaces' events "
            f"{r['events_ms_per_tick_1pct']} ms per tick (not in the tick); tick (deadlines "
            f"due, no events) {r['tick_ms_median']} ms median "
            f"(p95 {r['tick_ms_p95']}) with 1 % changing, {r['tick_ms_median_fixed100']} ms "
            f"with 100 changing (spaces recomputed by the tick: "
            f"{r['due_recomputes_per_tick_1pct']} / {r['due_recomputes_per_tick_fixed100']}); "
            f"events + tick {r['events_plus_tick_ms_1pct']} ms with 1 % changing; "
            f"bin boundary {r['bin_boundary_ms']} ms for {r['bin_boundary_spaces']:.0f} "
            f"spaces; peak RSS {r['peak_rss_mb']} MB",
            flush=True,
        )
    big_n = max(sizes)
    nv = medians(
        [
            child(["--naive", str(big_n), "--naive-ticks", str(args.naive_ticks)])
            for _ in range(rep_n)
        ]
    )
    big = results[big_n]
    speedup = nv["naive_ms_median"] / max(big["events_plus_tick_ms_1pct"], 1e-6)
    print(
        f"naive at {big_n} spaces, 1 % changing: events + recompute of every space "
        f"{nv['naive_ms_median']} ms per tick (its events {nv['naive_events_ms_median']} ms; "
        f"{nv['naive_events_per_space']} events per space folded), against the engine's "
        f"events + tick {big['events_plus_tick_ms_1pct']} ms: x{speedup:.1f}",
        flush=True,
    )
    reps = [report_bench() for _ in range(rep_n)]
    rep = medians([{k: v for k, v in r.items() if not isinstance(v, str)} for r in reps])
    print(
        f"report 1000 spaces x 30 days: rollups {rep['report_ms']} ms, one SQL query over "
        f"{rep['raw_events']:.0f} raw events {rep['sql_ms']} ms with an index made for it "
        f"(x{rep['speedup']:.1f}), {rep['sql_store_indexes_ms']} ms with the store's indexes "
        f"only (x{rep['sql_store_indexes_ms'] / rep['report_ms']:.1f})"
        + (f"; medians of {rep_n} runs" if rep_n > 1 else "")
    )
    small = results[min(sizes)]
    figures = {
        "tick_ms_median_10k": small["tick_ms_median"],
        "tick_ms_median_100k": big["tick_ms_median"],
        "tick_ms_median_fixed100_10k": small["tick_ms_median_fixed100"],
        "tick_ms_median_fixed100_100k": big["tick_ms_median_fixed100"],
        "event_us_median": big["event_us_median"],
        "events_ms_per_tick_1pct_100k": big["events_ms_per_tick_1pct"],
        "events_plus_tick_ms_1pct_100k": big["events_plus_tick_ms_1pct"],
        "naive_events_plus_tick_ms_100k": nv["naive_ms_median"],
        "speedup_vs_naive_100k": round(speedup, 1),
        "bin_boundary_ms_100k": big["bin_boundary_ms"],
        "report_ms_1000x30d": rep["report_ms"],
        "report_sql_ms_1000x30d": rep["sql_ms"],
        "report_speedup_vs_sql": round(rep["speedup"], 1),
        "report_speedup_vs_sql_store_indexes": round(
            rep["sql_store_indexes_ms"] / rep["report_ms"], 1
        ),
        "peak_rss_mb_100k": big["peak_rss_mb"],
        "repeat": rep_n,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
