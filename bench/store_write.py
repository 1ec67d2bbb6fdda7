"""Benchmark: the batch writer's commit path on SQLite and PostgreSQL.

Writes the same N events (the reference devices' shapes: counts, temperatures, door events
with attributes) in batches the size the ingest commits, each with its redelivery record,
one transaction per batch, through

* ``writer``: the gateway's ``BatchWriter`` (SQLite: driver-level multi-row INSERTs;
  PostgreSQL: COPY FROM STDIN), and
* ``core``: the baseline in the same run, a SQLAlchemy Core ``insert()`` executemany of
  the same rows (SQLAlchemy batches it into multi-row INSERTs where the driver allows).

PostgreSQL runs in a fresh database created on the server of ``--postgres-url`` (default
``GATEWAY_TEST_POSTGRES_URL``) and dropped afterwards; without one only SQLite is measured.

    .venv/bin/python bench/store_write.py [--n 100000] [--batch 500] [--postgres-url URL]

The last line printed is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402

from gateway.events import Event  # noqa: E402
from gateway.ingest.batch import Batch  # noqa: E402
from gateway.store import BatchWriter, create_db_engine, init_db  # noqa: E402
from gateway.store.redelivery import RECORDS, pack  # noqa: E402
from gateway.store.series import SeriesKeys, data_dict  # noqa: E402
from gateway.store.writer import EVENT_DATA, event_tuple  # noqa: E402

T0 = 1_772_438_400.0


def events(n: int) -> list[tuple[Event, float]]:
    out = []
    for i in range(n):
        ts = T0 + i * 0.01
        k = i % 4
        if k == 0:
            e = Event(
                "bench", f"pc-{i % 50}", f"s-{i % 50}", ts, "measurement", "people_count", i % 9
            )
        elif k == 1:
            e = Event("bench", f"env-{i % 40}", f"s-{i % 40}", ts, "measurement",
                      "temperature_c", 20 + (i % 50) / 10, "C")  # fmt: skip
        elif k == 2:
            e = Event("bench", f"pir-{i % 80}", f"s-{i % 80}", ts, "measurement", "motion", True)
        else:
            e = Event("bench", f"door-{i % 10}", f"s-{i % 10}", ts, "door", "door", "granted",
                      None, {"member": f"m-{i % 300}", "credential": "badge"})  # fmt: skip
        out.append((e, ts + 0.002))
    return out


def batches(evs: list[tuple[Event, float]], size: int) -> list[Batch]:
    out = []
    for k in range(0, len(evs), size):
        chunk = evs[k : k + size]
        fps = [((k + j) % 65_535 + 1, k + j) for j in range(len(chunk))]
        out.append(Batch(events=chunk, fingerprints=fps))
    return out


def run_writer(engine: Engine, bs: list[Batch]) -> float:
    w = BatchWriter(engine, client="bench", site="bench")
    t0 = time.perf_counter()
    for b in bs:
        w.write(b)
    return time.perf_counter() - t0


def run_core(engine: Engine, bs: list[Batch]) -> float:
    keys = SeriesKeys()  # the same series dictionary: the baseline differs in the insert only
    t0 = time.perf_counter()
    for b in bs:
        with engine.begin() as conn:
            rows, added = keys.data_rows(conn, [event_tuple(e, r) for e, r in b.events])
            conn.execute(EVENT_DATA.insert(), [data_dict(r) for r in rows])
            conn.execute(
                RECORDS.insert(),
                {"site": "bench", "client": "core", "batch": b.id,
                 "messages": len(b.fingerprints), "fingerprints": pack(b.fingerprints)},
            )  # fmt: skip
        keys.keep(added)
    return time.perf_counter() - t0


def stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(EVENT_DATA)).scalar_one())


@contextmanager
def postgres_db(server: str) -> Iterator[str]:
    import psycopg

    base = make_url(server).set(drivername="postgresql")
    dsn = base.render_as_string(hide_password=False)
    name = f"gw_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure(url: str, bs: list[Batch], n: int) -> dict[str, Any]:
    res: dict[str, Any] = {}
    for mode, fn in (("core", run_core), ("writer", run_writer)):
        engine = create_db_engine(url)
        init_db(engine)
        with engine.begin() as conn:  # each mode starts from empty tables
            conn.execute(EVENT_DATA.delete())
            conn.execute(RECORDS.delete())
        elapsed = fn(engine, bs)
        assert stored(engine) == n, (mode, stored(engine), n)
        engine.dispose()
        res[f"{mode}_events_per_s"] = round(n / elapsed)
    res["ratio_writer_vs_core"] = round(res["writer_events_per_s"] / res["core_events_per_s"], 2)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--postgres-url", default=os.environ.get("GATEWAY_TEST_POSTGRES_URL"))
    args = ap.parse_args()
    bs = batches(events(args.n), args.batch)
    result: dict[str, Any] = {"events": args.n, "batch": args.batch}
    with tempfile.TemporaryDirectory() as tmp:
        s = measure(f"sqlite:///{tmp}/bench.db", bs, args.n)
    print(f"sqlite:     {s}")
    result.update({f"sqlite_{k}": v for k, v in s.items()})
    if args.postgres_url:
        with postgres_db(args.postgres_url) as url:
            p = measure(url, bs, args.n)
        print(f"postgresql: {p}")
        result.update({f"postgresql_{k}": v for k, v in p.items()})
        result["postgresql_vs_sqlite_writer"] = round(
            p["writer_events_per_s"] / s["writer_events_per_s"], 2
        )
    else:
        print("postgresql: skipped (no --postgres-url and GATEWAY_TEST_POSTGRES_URL unset)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
