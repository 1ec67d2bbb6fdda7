"""A report window: ``[t0, t1)`` widened to whole bins, split into weeks, days and edge bins."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from gateway.occupancy.calendar import Calendar

Progress = Callable[[float], None]  # share of the work done, 0..1


@dataclass(frozen=True, slots=True)
class Window:
    """A report window widened to whole bins, split into whole local days and edge bins.

    The whole local weeks (Monday first) inside the whole days are read from week rows, the
    days around them from day rows, so a long report reads a few rows per space.
    """

    start: float
    end: float
    days: tuple[float, float] | None  # [first local midnight, last local midnight)
    edges: tuple[tuple[float, float], ...]  # bin ranges outside the whole days
    weeks: tuple[float, float] | None = None  # [first local Monday, last local Monday) in days


def widen(t0: float, t1: float, bin_s: int) -> tuple[float, float]:
    """``[t0, t1)`` widened to whole bins."""
    return (t0 // bin_s) * bin_s, -(-t1 // bin_s) * bin_s


def split_window(cal: Calendar, t0: float, t1: float) -> Window:
    """Widen ``[t0, t1)`` to bins; whole local days read day rows, the rest bin rows."""
    start, end = widen(t0, t1, cal.bin_s)
    first = cal.local_date(start)
    d0 = cal.day_start(first)
    if d0 < start:
        d0 = cal.day_start(first + timedelta(days=1))
    last = cal.local_date(end)
    d1 = cal.day_start(last)
    if d1 > end:
        d1 = cal.day_start(last - timedelta(days=1))
    if d1 <= d0:
        return Window(start, end, None, ((start, end),) if end > start else ())
    edges = tuple((a, z) for a, z in ((start, d0), (d1, end)) if z > a)
    first, last = cal.local_date(d0), cal.local_date(d1)
    w0 = cal.day_start(first + timedelta(days=(7 - first.weekday()) % 7))
    w1 = cal.day_start(last - timedelta(days=last.weekday()))
    return Window(start, end, (d0, d1), edges, (w0, w1) if w1 > w0 else None)


def day_pieces(cal: Calendar, start: float, end: float) -> list[tuple[float, float]]:
    """``[start, end)`` cut at the local midnights inside it: one piece per local day."""
    cuts = [start]
    day = cal.local_date(start)
    while True:
        day += timedelta(days=1)
        t = cal.day_start(day)
        if t >= end:
            break
        cuts.append(t)
    cuts.append(end)
    return list(zip(cuts, cuts[1:], strict=False))
