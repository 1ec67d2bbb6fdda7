"""Benchmark part: a 1,000-space, 30-day utilization report from rollups vs SQL on raw events.

The rollups are produced by the real engine from the same counter events that are stored raw,
and written by the real store code (``gateway.store.rollups.save``) into SQLite; the report is
read the way ``GET /api/v1/utilization`` reads it. The baseline is one SQL query over the raw
events, timed twice: with the store's own indexes (``(site, space, ts)`` gives the window
function its order), then -- the figure compared -- with the index this query wants on top
(site, quantity, space, ts, value: the site's counter events in partition order, covered),
so that the comparison is with SQL done well.
"""

from __future__ import annotations

import gc
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, text  # noqa: E402

from bench.engine_building import clock  # noqa: E402
from gateway.building import Building, BusinessHours, DeviceBinding, Floor, Site, Space  # noqa: E402
from gateway.building.hours import parse_span  # noqa: E402
from gateway.events import Event  # noqa: E402
from gateway.occupancy import OccupancyEngine  # noqa: E402
from gateway.readmodel.figures import build_report  # noqa: E402
from gateway.readmodel.totals import space_totals  # noqa: E402
from gateway.readmodel.window import split_window  # noqa: E402
from gateway.settings import OccupancySettings  # noqa: E402
from gateway.store import create_db_engine, init_db, rollups  # noqa: E402
from gateway.store.writer import store_events  # noqa: E402

TZ_NAME = "Europe/Amsterdam"
DAY0 = 1_772_319_600.0  # Sun 2026-03-01 00:00 CET
DAYS = 30
TYPES = (("meeting_room", 8), ("open_area", 20), ("private_office", 4), ("lounge", 12))

SQL = text(
    """
    WITH e AS (
      SELECT space, ts, value_num AS c,
             LEAD(ts) OVER (PARTITION BY space ORDER BY ts) AS nxt
      FROM event
      WHERE site = :site AND quantity = 'people_count' AND ts >= :t0 AND ts < :t1
    )
    SELECT space,
           SUM(CASE WHEN c > 0 THEN MIN(COALESCE(nxt, :t1), :t1) - ts ELSE 0 END),
           SUM(c * (MIN(COALESCE(nxt, :t1), :t1) - ts)),
           MAX(c)
    FROM e GROUP BY space
    """
)

SQL_INDEX = text("CREATE INDEX ix_event_report ON event_data (series, ts, value_num)")


def building(n: int) -> Building:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(TZ_NAME)
    day = (parse_span("08:00-20:00"),)
    hours = BusinessHours(tz, (day,) * 5 + ((), ()))
    site = Site("rep", "Report", TZ_NAME, tz, hours)
    spaces = {}
    devices = {}
    for k in range(n):
        typ, cap = TYPES[k % len(TYPES)]
        sid = f"r{k}"
        spaces[sid] = Space(sid, sid, typ, cap, typ == "meeting_room", f"f{k // 100}")
        devices[f"{sid}-pc"] = DeviceBinding(f"{sid}-pc", "ref-counter", sid)
    floors = tuple(
        Floor(f"f{f}", f"f{f}", tuple(s for s in spaces.values() if s.floor == f"f{f}"))
        for f in range(-(-n // 100))
    )
    return Building(site, floors, spaces, devices)


def traffic(b: Building, rng: random.Random) -> list[Event]:
    """Meetings on business days: a count at the start, zero at the end."""
    out: list[Event] = []
    tz = b.site.tz
    for d in range(DAYS):
        local = datetime(2026, 3, 1, tzinfo=tz) + timedelta(days=d)
        opens = local.replace(hour=8).timestamp()  # local business hours, across DST
        closes = local.replace(hour=20).timestamp()
        if not b.site.business_hours.is_open(opens + 60):
            continue
        for sid, sp in b.spaces.items():
            t = opens + rng.randint(0, 3600)
            while True:
                t += rng.randint(300, 7200)
                dur = rng.randint(900, 5400)
                if t + dur > closes:
                    break
                c = rng.randint(1, sp.capacity)
                out.append(Event("rep", f"{sid}-pc", sid, t, "measurement", "people_count", c))
                out.append(
                    Event("rep", f"{sid}-pc", sid, t + dur, "measurement", "people_count", 0)
                )
                t += dur
    out.sort(key=lambda e: e.ts)
    return out


def report_bench(n: int = 1000, repeat: int = 5) -> dict[str, Any]:
    b = building(n)
    events = traffic(b, random.Random(7))
    tmp = tempfile.mkdtemp(prefix="bench-engine-")
    db = create_db_engine(f"sqlite:///{tmp}/r.db")
    # loading the fixture is not what is measured: skip the per-commit fsync
    event.listen(db, "connect", lambda c, _r: c.execute("PRAGMA synchronous=OFF"))
    init_db(db)
    t_load = time.perf_counter()
    for k in range(0, len(events), 20_000):
        store_events(db, [(e, e.ts) for e in events[k : k + 20_000]])
    st = OccupancySettings(sensor_stale_s=40 * 86_400)
    eng = OccupancyEngine(b, st, DAY0)
    for ev in events:
        eng.tick(ev.ts)
        eng.apply(ev, ev.ts)
        if len(eng.out.bins) > 200_000:
            rollups.save(db, "rep", eng.drain(), None, ev.ts, eng.bin_s, eng.cal.day_of_bin)
    end = DAY0 + DAYS * 86_400
    eng.tick(end)
    rollups.save(db, "rep", eng.drain(), None, end, eng.bin_s, eng.cal.day_of_bin)
    with db.connect() as conn:
        # the bulk load left a WAL of hundreds of MB; a running store checkpoints as it goes
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    load_s = time.perf_counter() - t_load
    # the raw events live in the database now; a gateway does not hold them in memory, and
    # left here they make every garbage collection during the timed reads walk 233k objects
    n_events = len(events)
    del events
    gc.collect()

    def from_rollups() -> list[dict[str, Any]]:
        w = split_window(eng.cal, DAY0, end)
        available = eng.cal.open_seconds(w.start, w.end)
        totals = space_totals(db, "rep", w, None)  # the whole site, as the API reads it
        return build_report(b.spaces, "rep", totals, available, "space", {}, 60.0, 100.0)

    def from_sql() -> list[Any]:
        with db.connect() as conn:
            return list(conn.execute(SQL, {"site": "rep", "t0": DAY0, "t1": end}))

    rep_ms, sql_ms, store_ms = [], [], []
    for _ in range(repeat):  # SQL with the store's own indexes only
        t = clock()
        from_sql()
        store_ms.append((clock() - t) * 1000)
    with db.begin() as conn:
        conn.execute(SQL_INDEX)
    for _ in range(repeat):
        t = clock()
        rows = from_rollups()
        rep_ms.append((clock() - t) * 1000)
        t = clock()
        raw = from_sql()
        sql_ms.append((clock() - t) * 1000)
    # both ways agree on the time occupied (to the second), so the comparison is like for like
    by_sql = {r[0]: r[1] for r in raw}
    worst = max(abs(r["occupied_s"] - by_sql.get(r["id"], 0.0)) for r in rows)
    assert worst < 1.0, f"rollups and raw SQL disagree by {worst} s"
    rm, sm = statistics.median(rep_ms), statistics.median(sql_ms)
    db.dispose()
    shutil.rmtree(tmp, ignore_errors=True)  # the fixture database is a few hundred MB
    return {
        "report_ms": round(rm, 1),
        "sql_ms": round(sm, 1),
        "speedup": sm / rm,
        "sql_store_indexes_ms": round(statistics.median(store_ms), 1),
        "raw_events": n_events,
        "rows": len(rows),
        "load_s": round(load_s, 1),
    }


if __name__ == "__main__":
    print(report_bench())
