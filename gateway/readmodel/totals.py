"""Per-space rollup totals over a report window, and group peaks, read from the store.

Whole weeks come from week rows, the other whole days from day rows, the edges from bin rows,
so the work follows the window and the spaces, not the history kept.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Table, and_, bindparam, false, func, or_, select, union_all
from sqlalchemy.engine import Engine
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from gateway.readmodel.figures import Totals
from gateway.readmodel.window import Progress, Window
from gateway.store.rollup_sums import BINS, DAYS, WEEKS


def _spans(table: Table, window: Window, weeks: bool) -> list[tuple[float, float]]:
    """The start ranges to read from ``table``; with ``weeks``, week rows replace day rows."""
    if table is BINS:
        return list(window.edges)
    if window.days is None:
        return []
    w = window.weeks if weeks else None
    if table is WEEKS:
        return [] if w is None else [w]
    if w is None:
        return [window.days]
    (d0, d1), (w0, w1) = window.days, w
    return [(a, z) for a, z in ((d0, w0), (w1, d1)) if z > a]


def _ranges(table: Table, site: str, window: Window) -> tuple[ColumnElement[bool], ...]:
    """The window as day and bin rows (group peaks keep the resolution of a day)."""
    c = table.c
    parts = [and_(c.start >= a, c.start < z) for a, z in _spans(table, window, False)]
    return (c.site == site, or_(*parts) if parts else false())


READ_CHUNK = 2000  # ids per IN list of a report read (well inside both backends' limits)


@functools.cache
def _totals_query(weeks: bool, days: int, edges: int, by_ids: bool) -> Select[Any]:
    """Per-space sums over week rows in [:lo0, :hi0) (for the spaces :ids if ``by_ids``), then
    ``days`` day-row ranges and ``edges`` bin-row ranges ([:loN, :hiN) each), in one query.

    Week rows are found per space, one seek each in their covering index; day rows (at most
    six days on each side of the weeks) and bin rows (the window's edges) are short ranges by
    (site, start), cheaper as a range scan than as a seek per space. One statement per shape,
    built once; the database sums the few rows per space, so Python sees one row per space.
    """
    parts = []
    for n, table in enumerate([WEEKS] * weeks + [DAYS] * days + [BINS] * edges):
        c = table.c
        conds = [
            c.site == bindparam("site"),
            c.start >= bindparam(f"lo{n}"),
            c.start < bindparam(f"hi{n}"),
        ]
        if table is WEEKS and by_ids:
            # an expanding parameter: the statement is compiled once and cached
            conds.append(c.space.in_(bindparam("ids", expanding=True)))
        cols = (c.occupied_s, c.known_s, c.counted_s, c.person_s, c.peak)
        parts.append(select(c.space, *cols).where(*conds))
    u = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    sums = (u.c.occupied_s, u.c.known_s, u.c.counted_s, u.c.person_s)
    return select(u.c.space, *(func.sum(m) for m in sums), func.max(u.c.peak)).group_by(u.c.space)


def space_totals(
    engine: Engine, site: str, window: Window, spaces: list[str] | None = None, hist: bool = False
) -> dict[str, Totals]:
    """Per-space totals over the window: whole weeks from week rows, the other whole days from
    day rows, edges from bin rows (see ``_totals_query``); a 30-day window reads about six rows
    per space, and the work follows the window and the spaces, not the history kept.
    """
    out: dict[str, Totals] = {}
    wanted = None if spaces is None else set(spaces)
    weeks = _spans(WEEKS, window, True)
    days, edges = _spans(DAYS, window, True), _spans(BINS, window, True)
    chunks: list[list[str] | None] = [None]
    if spaces is not None and weeks:
        chunks = [spaces[k : k + READ_CHUNK] for k in range(0, len(spaces), READ_CHUNK)]
    with engine.connect() as conn:
        for k, ids in enumerate(chunks):
            first = k == 0  # day and bin ranges hold every space: read them once
            spans = weeks + (days + edges if first else [])
            if not spans:
                continue
            q = _totals_query(bool(weeks), len(days) * first, len(edges) * first, ids is not None)
            params: dict[str, Any] = {"site": site}
            for n, (lo, hi) in enumerate(spans):
                params[f"lo{n}"], params[f"hi{n}"] = lo, hi
            if ids is not None:
                params["ids"] = ids
            for sid, occ, known, counted, person, peak in conn.execute(q, params).all():
                if wanted is not None and sid not in wanted:
                    continue
                t = out.get(sid)
                if t is None:
                    out[sid] = Totals(occ or 0.0, known or 0.0, counted or 0.0, person or 0.0, peak)
                else:
                    t.add(occ, known, counted, person, peak)
        if hist:  # headcount histograms live on the bins only
            c = BINS.c
            hq = select(c.space, c.hist).where(
                c.site == site, c.start >= window.start, c.start < window.end, c.hist.is_not(None)
            )
            if spaces is not None:
                hq = hq.where(c.space.in_(spaces))
            for sid, h in conn.execute(hq):
                t = out.setdefault(sid, Totals())
                for k, v in (h or {}).items():
                    t.hist[int(k)] = t.hist.get(int(k), 0.0) + float(v)
    return out


def bucket_peaks(
    engine: Engine, site: str, window: Window, group_of: dict[str, str]
) -> dict[str, int]:
    """Per group, the highest sum of its spaces' peaks within one rollup bucket."""
    sums: dict[tuple[str, str, float], int] = {}
    with engine.connect() as conn:
        for table in (DAYS, BINS):
            c = table.c
            q = select(c.space, c.start, c.peak).where(*_ranges(table, site, window), c.peak > 0)
            kind = "d" if table is DAYS else "b"
            for sid, start, peak in conn.execute(q):
                g = group_of.get(sid)
                if g is not None:
                    key = (g, kind, start)
                    sums[key] = sums.get(key, 0) + int(peak)
    best: dict[str, int] = {}
    for (g, _k, _s), v in sums.items():
        if v > best.get(g, 0):
            best[g] = v
    return best


def read_totals(
    engine: Engine,
    site: str,
    windows: list[Window],
    spaces: list[str] | None = None,
    group_of: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> tuple[dict[str, Totals], dict[str, int]]:
    """Per-space totals (and, with ``group_of``, group peaks) over disjoint windows, told to
    ``progress`` window by window; one window gives what :func:`space_totals` gives."""
    totals: dict[str, Totals] = {}
    peaks: dict[str, int] = {}
    start, end = windows[0].start, windows[-1].end
    for w in windows:
        for sid, t in space_totals(engine, site, w, spaces).items():
            acc = totals.get(sid)
            if acc is None:
                totals[sid] = t
            else:
                acc.add(t.occupied_s, t.known_s, t.counted_s, t.person_s, t.peak)
        if group_of is not None:
            for g, p in bucket_peaks(engine, site, w, group_of).items():
                peaks[g] = max(p, peaks.get(g, 0))
        if progress is not None:
            progress((w.end - start) / max(end - start, 1))
    return totals, peaks
