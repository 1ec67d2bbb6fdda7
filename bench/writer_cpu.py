"""Benchmark: the batch writer's own CPU per 1,000 messages, in process, on SQLite.

30,000 climate-sensor messages (four events each, a QoS 1 fingerprint, a device update)
through ``BatchWriter.write`` in batches of ``argv[1]`` messages (default 250) into a fresh
store, three runs; prints process CPU and wall milliseconds per 1,000 messages. Run it from
two trees to compare them (it imports the gateway of the folder it is run from):

    .venv/bin/python bench/writer_cpu.py [batch]
"""

import os
import random
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.getcwd())
from gateway.events import Event
from gateway.ingest.batch import Batch, DeviceUpdate
from gateway.store import BatchWriter, create_db_engine, init_db

T0 = 1_780_000_000.0
SENSORS = 500
Q = (("temperature_c", "°C"), ("humidity_pct", "%"), ("pressure_hpa", "hPa"), ("battery_pct", "%"))


def traffic(messages, batch):
    rng = random.Random(7)
    out = []
    cur = Batch()
    for i in range(messages):
        s = i % SENSORS
        ts = T0 + (i // SENSORS) * 60 + s * 60 / SENSORS
        vals = (
            round(rng.uniform(19, 25), 2),
            round(rng.uniform(30, 60), 2),
            round(rng.uniform(990, 1030), 1),
            rng.randint(60, 100),
        )
        dev, space = f"0x00158d0004{s:06x}", f"room-{s % 120}"
        for (q, u), v in zip(Q, vals, strict=False):
            cur.events.append((Event("bench", dev, space, ts, "measurement", q, v, u), ts + 0.05))
        cur.fingerprints.append((i % 65535 + 1, rng.getrandbits(63)))
        cur.devices[("bench", dev)] = DeviceUpdate(
            "z2m", space, True, ts, ts, None, {q: v for (q, u), v in zip(Q, vals, strict=False)}
        )
        if len(cur.fingerprints) == batch:
            out.append(cur)
            cur = Batch()
    return out


res = []
for _rep in range(3):
    bs = traffic(30000, int(sys.argv[1]) if len(sys.argv) > 1 else 250)
    with tempfile.TemporaryDirectory() as tmp:
        e = create_db_engine(f"sqlite:///{tmp}/w.db")
        init_db(e)
        w = BatchWriter(e, client="b", site="bench")
        w.write(bs[0])
        c0 = time.process_time()
        t0 = time.perf_counter()
        for b in bs[1:]:
            w.write(b)
        cpu = time.process_time() - c0
        wall = time.perf_counter() - t0
        n = sum(len(b.fingerprints) for b in bs[1:])
        res.append((cpu * 1000 / (n / 1000), wall * 1000 / (n / 1000)))
        e.dispose()
print(
    "cpu ms/1k msgs",
    [round(r[0], 1) for r in res],
    "median",
    round(statistics.median(r[0] for r in res), 1),
    "wall ms/1k",
    round(statistics.median(r[1] for r in res), 1),
)
