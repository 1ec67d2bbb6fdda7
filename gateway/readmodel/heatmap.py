"""Time used % by space, floor or space type x local hour of day, read from rollup bins.

A cell is the occupied seconds of the row's spaces in bins starting in that local hour,
over the business seconds of those bins times the number of spaces (SPEC section 4's time
used %, split by hour). Hours the site is never open in the window are left out; a cell
with no business seconds is null.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import BigInteger, cast, func, select
from sqlalchemy.engine import Engine

from gateway.building import Building
from gateway.occupancy.calendar import Calendar
from gateway.readmodel.figures import group_key
from gateway.readmodel.window import Progress, widen
from gateway.store.rollup_sums import BINS

HeatBy = Literal["space", "floor", "type"]


@dataclass(frozen=True, slots=True)
class Heatmap:
    """Rows of time used % per open local hour."""

    start: float
    end: float
    by: str
    hours: list[int]
    available_s: list[float]  # business seconds per space in each listed hour
    rows: list[dict[str, Any]]  # id, label, spaces, cells (one per hour, % or None)


def _hour(cal: Calendar, ts: float) -> int:
    return datetime.fromtimestamp(ts, cal.tz).hour


def _offset(cal: Calendar, ts: float) -> int:
    off = datetime.fromtimestamp(ts, cal.tz).utcoffset()
    return 0 if off is None else int(off.total_seconds())


def offset_runs(cal: Calendar, start: float, end: float) -> list[tuple[float, float, int | None]]:
    """``[lo, hi)`` pieces of the window with one UTC offset each (whole hours, no change
    inside), or ``None`` for local days where the offset changes (DST) or is not whole hours.
    """
    runs: list[tuple[float, float, int | None]] = []
    day = cal.local_date(start)
    lo = start
    while lo < end:
        day += timedelta(days=1)
        hi = min(end, cal.day_start(day))
        if hi <= lo:
            continue
        a, b = _offset(cal, lo), _offset(cal, hi - 1)
        off = a if a == b and a % 3600 == 0 else None
        if runs and runs[-1][2] == off and off is not None:
            runs[-1] = (runs[-1][0], hi, off)
        else:
            runs.append((lo, hi, off))
        lo = hi
    return runs


def _available(cal: Calendar, start: float, end: float) -> list[float]:
    """Business seconds per space in each local hour of the day over ``[start, end)``."""
    bin_s = cal.bin_s
    avail = [0.0] * 24
    for idx in range(int(start // bin_s), int(end // bin_s)):
        avail[_hour(cal, idx * bin_s)] += sum(b - a for a, b in cal.bin_intervals(idx))
    return avail


def _occupied(
    db: Engine,
    cal: Calendar,
    site: str,
    group_of: dict[str, str],
    runs: list[tuple[float, float, int | None]],
    progress: Progress | None,
) -> dict[str, list[float]]:
    """Per group, the occupied seconds of its spaces' bins by local hour of the day.

    A run with one whole-hour UTC offset is summed by the store by UTC time of day; any other
    run reads its bins one by one.
    """
    occupied: dict[str, list[float]] = {g: [0.0] * 24 for g in set(group_of.values())}
    c = BINS.c
    tod = cast(c.start, BigInteger) % 86_400  # UTC time of day of the bin
    if not runs:
        return occupied
    start, end = runs[0][0], runs[-1][1]
    with db.connect() as conn:
        for lo, hi, off in runs:
            where = (c.site == site, c.start >= lo, c.start < hi, c.occupied_s > 0)
            if off is not None:
                q = (
                    select(c.space, tod, func.sum(c.occupied_s))
                    .where(*where)
                    .group_by(c.space, tod)
                )
                for sid, t, occ in conn.execute(q):
                    g = group_of.get(sid)
                    if g is not None:
                        occupied[g][int((t + off) % 86_400) // 3600] += float(occ)
            else:
                for sid, bstart, occ in conn.execute(
                    select(c.space, c.start, c.occupied_s).where(*where)
                ):
                    g = group_of.get(sid)
                    if g is not None:
                        occupied[g][_hour(cal, bstart)] += float(occ)
            if progress is not None:
                progress(0.2 + 0.8 * (hi - start) / max(end - start, 1))
    return occupied


def _label(building: Building, by: str, g: str) -> str:
    if by == "space":
        return building.spaces[g].name
    if by == "floor":
        return building.floor_name(g)
    return g


def heatmap(
    db: Engine,
    building: Building,
    bin_s: int,
    t0: float,
    t1: float,
    by: HeatBy = "space",
    progress: Progress | None = None,
    grouped: bool = True,
) -> Heatmap:
    """The matrix over ``[t0, t1)`` widened to whole bins.

    With ``grouped`` the store sums each space's bins by time of day over every stretch of
    constant UTC offset, so a long window returns spaces x bins-per-day rows, not every bin;
    days with a DST change (and ``grouped=False``) read their bins one by one.
    """
    cal = Calendar(building.site.business_hours, bin_s)  # own cache: a long window fills it
    start, end = widen(t0, t1, bin_s)
    avail = _available(cal, start, end)
    if progress is not None:
        progress(0.2)
    site = building.site.id
    groups: dict[str, list[str]] = {}
    for sp in building.spaces.values():
        groups.setdefault(group_key(sp, by, site), []).append(sp.id)
    group_of = {sid: g for g, ids in groups.items() for sid in ids}
    runs: list[tuple[float, float, int | None]] = [(start, end, None)]
    if grouped:
        runs = offset_runs(cal, start, end)
    occupied = _occupied(db, cal, site, group_of, runs, progress)
    hours = [h for h in range(24) if avail[h] > 0]
    rows = []
    for g, ids in groups.items():
        n = len(ids)
        cells = [round(100.0 * occupied[g][h] / (avail[h] * n), 2) for h in hours]
        rows.append({"id": g, "label": _label(building, by, g), "spaces": n, "cells": cells})
    return Heatmap(start, end, by, hours, [avail[h] for h in hours], rows)
