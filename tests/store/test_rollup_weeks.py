"""Week rollups: summed from day rows as bins are written, read for whole weeks, backfilled."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from gateway.building.hours import BusinessHours
from gateway.occupancy.accumulate import Acc, EngineOutput
from gateway.occupancy.calendar import Calendar
from gateway.readmodel.figures import Totals
from gateway.readmodel.totals import space_totals
from gateway.readmodel.window import split_window
from gateway.store import create_db_engine, init_db, migrate, rollups
from gateway.store.rollup_sums import DAY_SUMS

TZ = ZoneInfo("Europe/Amsterdam")
BIN_S = 3600
T0 = 1_772_319_600.0  # Sun 2026-03-01 00:00 CET; the month crosses into summer time
SPACES = ("a", "b", "c")


@pytest.fixture
def db(db_url: str) -> Iterator[Engine]:
    engine = create_db_engine(db_url)
    init_db(engine)
    yield engine
    engine.dispose()


def cal() -> Calendar:
    return Calendar(BusinessHours.always(TZ), BIN_S)


def bins(rng: random.Random, days: int, scale: float = 1.0) -> list[Acc]:
    """Hour bins of every space over ``days`` days; space "c" has no counter (peak None)."""
    out = []
    for k in range(int(T0) // BIN_S, int(T0) // BIN_S + days * 24):
        for sid in SPACES:
            known = float(rng.randint(0, BIN_S))
            occ = float(rng.randint(0, int(known)))
            counted = 0.0 if sid == "c" else known
            peak = None if sid == "c" else rng.randint(0, 12)
            person = counted * (peak or 0) * rng.random()
            out.append(Acc(sid, k, occ * scale, known, counted, person, peak))
    return out


def save(db: Engine, accs: list[Acc]) -> None:
    c = cal()
    rollups.save(db, "s1", EngineOutput(bins=accs), None, 0.0, BIN_S, c.day_of_bin)


def truth(accs: list[Acc], t0: float, t1: float) -> dict[str, Totals]:
    """Totals summed straight from the bins (the last written wins, as the store upserts)."""
    latest = {(a.space, a.key): a for a in accs}
    out: dict[str, Totals] = {}
    for a in latest.values():
        if t0 <= a.key * BIN_S < t1:
            out.setdefault(a.space, Totals()).add(
                a.occupied_s, a.known_s, a.counted_s, a.person_s, a.peak
            )
    return out


def check(db: Engine, accs: list[Acc], t0: float, t1: float) -> None:
    w = split_window(cal(), t0, t1)
    got = space_totals(db, "s1", w, list(SPACES))
    want = truth(accs, w.start, w.end)
    assert set(got) == set(want)
    for sid, t in want.items():
        g = got[sid]
        for m in ("occupied_s", "known_s", "counted_s", "person_s"):
            assert getattr(g, m) == pytest.approx(getattr(t, m), rel=1e-9), (sid, m, t0, t1)
        assert g.peak == t.peak, (sid, t0, t1)
    # without the spaces (a scan of the site), the same totals
    assert {k: v.occupied_s for k, v in space_totals(db, "s1", w).items()} == (
        pytest.approx({k: v.occupied_s for k, v in want.items()})
    )


def test_split_window_reads_whole_weeks_inside_whole_days() -> None:
    c = cal()
    w = split_window(c, T0 + 5400, T0 + 30 * 86_400 + 600)  # Sun 01:30 .. Tue Mar 31 01:10
    assert w.days is not None and w.weeks is not None
    d0, d1 = w.days
    w0, w1 = w.weeks
    assert (c.local_date(d0), c.local_date(d1)) == (date(2026, 3, 2), date(2026, 3, 31))
    # Monday Mar 2 to Monday Mar 30: four weeks, one of them with the 23-hour DST day
    assert (c.local_date(w0), c.local_date(w1)) == (date(2026, 3, 2), date(2026, 3, 30))
    assert w1 - w0 == 4 * 7 * 86_400 - 3600
    short = split_window(c, T0 + 3 * 86_400, T0 + 8 * 86_400)  # Wed .. Mon: no whole week
    assert short.days is not None and short.weeks is None


def test_reports_from_weeks_and_days_match_the_bins(db: Engine) -> None:
    rng = random.Random(3)
    accs = bins(rng, 36)
    save(db, accs[: len(accs) // 2])
    save(db, accs[len(accs) // 2 :])
    # late data: the first week's bins written again with other figures replace, not add
    late = bins(random.Random(4), 9, scale=0.5)
    save(db, late)
    accs += late
    windows = [(T0, T0 + 30 * 86_400), (T0 + 86_400, T0 + 29 * 86_400), (T0, T0 + 36 * 86_400)]
    for _ in range(12):
        a = T0 + rng.uniform(0, 30) * 86_400
        windows.append((a, a + rng.uniform(0.1, 36 * 86_400 + T0 - a)))
    for t0, t1 in windows:
        check(db, accs, t0, t1)


def week_rows(db: Engine) -> dict[tuple[str, str], tuple[Any, ...]]:
    c = rollups.WEEKS.c
    with db.connect() as conn:
        rows = conn.execute(
            select(c.space, c.week, c.start, c.occupied_s, c.person_s, c.peak).where(c.site == "s1")
        ).all()
    return {(r[0], r[1]): tuple(r[2:]) for r in rows}


def test_an_older_store_gets_week_rows_on_upgrade(empty_db_url: str) -> None:
    accs = bins(random.Random(5), 16)
    engine = create_db_engine(empty_db_url)
    migrate.upgrade(engine, "0006_access")
    c = cal()
    days: dict[tuple[str, str], dict[str, Any]] = {}
    for a in accs:  # day rows as the store before this revision wrote them
        day, start = c.day_of_bin(a.key)
        d = days.setdefault(
            (a.space, day),
            {"site": "s1", "space": a.space, "day": day, "start": start, "peak": None}
            | dict.fromkeys(DAY_SUMS, 0.0),
        )
        for m in DAY_SUMS:
            d[m] += getattr(a, m)
        if a.peak is not None and (d["peak"] is None or a.peak > d["peak"]):
            d["peak"] = a.peak
    with engine.begin() as conn:
        conn.execute(rollups.DAYS.insert(), list(days.values()))
    migrate.upgrade(engine)
    got = week_rows(engine)
    engine.dispose()
    fresh = create_db_engine(empty_db_url)
    with fresh.begin() as conn:
        conn.execute(rollups.DAYS.delete())
        conn.execute(rollups.WEEKS.delete())
    save(fresh, accs)  # the same bins written by the store at head
    want = week_rows(fresh)
    fresh.dispose()
    assert len(want) == 4 * len(SPACES)  # weeks of Feb 23 (a Sunday), Mar 2, 9 and 16 (a Monday)
    assert set(got) == set(want)
    for k, v in want.items():
        assert got[k][0] == v[0] and got[k][3] == v[3], k
        assert got[k][1:3] == pytest.approx(v[1:3], rel=1e-9), k
