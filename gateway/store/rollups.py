"""The engine's output in the store: rollups, idle episodes, findings, snapshot; report reads.

``save`` writes one drain of the engine and its snapshot in one transaction. Bins are upserted
under their keys with absolute totals, so writing the same bin again replaces it; the day
rows of the days and spaces touched are then rewritten as the sums of their bins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, and_, false, func, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from gateway.errors import StoreError
from gateway.occupancy.accumulate import Acc, EngineOutput
from gateway.occupancy.report import Totals, Window
from gateway.store.engine_tables import (
    EngineSnapshot,
    FindingRow,
    IdleEpisodeRow,
    RollupBin,
    RollupDay,
)


def _t(model: type) -> Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


BINS, DAYS, EPISODES = _t(RollupBin), _t(RollupDay), _t(IdleEpisodeRow)
DayOf = Callable[[int], tuple[str, float]]  # bin index -> (local ISO date, its midnight)
FINDINGS, SNAPSHOTS = _t(FindingRow), _t(EngineSnapshot)


def _upsert(conn: Connection, table: Table, keys: list[str], rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    ins: Any = (
        postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)
    )
    cols = [k for k in rows[0] if k not in keys]
    stmt = ins.on_conflict_do_update(
        index_elements=keys, set_={c: getattr(ins.excluded, c) for c in cols}
    )
    conn.execute(stmt, rows)


DAY_SUMS = ("occupied_s", "known_s", "counted_s", "person_s")
CHUNK = 500  # ids per IN list


def _bin_row(site: str, a: Acc, bin_s: int, day_of: DayOf) -> dict[str, Any]:
    return {
        "site": site,
        "space": a.space,
        "start": a.key * bin_s,
        "length": bin_s,
        "day": day_of(a.key)[0],
        "occupied_s": a.occupied_s,
        "known_s": a.known_s,
        "counted_s": a.counted_s,
        "person_s": a.person_s,
        "peak": a.peak,
        "hist": None if a.hist is None else {str(k): v for k, v in a.hist.items()},
    }


def _sum_days(conn: Connection, site: str, touched: dict[tuple[str, float], set[str]]) -> None:
    """Rewrite the day rows of the touched (day, space) pairs as the sums of their bins."""
    c = BINS.c
    pg = conn.dialect.name == "postgresql"
    for (day, day_start), spaces in touched.items():
        ids = sorted(spaces)
        for k in range(0, len(ids), CHUNK):
            sel = (
                select(
                    literal(site),
                    c.space,
                    literal(day),
                    literal(day_start),
                    *(func.sum(getattr(c, m)) for m in DAY_SUMS),
                    func.max(c.peak),
                )
                .where(
                    c.site == site,
                    c.space.in_(ids[k : k + CHUNK]),
                    # the primary key (site, space, start) finds a day's bins; 25 h covers DST
                    c.start >= day_start,
                    c.start < day_start + 90_000,
                    c.day == day,
                )
                .group_by(c.space)
            )
            ins: Any = (postgresql.insert(DAYS) if pg else sqlite.insert(DAYS)).from_select(
                ["site", "space", "day", "start", *DAY_SUMS, "peak"], sel
            )
            stmt = ins.on_conflict_do_update(
                index_elements=["site", "space", "day"],
                set_={m: getattr(ins.excluded, m) for m in (*DAY_SUMS, "peak", "start")},
            )
            conn.execute(stmt)


def save(
    engine: Engine,
    site: str,
    out: EngineOutput,
    snapshot: bytes | None,
    now: float,
    bin_s: int,
    day_of: DayOf,
) -> None:
    """Write one drain and the snapshot taken with it, together or not at all."""
    touched: dict[tuple[str, float], set[str]] = {}
    for a in out.bins:
        touched.setdefault(day_of(a.key), set()).add(a.space)
    try:
        with engine.begin() as conn:
            for k in range(0, len(out.bins), 5000):
                _upsert(
                    conn,
                    BINS,
                    ["site", "space", "start"],
                    [_bin_row(site, a, bin_s, day_of) for a in out.bins[k : k + 5000]],
                )
            _sum_days(conn, site, touched)
            _upsert(
                conn,
                EPISODES,
                ["site", "space", "start"],
                [
                    {
                        "site": site,
                        "space": e.space,
                        "start": e.start,
                        "opened_at": e.opened_at,
                        "end": e.end,
                    }
                    for e in out.episodes.values()
                ],
            )
            _upsert(
                conn,
                FINDINGS,
                ["site", "kind", "ref"],
                [
                    {
                        "site": site,
                        "kind": f.kind,
                        "ref": f.ref,
                        "space": f.space,
                        "start": f.start,
                        "end": f.end,
                        "detected_at": f.detected_at,
                        "details": f.details,
                    }
                    for f in out.findings
                ],
            )
            if snapshot is not None:
                _upsert(
                    conn,
                    SNAPSHOTS,
                    ["site"],
                    [{"site": site, "taken_at": now, "data": snapshot}],
                )
    except SQLAlchemyError as err:
        raise StoreError(f"engine output not saved: {err}") from err


def load_snapshot(engine: Engine, site: str) -> bytes | None:
    with engine.connect() as conn:
        row = conn.execute(select(SNAPSHOTS.c.data).where(SNAPSHOTS.c.site == site)).first()
    return None if row is None else bytes(row[0])


# -- reads --------------------------------------------------------------------------------------
def _ranges(table: Table, site: str, window: Window) -> tuple[ColumnElement[bool], ...]:
    parts = []
    if table is DAYS:
        if window.days is not None:
            parts.append(and_(table.c.start >= window.days[0], table.c.start < window.days[1]))
    else:
        parts += [and_(table.c.start >= a, table.c.start < z) for a, z in window.edges]
    return (table.c.site == site, or_(*parts) if parts else false())


def space_totals(
    engine: Engine, site: str, window: Window, spaces: list[str] | None = None, hist: bool = False
) -> dict[str, Totals]:
    """Per-space totals over the window: whole days from day rows, edges from bin rows.

    Given the spaces, each one's day rows are found by key (site, space, start) in a covering
    index and come in space order, so nothing is sorted and the work follows the window and
    the spaces, not the history kept (without them, a scan of the site's day rows). Bin rows
    only cover the window's edges: one short range scan.
    """
    out: dict[str, Totals] = {}
    wanted = None if spaces is None else set(spaces)
    with engine.connect() as conn:
        for table in (DAYS, BINS):
            c = table.c
            # bin rows cover the window's edges only (a short range): one range scan, filtered
            # here; day rows are looked up per space, a chunk of ids at a time
            chunks: list[list[str] | None] = [None]
            if table is DAYS and spaces is not None:
                chunks = [spaces[k : k + CHUNK] for k in range(0, len(spaces), CHUNK)]
            for ids in chunks:
                conds = list(_ranges(table, site, window))
                if ids is not None:
                    conds.append(c.space.in_(ids))
                q = (
                    select(
                        c.space,
                        func.sum(c.occupied_s),
                        func.sum(c.known_s),
                        func.sum(c.counted_s),
                        func.sum(c.person_s),
                        func.max(c.peak),
                    )
                    .where(*conds)
                    .group_by(c.space)
                )
                for sid, occ, known, counted, person, peak in conn.execute(q):
                    if wanted is not None and sid not in wanted:
                        continue
                    t = out.get(sid)
                    if t is None:
                        t = out[sid] = Totals()
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
