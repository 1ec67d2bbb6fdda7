"""Benchmark: what the store costs on disk per event and per message, and how fast it takes
rows, on SQLite and PostgreSQL.

The traffic is a building of climate sensors as zigbee2mqtt publishes them: one message per
sensor and minute carrying four quantities (the Aqara WSDCGQ11LM's temperature, humidity,
pressure and battery, as in zigbee2mqtt's device page for it), so four events and one QoS 1
redelivery fingerprint per message, committed in batches the size ingest commits through the
gateway's ``BatchWriter``.

Baseline in the same run: the same events as rows of the event table and one fingerprint row
per message as the store kept them before the compact event store (schema revision
``0010_outbox``, written with an executemany per batch).

    .venv/bin/python -m bench.store_growth [--messages 50000] [--batch 250] [--postgres-url URL]

The last line printed is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from bench.store_write import postgres_db  # noqa: E402
from gateway.events import Event  # noqa: E402
from gateway.ingest.batch import Batch  # noqa: E402
from gateway.store import BatchWriter, create_db_engine, init_db, migrate  # noqa: E402
from gateway.store.rows import event_tuple  # noqa: E402

T0 = 1_780_000_000.0
SENSORS = 500
QUANTITIES = (("temperature_c", "°C"), ("humidity_pct", "%"), ("pressure_hpa", "hPa"),
              ("battery_pct", "%"))  # fmt: skip
OLD_COLUMNS = ("site", "device", "space", "ts", "received_at", "kind", "quantity",
               "value_num", "value_text", "unit", "attrs")  # fmt: skip


def traffic(messages: int, batch: int, t0: float = T0) -> list[Batch]:
    """``messages`` sensor messages from ``t0``, a minute apart per sensor, in batches."""
    rng = random.Random(7)
    out, cur = [], Batch()
    for i in range(messages):
        s = i % SENSORS
        ts = t0 + (i // SENSORS) * 60 + s * 60 / SENSORS
        values = (round(rng.uniform(19, 25), 2), round(rng.uniform(30, 60), 2),
                  round(rng.uniform(990, 1030), 1), rng.randint(60, 100))  # fmt: skip
        for (q, unit), v in zip(QUANTITIES, values, strict=True):
            dev, space = f"0x00158d0004{s:06x}", f"room-{s % 120}"
            cur.events.append((Event("bench", dev, space, ts, "measurement", q, v, unit),
                               ts + rng.uniform(0.005, 0.2)))  # fmt: skip
        cur.fingerprints.append((i % 65_535 + 1, rng.getrandbits(63)))
        if len(cur.fingerprints) == batch:
            out.append(cur)
            cur = Batch()
    if cur.fingerprints:
        out.append(cur)
    return out


def size(engine: Engine) -> int:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return int(
                conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
            )
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
        return int(pages) * int(conn.exec_driver_sql("PRAGMA page_size").scalar_one())


def write_compact(engine: Engine, bs: list[Batch]) -> None:
    init_db(engine)
    w = BatchWriter(engine, client="bench", site="bench")
    for b in bs:
        w.write(b)


def write_legacy(engine: Engine, bs: list[Batch]) -> None:
    migrate.upgrade(engine, "0010_outbox")
    cols = ", ".join(OLD_COLUMNS)
    ev_sql = text(f"INSERT INTO event ({cols}) VALUES ({', '.join(':' + c for c in OLD_COLUMNS)})")
    fp_sql = text("INSERT INTO ingestfingerprint (site, client, mid, digest) "
                  "VALUES ('bench', 'bench', :m, :d)")  # fmt: skip
    for b in bs:
        with engine.begin() as conn:
            rows = [dict(zip(OLD_COLUMNS, event_tuple(e, r), strict=True)) for e, r in b.events]
            conn.execute(ev_sql, rows)
            conn.execute(fp_sql, [{"m": m, "d": d} for m, d in b.fingerprints])


def measure(url: str, messages: int, batch: int, layout: str) -> dict[str, Any]:
    bs = traffic(messages, batch)  # its own batches: a written batch is never written again
    engine = create_db_engine(url)
    try:
        write = write_compact if layout == "compact" else write_legacy
        write(engine, bs[:1])
        empty = size(engine)
        t0 = time.perf_counter()
        write(engine, bs[1:])
        elapsed = time.perf_counter() - t0
        grown = size(engine) - empty
    finally:
        engine.dispose()
    events = sum(len(b.events) for b in bs[1:])
    messages = sum(len(b.fingerprints) for b in bs[1:])
    return {
        "bytes_per_event": round(grown / events, 1),
        "bytes_per_message": round(grown / messages, 1),
        "rows_per_s": round(events / elapsed),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--messages", type=int, default=50_000)
    ap.add_argument("--batch", type=int, default=250)
    ap.add_argument("--postgres-url", default=os.environ.get("GATEWAY_TEST_POSTGRES_URL"))
    args = ap.parse_args()
    result: dict[str, Any] = {"messages": args.messages, "events": 4 * args.messages}
    backends = [("sqlite", None)] + (
        [("postgresql", args.postgres_url)] if args.postgres_url else []
    )
    for name, server in backends:
        for layout in ("legacy", "compact"):
            if server is None:
                with tempfile.TemporaryDirectory() as tmp:
                    r = measure(
                        f"sqlite:///{tmp}/{secrets.token_hex(3)}.db",
                        args.messages,
                        args.batch,
                        layout,
                    )
            else:
                with postgres_db(server) as url:
                    r = measure(url, args.messages, args.batch, layout)
            print(f"{name:<10} {layout:<8} {r['bytes_per_event']:>6} B/event "
                  f"{r['bytes_per_message']:>7} B/message {r['rows_per_s']:>8} rows/s")  # fmt: skip
            result.update({f"{name}_{layout}_{k}": v for k, v in r.items()})
        result[f"{name}_bytes_ratio"] = round(
            result[f"{name}_compact_bytes_per_event"] / result[f"{name}_legacy_bytes_per_event"], 2
        )
    if not args.postgres_url:
        print("postgresql: skipped (no --postgres-url and GATEWAY_TEST_POSTGRES_URL unset)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
