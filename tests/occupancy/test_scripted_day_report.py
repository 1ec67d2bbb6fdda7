"""The scripted day's rollups written by the real store and read back as reports, by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from gateway.occupancy import OccupancyEngine
from gateway.occupancy.accumulate import EngineOutput
from gateway.readmodel.queries import ReadModel
from gateway.store import create_db_engine, init_db, rollups
from tests.occupancy.day import L, building, run, settings


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, OccupancyEngine]:
    db = create_db_engine(f"sqlite:///{Path(tmp_path_factory.mktemp('day')) / 'day.db'}")
    init_db(db)
    out = EngineOutput()
    eng: OccupancyEngine | None = None
    for _now, step_engine, drained in run(L(23, 59)):
        out.merge(drained)
        eng = step_engine
    assert eng is not None
    rollups.save(db, "s1", out, None, L(23, 59), eng.bin_s, eng.cal.day_of_bin)
    return db, eng


def report(
    stored: tuple[Engine, OccupancyEngine],
    t0: float,
    t1: float,
    group_by: str = "space",
    under: float = 60.0,
    over: float = 100.0,
) -> dict[str, dict[str, Any]]:
    """What GET /api/v1/utilization computes, keyed by row id."""
    db, eng = stored
    occ = settings().model_copy(update={"band_under_pct": under, "band_over_pct": over})
    b = building()
    rows = ReadModel(db, occ, lambda: b, eng.cal).utilization(t0, t1, group_by).rows
    return {r["id"]: r for r in rows}


def figures(row: dict[str, Any]) -> tuple[Any, ...]:
    keys = (
        "available_s",
        "occupied_s",
        "time_used_pct",
        "coverage_pct",
        "avg_occupancy",
        "peak_occupancy",
        "avg_utilization_pct",
        "peak_utilization_pct",
        "band",
    )
    return tuple(row[k] for k in keys)


def test_whole_day_per_space(stored: tuple[Engine, OccupancyEngine]) -> None:
    # a whole local day reads the day rows; 08:00-18:00 open = 36,000 s available
    rows = report(stored, L(0), L(23, 59))
    # orion (8 seats, counter): occupied 09:00-10:00 + 12:00-12:30 = 5400 s -> 15 %;
    # person-s 12,000 (2x2400 + 3x1200 + 2x1800) / 36,000 = 0.3333 people on average,
    # 0.3333 / 8 = 4.17 % average utilization; peak 3 -> 3/8 = 37.5 %; band by the average
    # utilization: 4.17 < 60 -> under
    assert figures(rows["orion"]) == (36000, 5400, 15.0, 100.0, 0.3333, 3, 4.17, 37.5, "under")
    # focus (PIR only): 840 s occupied -> 2.33 %; no counter, so no occupancy figures and
    # the band goes by time used: under
    assert figures(rows["focus"]) == (36000, 840, 2.33, 100.0, None, None, None, None, "under")
    # booth: 1200 s occupied -> 3.33 %; unknown 14:20-15:00 (2400 s) -> coverage 33,600 s
    # = 93.33 %
    assert figures(rows["booth"]) == (36000, 1200, 3.33, 93.33, None, None, None, None, "under")


def test_whole_day_grouped(stored: tuple[Engine, OccupancyEngine]) -> None:
    floors = report(stored, L(0), L(23, 59), "floor")
    # floor f1 = orion + focus: 2 x 36,000 s available; occupied 5400 + 840 = 6240 -> 8.67 %;
    # the average headcount of the floor is 12,000 / 36,000 = 0.3333 over the 8 counted seats
    # -> 4.17 %; peak: the highest sum of peaks in one day row = orion's 3 -> 3/8 = 37.5 %
    assert figures(floors["f1"]) == (72000, 6240, 8.67, 100.0, 0.3333, 3, 4.17, 37.5, "under")
    assert (floors["f1"]["spaces"], floors["f1"]["capacity"]) == (2, 12)
    # floor f2 = booth alone
    assert figures(floors["f2"]) == (36000, 1200, 3.33, 93.33, None, None, None, None, "under")
    types = report(stored, L(0), L(23, 59), "type")
    assert figures(types["meeting_room"]) == figures(floors["f1"])
    assert figures(types["phone_booth"]) == figures(floors["f2"])
    site = report(stored, L(0), L(23, 59), "site")["s1"]
    # 3 x 36,000 s; occupied 5400 + 840 + 1200 = 7440 -> 6.89 %; known 36,000 + 36,000 +
    # 33,600 = 105,600 -> 97.78 %
    assert figures(site) == (108000, 7440, 6.89, 97.78, 0.3333, 3, 4.17, 37.5, "under")


def test_bands_follow_their_thresholds(stored: tuple[Engine, OccupancyEngine]) -> None:
    rows = report(stored, L(0), L(23, 59), under=3.0, over=10.0)
    # orion by average utilization 4.17, the others by time used 2.33 and 3.33
    assert {k: r["band"] for k, r in rows.items()} == {
        "orion": "target",
        "focus": "under",
        "booth": "target",
    }
    rows = report(stored, L(0), L(23, 59), under=1.0, over=4.0)
    assert {k: r["band"] for k, r in rows.items()} == {
        "orion": "over",
        "focus": "target",
        "booth": "target",
    }


def test_part_of_a_day_reads_bins(stored: tuple[Engine, OccupancyEngine]) -> None:
    rows = report(stored, L(9), L(10, 30))
    # 09:00-10:30 = 5400 s; orion occupied 09:00-10:00 -> 66.67 %; person-s 2 x 2400 +
    # 3 x 1200 = 8400 -> 1.5556 people on average, / 8 = 19.44 %; peak 3 -> 37.5 %
    assert figures(rows["orion"]) == (5400, 3600, 66.67, 100.0, 1.5556, 3, 19.44, 37.5, "under")
    # focus: vacant all along (its 11:00 visit is outside the window)
    assert figures(rows["focus"]) == (5400, 0, 0.0, 100.0, None, None, None, None, "under")
