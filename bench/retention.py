"""Benchmark: ingest's commits while the retention pass prunes, on SQLite (and PostgreSQL).

A store holds ``--due`` events past the 30-day window. The gateway's ``BatchWriter`` then
commits batches of 250 messages (1,000 events, one redelivery record) as fast as it can for
``--seconds``, twice: alone (the baseline, in the same run) and while a retention pass
prunes the due events in its default transactions and pauses (``RetentionSettings``). Printed:
commits per second and commit latency p50/p99 of both, the pass's own time, and the ratio.
The pass runs in a process of its own, as in the gateway (the writer is the main process's
child there), and each phase starts on a store of its own filled the same way.

    .venv/bin/python -m bench.retention [--due 400000] [--seconds 10] [--postgres-url URL]

The last line printed is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import partial
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


def prune_for(url: str, seconds: float, out: Any, settings: RetentionSettings) -> None:
    """In a process of its own, as in the gateway (the pass in the main process, the writer
    in its child): one pass, stopped after ``seconds``; (its time, events pruned) to ``out``."""
    engine = create_db_engine(url)
    r = Retention(engine, "bench", settings, lambda: NOW)
    stop = threading.Event()  # the pass stops with the measurement (the rest waits)
    threading.Timer(seconds, stop.set).start()
    out.put((r.run_pass(stop).seconds, r.stats.events_pruned))
    engine.dispose()


def commits(
    url: str, seconds: float, prune: bool, settings: RetentionSettings | None = None
) -> dict[str, Any]:
    batches = iter(traffic(250 * int(seconds * 400), 250, NOW - 3600))  # fresh: not due
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    pruner = ctx.Process(
        target=prune_for, args=(url, seconds + 1.0, out, settings or RetentionSettings())
    )
    if prune:
        pruner.start()
        time.sleep(1.0)  # its imports done, its first delete under way
    engine = create_db_engine(url)
    w = BatchWriter(engine, client="bench", site="bench")
    lat: list[float] = []
    t_end = time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        b = next(batches)
        t0 = time.perf_counter()
        w.write(b)
        lat.append((time.perf_counter() - t0) * 1000)
    engine.dispose()
    pass_s, pruned = out.get(timeout=120) if prune else (0.0, 0)
    if prune:
        pruner.join()
    lat.sort()
    return {
        "commits_per_s": round(len(lat) / seconds, 1),
        "commit_p50_ms": round(statistics.median(lat), 2),
        "commit_p99_ms": round(lat[int(len(lat) * 0.99)], 2),
        **({"pass_s": round(pass_s, 1), "pruned": pruned} if prune else {}),
    }


def measure(
    store: Callable[[], AbstractContextManager[str]],
    due: int,
    seconds: float,
    settings: RetentionSettings | None = None,
) -> dict[str, Any]:
    """The writer alone, then with a pass pruning, each on a store of its own filled the
    same way: run one after the other on one store, the second run started on a store the
    first had grown by hundreds of thousands of rows, and was slower for that alone."""
    with store() as url:
        fill(url, due)
        alone = commits(url, seconds, prune=False)
    with store() as url:
        fill(url, due)
        pruning = commits(url, seconds, prune=True, settings=settings)
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
    ap.add_argument("--batch-rows", type=int, default=RetentionSettings().batch_rows)
    ap.add_argument("--pause", type=float, default=RetentionSettings().pause_s)
    args = ap.parse_args()
    settings = RetentionSettings(batch_rows=args.batch_rows, pause_s=args.pause)
    result: dict[str, Any] = {"due": args.due, "seconds": args.seconds,
                              "batch_rows": args.batch_rows, "pause_s": args.pause}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        files = iter(range(2))

        @contextmanager
        def sqlite_store() -> Iterator[str]:
            yield f"sqlite:///{tmp}/r{next(files)}.db"

        result["sqlite"] = measure(sqlite_store, args.due, args.seconds, settings)
    print(f"sqlite:     {result['sqlite']}")
    if args.postgres_url:
        server = args.postgres_url
        pg = partial(postgres_db, server)
        result["postgresql"] = measure(pg, args.due, args.seconds, settings)
        print(f"postgresql: {result['postgresql']}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
