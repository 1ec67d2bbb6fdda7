"""Benchmark: the utilization heatmap over a long window, grouped in the store vs bin by bin.

Writes 15-minute rollup bins for the example building (47 spaces) over 90 days into SQLite
(and PostgreSQL, in a throw-away database, when ``GATEWAY_TEST_POSTGRES_URL`` is set) and
times ``gateway.readmodel.heatmap.heatmap`` as ``GET /api/v1/utilization/heatmap`` calls it
(the store sums each space's bins by time of day per stretch of constant UTC offset) against
the baseline that reads every bin row and files it in Python. Both must give the same matrix.
Ends with one line holding a JSON object of the figures.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from gateway.building import load_building  # noqa: E402
from gateway.readmodel.heatmap import heatmap  # noqa: E402
from gateway.store import create_db_engine, init_db  # noqa: E402
from gateway.store.rollups import BINS  # noqa: E402

DAYS = 90
BIN_S = 900
T0 = 1_767_222_000.0  # 2026-01-01 00:00 in Amsterdam; the window crosses the March DST change
REPEAT = 5


def seed(url: str, spaces: list[str], site: str) -> int:
    db = create_db_engine(url)
    init_db(db)
    rnd = random.Random(7)
    rows = []
    for k in range(DAYS * 86_400 // BIN_S):
        start = T0 + k * BIN_S
        for sid in spaces:
            occ = rnd.choice((0.0, 0.0, 300.0, 900.0))
            rows.append(
                {
                    "site": site,
                    "space": sid,
                    "start": start,
                    "length": BIN_S,
                    "day": "x",
                    "occupied_s": occ,
                    "known_s": BIN_S,
                    "counted_s": 0.0,
                    "person_s": 0.0,
                    "peak": None,
                    "hist": None,
                }
            )
    with db.begin() as conn:
        for i in range(0, len(rows), 20_000):
            conn.execute(insert(BINS), rows[i : i + 20_000])
    db.dispose()
    return len(rows)


def timed(fn: object, n: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(n):
        t = time.perf_counter()
        out = fn()  # type: ignore[operator]
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), out


def measure(url: str, label: str, figures: dict[str, object]) -> None:
    building = load_building(ROOT / "examples" / "building.yaml")
    figures["bins"] = seed(url, list(building.spaces), building.site.id)
    db = create_db_engine(url)
    t1 = T0 + DAYS * 86_400
    for by in ("space", "type"):
        fast_ms, fast = timed(lambda by=by: heatmap(db, building, BIN_S, T0, t1, by), REPEAT)
        slow_ms, slow = timed(
            lambda by=by: heatmap(db, building, BIN_S, T0, t1, by, grouped=False), REPEAT
        )
        same = fast.rows == slow.rows  # type: ignore[attr-defined]
        print(
            f"{label:<8} by {by:<5}: grouped {fast_ms:8.1f} ms   bin by bin {slow_ms:8.1f} ms   "
            f"ratio {slow_ms / fast_ms:5.2f}x   same matrix: {same}"
        )
        figures |= {
            f"{label}_grouped_ms_{by}": round(fast_ms, 1),
            f"{label}_bin_by_bin_ms_{by}": round(slow_ms, 1),
            f"{label}_speedup_{by}": round(slow_ms / fast_ms, 2),
            f"{label}_same_{by}": same,
        }
    db.dispose()


def main() -> None:
    figures: dict[str, object] = {"spaces": 47, "days": DAYS}
    with tempfile.TemporaryDirectory() as tmp:
        measure(f"sqlite:///{tmp}/bench.db", "sqlite", figures)
    pg = os.environ.get("GATEWAY_TEST_POSTGRES_URL")
    if pg:  # a throw-away database on that server, dropped afterwards
        import psycopg

        name = f"bench_heatmap_{os.getpid()}"
        admin = pg.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        try:
            measure(admin.rsplit("/", 1)[0] + f"/{name}", "postgres", figures)
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
    else:
        print("postgres: skipped (GATEWAY_TEST_POSTGRES_URL is not set)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
