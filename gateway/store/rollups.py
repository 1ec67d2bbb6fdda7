"""The engine's output in the store: rollups, idle episodes, findings and the snapshot.

``save`` writes one drain of the engine and its snapshot in one transaction. Bins are upserted
under their keys with absolute totals, so writing the same bin again replaces it; the day
rows of the days and spaces touched are then rewritten as the sums of their bins, and the
week rows as the sums of their days (``rollup_sums``). Reports read them in
:mod:`gateway.readmodel`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from gateway.errors import StoreError
from gateway.occupancy.accumulate import Acc, EngineOutput
from gateway.store.db import db_error
from gateway.store.engine_tables import EngineSnapshot, FindingRow, IdleEpisodeRow
from gateway.store.rollup_sums import BINS as BINS  # re-exported: the tables of reads
from gateway.store.rollup_sums import DAY_SUMS as DAY_SUMS
from gateway.store.rollup_sums import DAYS as DAYS
from gateway.store.rollup_sums import WEEKS as WEEKS
from gateway.store.rollup_sums import DayOf, sum_days, sum_weeks, table_of
from gateway.store.writer import upsert_rows

EPISODES, FINDINGS = table_of(IdleEpisodeRow), table_of(FindingRow)
SNAPSHOTS = table_of(EngineSnapshot)


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


def _episode_rows(site: str, out: EngineOutput) -> list[dict[str, Any]]:
    return [
        {"site": site, "space": e.space, "start": e.start, "opened_at": e.opened_at, "end": e.end}
        for e in out.episodes.values()
    ]


def _finding_rows(site: str, out: EngineOutput) -> list[dict[str, Any]]:
    return [
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
    ]


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
                upsert_rows(
                    conn,
                    BINS,
                    ["site", "space", "start"],
                    [_bin_row(site, a, bin_s, day_of) for a in out.bins[k : k + 5000]],
                )
            sum_days(conn, site, touched)
            sum_weeks(conn, site, touched)
            upsert_rows(conn, EPISODES, ["site", "space", "start"], _episode_rows(site, out))
            upsert_rows(conn, FINDINGS, ["site", "kind", "ref"], _finding_rows(site, out))
            if snapshot is not None:
                upsert_rows(
                    conn,
                    SNAPSHOTS,
                    ["site"],
                    [{"site": site, "taken_at": now, "data": snapshot}],
                )
    except SQLAlchemyError as err:
        raise StoreError(f"engine output not saved: {db_error(err)}") from err


def load_snapshot(engine: Engine, site: str) -> bytes | None:
    with engine.connect() as conn:
        row = conn.execute(select(SNAPSHOTS.c.data).where(SNAPSHOTS.c.site == site)).first()
    return None if row is None else bytes(row[0])
