"""Day and week rollup rows rewritten as the sums of the bins and days under them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Table, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from gateway.store.engine_tables import RollupBin, RollupDay, RollupWeek


def table_of(model: type) -> Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


BINS, DAYS, WEEKS = table_of(RollupBin), table_of(RollupDay), table_of(RollupWeek)
DayOf = Callable[[int], tuple[str, float]]  # bin index -> (local ISO date, its midnight)
DAY_SUMS = ("occupied_s", "known_s", "counted_s", "person_s")
CHUNK = 500  # ids per IN list


def _upsert_sums(conn: Connection, table: Table, period: str, sel: Select[Any]) -> None:
    """Insert the sums ``sel`` selects as ``table``'s rows, replacing the rows they meet."""
    pg = conn.dialect.name == "postgresql"
    ins: Any = (postgresql.insert(table) if pg else sqlite.insert(table)).from_select(
        ["site", "space", period, "start", *DAY_SUMS, "peak"], sel
    )
    stmt = ins.on_conflict_do_update(
        index_elements=["site", "space", period],
        set_={m: getattr(ins.excluded, m) for m in (*DAY_SUMS, "peak", "start")},
    )
    conn.execute(stmt)


def _chunks(spaces: set[str]) -> list[list[str]]:
    """``spaces`` in order, cut into lists short enough for one IN."""
    ids = sorted(spaces)
    return [ids[k : k + CHUNK] for k in range(0, len(ids), CHUNK)]


def _sums(c: Any, site: str, period: str, start: Any) -> Select[Any]:
    """Select one row a space from the rows of columns ``c``: the site, the space, ``period``,
    ``start`` and the sums, grouped by space (the caller adds its where)."""
    sums = (func.sum(getattr(c, m)) for m in DAY_SUMS)
    sel = select(literal(site), c.space, literal(period), start, *sums, func.max(c.peak))
    return sel.group_by(c.space)


def sum_days(conn: Connection, site: str, touched: dict[tuple[str, float], set[str]]) -> None:
    """Rewrite the day rows of the touched (day, space) pairs as the sums of their bins."""
    c = BINS.c
    for (day, day_start), spaces in touched.items():
        for ids in _chunks(spaces):
            sel = _sums(c, site, day, literal(day_start)).where(
                c.site == site,
                c.space.in_(ids),
                # the primary key (site, space, start) finds a day's bins; 25 h covers DST
                c.start >= day_start,
                c.start < day_start + 90_000,
                c.day == day,
            )
            _upsert_sums(conn, DAYS, "day", sel)


def sum_weeks(conn: Connection, site: str, days: dict[tuple[str, float], set[str]]) -> None:
    """Rewrite the week rows holding the touched (day, space) pairs as the sums of their days."""
    touched: dict[date, set[str]] = {}
    for (day, _start), spaces in days.items():
        d = date.fromisoformat(day)
        touched.setdefault(d - timedelta(days=d.weekday()), set()).update(spaces)
    c = DAYS.c
    for monday, spaces in touched.items():
        week, nxt = monday.isoformat(), (monday + timedelta(days=7)).isoformat()
        for ids in _chunks(spaces):
            sel = (
                # the week's first day row: inside the week, so a range of Mondays finds it
                _sums(c, site, week, func.min(c.start))
                # ISO dates sort as text: the primary key (site, space, day) finds a week's days
                .where(c.site == site, c.space.in_(ids), c.day >= week, c.day < nxt)
            )
            _upsert_sums(conn, WEEKS, "week", sel)
