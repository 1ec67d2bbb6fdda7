"""Benchmark: a simulated building day through the real decode-bind-commit pipeline (no broker).

Baseline measured in the same run: ``json.loads`` of every payload and nothing else. Prints
messages/second for both, the ratio, and ends with one line holding a JSON object.

    .venv/bin/python bench/pipeline.py [--repeat 5] [--batch 500]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.building import load_building  # noqa: E402
from gateway.events import Event  # noqa: E402
from gateway.ingest import Pipeline, RawMessage  # noqa: E402
from gateway.profiles import ProfileRegistry  # noqa: E402
from gateway.simulate import Traffic  # noqa: E402
from gateway.state.config import Current, Snapshot  # noqa: E402
from gateway.state.devices import DeviceTable  # noqa: E402
from gateway.store import BatchWriter, create_db_engine, init_db  # noqa: E402
from gateway.store.sync import sync_building  # noqa: E402


def day_of_traffic() -> list[RawMessage]:
    building = load_building(ROOT / "examples" / "building.yaml")
    start = datetime(2026, 3, 4, 7, 30, tzinfo=building.site.tz).timestamp()
    traffic = Traffic(building, seed=1, start=start, min_gap=0.0)
    out = traffic.advance(start)
    for step in range(1, 13 * 60 + 1):
        out += traffic.advance(start + step * 60)
    return [
        RawMessage(m.topic, m.payload.encode(), m.ts, qos=1, mid=i % 65535 + 1)
        for i, m in enumerate(out)
    ]


class Discard:
    """An event sink that keeps nothing: the benchmark times ingest, not the engine."""

    def apply_events(self, events: list[Event], now: float) -> None:
        pass


def run_pipeline(msgs: list[RawMessage], batch: int) -> float:
    building = load_building(ROOT / "examples" / "building.yaml")
    registry = ProfileRegistry.load(ROOT / "device_profiles")
    with tempfile.TemporaryDirectory() as tmp:
        db = create_db_engine(f"sqlite:///{tmp}/bench.db")
        init_db(db)
        sync_building(db, building)
        config = Current(Snapshot(building, registry))
        pipe = Pipeline(config, BatchWriter(db), DeviceTable(), Discard())  # nothing to ack
        t0 = time.perf_counter()
        for i in range(0, len(msgs), batch):
            pipe.process(msgs[i : i + batch])
        elapsed = time.perf_counter() - t0
        db.dispose()
    return len(msgs) / elapsed


def run_baseline(msgs: list[RawMessage]) -> float:
    t0 = time.perf_counter()
    for m in msgs:
        try:  # noqa: SIM105 - the cheapest form, this is the baseline
            json.loads(m.payload)
        except ValueError:
            pass
    return len(msgs) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--batch", type=int, default=500)
    args = ap.parse_args()
    msgs = day_of_traffic()
    print(f"{len(msgs)} messages of one simulated building day, batches of {args.batch}")
    pipe = [run_pipeline(msgs, args.batch) for _ in range(args.repeat)]
    base = [run_baseline(msgs) for _ in range(args.repeat)]
    p, b = statistics.median(pipe), statistics.median(base)
    print(f"pipeline (decode+bind+commit, SQLite WAL): {p:,.0f} msgs/s (median of {args.repeat})")
    print(f"baseline (json.loads only):                {b:,.0f} msgs/s")
    print(f"ratio pipeline/baseline: {p / b:.3f}")
    print(
        json.dumps(
            {
                "messages": len(msgs),
                "pipeline_msgs_per_s": round(p),
                "json_only_msgs_per_s": round(b),
                "ratio": round(p / b, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
