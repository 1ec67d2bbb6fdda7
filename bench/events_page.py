"""Benchmark: one page of ``GET /api/v1/events`` on a store of millions of events (SQLite).

The store is filled directly with the compact store's rows: 50 spaces of four devices with
four quantities each (800 series), ``--events`` events spread evenly over them, half a
second apart, as events of the example building's site (its own devices are not among
them: the route reads the store, not the building). Each query runs through the route
itself (FastAPI's test client, the real session and SQL) unfiltered, for one space and for
one device.

Baseline in the same run: the same page with its total counted in full, as the route counted
it before the count was capped at ``TOTAL_CAP`` (a count reads every row it counts).

    .venv/bin/python bench/events_page.py [--events 2000000] [--repeat 7]

The last line printed is one JSON object of the figures (milliseconds, medians).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from gateway.store import create_db_engine, init_db  # noqa: E402

QUANTITIES = ("temperature_c", "humidity_pct", "co2_ppm", "people_count")
T0 = 1_780_000_000.0
BUILDING = ROOT / "examples" / "building.yaml"
SITE = "ams-01"  # its site: the route reads that site's events


def fill(engine: Engine, n: int) -> None:
    series = []
    with engine.begin() as c:
        for sp in range(50):
            for dv in range(4):
                for q in QUANTITIES:
                    sid = len(series) + 1
                    series.append(sid)
                    c.execute(
                        text(
                            "INSERT INTO event_series (id, site, device, space, kind, quantity,"
                            " unit) VALUES (:i, :site, :d, :s, 'measurement', :q, '')"
                        ),
                        {"i": sid, "site": SITE, "d": f"d{sp}-{dv}", "s": f"room-{sp}", "q": q},
                    )
        ins = text(
            "INSERT INTO event_data (series, ts, lag_ms, value_num) VALUES (:s, :ts, 5, 21.0)"
        )
        for lo in range(0, n, 50_000):
            rows = [
                {"s": series[i % len(series)], "ts": T0 + i * 0.5}
                for i in range(lo, min(n, lo + 50_000))
            ]
            c.execute(ins, rows)


def timed(client: Any, params: dict[str, str], repeat: int) -> tuple[float, dict[str, Any]]:
    times, body = [], {}
    for _ in range(repeat):
        t = time.perf_counter()
        r = client.get("/api/v1/events", params={**params, "limit": "100"})
        times.append((time.perf_counter() - t) * 1000)
        body = r.json()
        assert r.status_code == 200 and body["count"] == 100, r.text
    return statistics.median(times), body


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()

    from fastapi.testclient import TestClient

    from gateway.api.routes import events as route
    from gateway.app import create_app
    from gateway.runtime import Gateway
    from gateway.settings import load_settings

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/events.db"
        engine = create_db_engine(url)
        init_db(engine)
        t = time.perf_counter()
        fill(engine, args.events)
        print(f"{args.events:,} events in 800 series stored in {time.perf_counter() - t:.1f} s")
        engine.dispose()
        settings = load_settings(
            database_url=url, building=BUILDING, admin_token="bench", publish={"enabled": False}
        )
        gw = Gateway(settings)
        client = TestClient(create_app(gw, manage=False))
        client.headers["Authorization"] = "Bearer bench"
        out: dict[str, Any] = {"events": args.events}
        cap = route.TOTAL_CAP
        for name, params in (("all", {}), ("space", {"space": "room-7"}),
                             ("device", {"device": "d7-1"})):  # fmt: skip
            route.TOTAL_CAP = cap
            ms, body = timed(client, params, args.repeat)
            route.TOTAL_CAP = 10**18  # the baseline: every matching row counted
            base_ms, base = timed(client, params, args.repeat)
            assert body["data"] == base["data"]  # the same page either way
            out[name] = {
                "ms": round(ms, 1),
                "full_count_ms": round(base_ms, 1),
                "speedup": round(base_ms / ms, 2),
                "total": body["total"],
                "total_exact": body["total_exact"],
                "matching": base["total"],
            }
            print(f"{name:6s} capped {ms:7.1f} ms   full count {base_ms:7.1f} ms   "
                  f"({base['total']:,} matching)")  # fmt: skip
        route.TOTAL_CAP = cap
        gw.db.dispose()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
