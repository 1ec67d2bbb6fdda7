"""The utilization report read from the gateway's store, a day at a time, for people.

It uses the same rollups and figures as ``GET /api/v1/utilization`` (see
:mod:`gateway.occupancy.report`), reading the window one chunk of bins at a time so that a
long window can show progress; chunks are disjoint, so their totals add up exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine

from gateway.building import Building, load_building
from gateway.occupancy.calendar import Calendar
from gateway.occupancy.report import Totals, build_report, group_key, split_window
from gateway.settings import Settings
from gateway.store import create_db_engine, rollups

Progress = Callable[[float], None]  # share of the work done, 0..1


@dataclass(frozen=True, slots=True)
class Store:
    """What a report reads: the building, the store, the rollup bin length and bands."""

    building: Building
    db: Engine
    bin_s: int
    under: float
    over: float

    @property
    def calendar(self) -> Calendar:
        return Calendar(self.building.site.business_hours, self.bin_s)


def open_store(settings: Settings) -> Store:
    """The store and building the gateway with these settings uses (read only)."""
    occ = settings.occupancy
    return Store(
        load_building(settings.building),
        create_db_engine(settings.database_url, busy_timeout_ms=settings.database_busy_timeout_ms),
        occ.bin_s,
        occ.band_under_pct,
        occ.band_over_pct,
    )


def _day_cuts(cal: Calendar, start: float, end: float) -> list[float]:
    """``start``, the local midnights inside the window, ``end``: whole days read day rows."""
    cuts = [start]
    day = cal.local_date(start)
    while True:
        day += timedelta(days=1)
        t = cal.day_start(day)
        if t >= end:
            break
        cuts.append(t)
    return [*cuts, end]


@dataclass(frozen=True, slots=True)
class Report:
    start: float
    end: float
    group_by: str
    available_s: float
    rows: list[dict[str, Any]]


def utilization_report(
    store: Store, t0: float, t1: float, group_by: str = "space", progress: Progress | None = None
) -> Report:
    """Per space (or floor, type, site) figures over ``[t0, t1)`` widened to whole bins."""
    cal = store.calendar
    b = store.bin_s
    start, end = (t0 // b) * b, -(-t1 // b) * b
    site = store.building.site.id
    spaces = store.building.spaces
    group_of = {sid: group_key(sp, group_by, site) for sid, sp in spaces.items()}
    totals: dict[str, Totals] = {}
    peaks: dict[str, int] = {}
    cuts = _day_cuts(cal, start, end)
    for lo, hi in zip(cuts, cuts[1:], strict=False):
        w = split_window(cal, lo, hi)
        for sid, t in rollups.space_totals(store.db, site, w).items():
            acc = totals.setdefault(sid, Totals())
            acc.add(t.occupied_s, t.known_s, t.counted_s, t.person_s, t.peak)
        if group_by != "space":
            for g, p in rollups.bucket_peaks(store.db, site, w, group_of).items():
                peaks[g] = max(p, peaks.get(g, 0))
        if progress is not None:
            progress((hi - start) / max(end - start, 1))
    available = cal.open_seconds(start, end)
    rows = build_report(spaces, site, totals, available, group_by, peaks, store.under, store.over)
    return Report(start, end, group_by, available, rows)
