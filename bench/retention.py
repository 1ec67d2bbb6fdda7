"""Benchmark: ingest's commits while the retention pass prunes, on SQLite (and PostgreSQL).

A store holds ``--due`` events past the 30-day window. The gateway's ``BatchWriter`` then
commits batches of 250 messages (1,000 events, one redelivery record) as fast as it can for
``--seconds``, twice: alone (the baseline, in the same run) and while a retention pass
prunes the due events in its default transactions and pauses (``RetentionSettings``). Printed:
commits per second and commit latency p50/p99 of both, the pass's own time, and the ratio.

    .venv/bin/python -m bench.retention [--due 400000] [--seconds 10] [--postgres-url URL]

The last line printed is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.store_growth import traffic  # noqa: E402
from bench.store_write import postgres_db  # noqa: E402
from gateway.events import Event  # noqa: E402
from gateway.settings import RetentionSettings  # noqa: E402
from gateway.store import BatchWriter, create_db_engine, init_db  # noqa: E402
from gateway.store.retention import DAY_S, Retention  # noqa: E402
from gateway.store.writer import store_events  # noqa: E402

NOW = 1_790_000_000.0


def fill(url: str, due: int) -> None:
    engine = create_db_engine(url)
    init_db(engine)
    for k in range(0, due, 50_000):
        evs = [
            (Event("bench", f"d-{i % 500}", f"r-{i % 120}", NOW - 40 * DAY_S + i * 0.5,
                   "measurement", "temperature_c", 21.5, "°C"), NOW - 40 * DAY_S)
            for i in range(k, min(due, k + 50_000))
        ]  # fmt: skip
        store_events(engine, evs)
    engine.dispose()


def commits(url: str, seconds: float, prune: bool) -> dict[str, Any]:
    engine = create_db_engine(url)
    w = BatchWriter(engine, client="bench", site="bench")
    r = Retention(engine, "bench", RetentionSettings(), lambda: NOW)
    pass_s: list[float] = []
    stop = threading.Event()  # the pass stops with the measurement (the rest waits)
    pruner = threading.Thread(target=lambda: pass_s.append(r.run_pass(stop).seconds))
    batches = iter(traffic(250 * int(seconds * 400), 250, NOW - 3600))  # fresh: not due
    lat: list[float] = []
    if prune:
        pruner.start()
    t_end = time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        b = next(batches)
        t0 = time.perf_counter()
        w.write(b)
        lat.append((time.perf_counter() - t0) * 1000)
    stop.set()
    if prune:
        pruner.join()
    engine.dispose()
    lat.sort()
    return {
        "commits_per_s": round(len(lat) / seconds, 1),
        "commit_p50_ms": round(statistics.median(lat), 2),
        "commit_p99_ms": round(lat[int(len(lat) * 0.99)], 2),
        **({"pass_s": round(pass_s[0], 1), "pruned": r.stats.events_pruned} if prune else {}),
    }


def measure(url: str, due: int, seconds: float) -> dict[str, Any]:
    fill(url, due)
    alone = commits(url, seconds, prune=False)
    pruning = commits(url, seconds, prune=True)
    return {
        "alone": alone,
        "pruning": pruning,
        "commit_rate_ratio": round(pruning["commits_per_s"] / alone["commits_per_s"], 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--due", type=int, default=400_000)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--postgres-url", default=os.environ.get("GATEWAY_TEST_POSTGRES_URL"))
    args = ap.parse_args()
    result: dict[str, Any] = {"due": args.due, "seconds": args.seconds}
    with tempfile.TemporaryDirectory() as tmp:
        result["sqlite"] = measure(f"sqlite:///{tmp}/r.db", args.due, args.seconds)
    print(f"sqlite:     {result['sqlite']}")
    if args.postgres_url:
        with postgres_db(args.postgres_url) as url:
            result["postgresql"] = measure(url, args.due, args.seconds)
        print(f"postgresql: {result['postgresql']}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
