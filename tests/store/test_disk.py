"""The store's disk figures on a real SQLite file, and the days-until-full arithmetic."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from gateway.events import Event
from gateway.store import create_db_engine, init_db
from gateway.store.disk import DAY_S, DiskMonitor, days_until_full, sqlite_bytes
from gateway.store.writer import store_events

NOW = 1_780_000_000.0


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def add_events(engine: Engine, times: list[float]) -> None:
    ev = [
        Event(site="s", device="d", space="room", ts=t, kind="measurement",
              quantity="temperature_c", value=21.5, unit="°C")
        for t in times
    ]  # fmt: skip
    store_events(engine, [(e, e.ts) for e in ev])


def test_figures_of_a_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    engine = create_db_engine(f"sqlite:///{path}")
    init_db(engine)
    recent = [NOW - i * 60.0 for i in range(300)]  # the last five hours
    old = [NOW - 2 * DAY_S - i for i in range(200)]  # two days ago: not today's rate
    add_events(engine, recent + old)
    clock = Clock(NOW)
    disk = DiskMonitor(engine, clock)
    f = disk.figures()
    on_disk = sum(
        p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
    )
    assert f.store_bytes == on_disk == sqlite_bytes(path) > 0
    assert f.free_bytes is not None
    assert abs(f.free_bytes - shutil.disk_usage(tmp_path).free) < 100_000_000
    assert f.events_per_day == 300
    assert f.bytes_per_event == pytest.approx(on_disk / 500)
    assert f.days_until_full == pytest.approx(f.free_bytes / (on_disk / 500 * 300))
    # cached: more events within the minute change nothing; a minute on they count
    add_events(engine, [NOW - 1.0])
    assert disk.figures() is f
    clock.t += 60.0
    assert disk.figures().events_per_day == 301
    engine.dispose()


def test_an_empty_store_has_no_rate(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path}/g.db")
    init_db(engine)
    f = DiskMonitor(engine, Clock(NOW), events_stored=lambda: 0).figures()
    assert f.events_per_day == 0 and f.bytes_per_event is None and f.days_until_full is None
    assert f.store_bytes is not None and f.store_bytes > 0
    engine.dispose()


def test_days_until_full() -> None:
    # 10 GB free, 100 bytes an event, a million events a day: 1e8 bytes a day, 100 days
    assert days_until_full(10_000_000_000, 100.0, 1_000_000) == pytest.approx(100.0)
    assert days_until_full(1_000, 100.0, 0) is None  # nothing stored: never fills
    assert days_until_full(None, 100.0, 10) is None  # PostgreSQL: the server's disk
    assert days_until_full(1_000, None, 10) is None
    assert days_until_full(0, 100.0, 10) == 0.0


def test_days_until_full_with_retention() -> None:
    # 1e8 bytes a day, raw events kept 30 days
    gb10 = 10_000_000_000
    # 10 days held, 20 to grow: 2e9 fits in 10 GB, the store levels off: it never fills
    assert days_until_full(gb10, 100.0, 1_000_000, window_days=30, held_days=10) is None
    # 1 GB free: the 20 days still to grow do not fit, it fills in 10 days
    got = days_until_full(1_000_000_000, 100.0, 1_000_000, window_days=30, held_days=10)
    assert got == pytest.approx(10.0)
    # the window already held (older rows pruned as new ones come): no growth left
    assert days_until_full(1, 100.0, 1_000_000, window_days=30, held_days=45) is None
    # a window longer than the disk lasts: as without retention
    got = days_until_full(gb10, 100.0, 1_000_000, window_days=365, held_days=0)
    assert got == pytest.approx(100.0)


def test_a_monitor_counts_the_days_its_store_holds(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path}/g.db")
    init_db(engine)
    # three days held, 100 events in the last day
    add_events(engine, [NOW - 3 * DAY_S] + [NOW - i * 60.0 for i in range(100)])
    f = DiskMonitor(engine, Clock(NOW), window_days=30.0).figures()
    assert f.free_bytes is not None and f.bytes_per_event is not None
    still = f.bytes_per_event * 100 * 27  # 27 days left to grow at today's rate
    assert still < f.free_bytes and f.days_until_full is None
    # a window of a million years: it grows for good, the plain quotient
    f = DiskMonitor(engine, Clock(NOW), window_days=365e6).figures()
    assert f.days_until_full == pytest.approx(f.free_bytes / (f.bytes_per_event * 100))
    engine.dispose()
