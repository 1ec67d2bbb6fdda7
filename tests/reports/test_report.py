"""``gateway report utilization`` and the heatmap, against rollup rows written for the test."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from gateway.building import load_building
from gateway.cli import main
from gateway.readmodel.heatmap import heatmap
from gateway.readmodel.queries import ReadModel
from gateway.settings import OccupancySettings
from gateway.store import create_db_engine, init_db
from gateway.store.rollups import BINS, DAYS
from tests.support import FIXTURES

TZ = ZoneInfo("Europe/Amsterdam")
SITE = "test-site"
BUILDING = FIXTURES / "building-small.yaml"


def local(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=TZ).timestamp()


def _bin(space: str, at: str, occupied: float) -> dict[str, object]:
    return {
        "site": SITE,
        "space": space,
        "start": local(at),
        "length": 900,
        "day": at[:10],
        "occupied_s": occupied,
        "known_s": 900,
        "counted_s": 0,
        "person_s": 0,
        "peak": None,
        "hist": None,
    }


def _day(space: str, day: str, occupied: float, person_s: float = 0, peak: int | None = None):  # type: ignore[no-untyped-def]
    return {
        "site": SITE,
        "space": space,
        "day": day,
        "start": local(f"{day}T00:00"),
        "occupied_s": occupied,
        "known_s": 86_400,
        "counted_s": 86_400 if person_s else 0,
        "person_s": person_s,
        "peak": peak,
    }


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A store holding known rollups; the building is open all day (Europe/Amsterdam).

    orion: 10:00-10:15 on the 24th (before the window), 13:00-14:00 on the 24th (bins),
    7200 s on the 25th and 3600 s on the 26th (day rows), 9999 s on the 27th (after).
    lounge: on the 25th, busy half the day with 3 people on average, peak 9.
    """
    url = f"sqlite:///{tmp_path}/gateway.db"
    db = create_db_engine(url)
    init_db(db)
    bins = [_bin("orion", "2025-11-24T10:00", 900)]
    bins += [_bin("orion", f"2025-11-24T13:{m:02d}", 900) for m in (0, 15, 30, 45)]
    days = [
        _day("orion", "2025-11-24", 4500),  # partial day in the window: its bins count instead
        _day("orion", "2025-11-25", 7200),
        _day("orion", "2025-11-26", 3600),
        _day("orion", "2025-11-27", 9999),
        _day("lounge", "2025-11-25", 43_200, person_s=259_200, peak=9),
    ]
    with db.begin() as conn:
        conn.execute(insert(BINS), bins)
        conn.execute(insert(DAYS), days)
    db.dispose()
    monkeypatch.setenv("GATEWAY_DATABASE_URL", url)
    monkeypatch.setenv("GATEWAY_BUILDING", str(BUILDING))
    return url


WINDOW = ["--from", "2025-11-24T12:00", "--to", "2025-11-26"]  # to: the whole 26th


def test_json_figures(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "utilization", *WINDOW, "--format", "json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["available_s"] == 216_000  # 12 h of the 24th + the 25th + the 26th
    rows = {r["id"]: r for r in body["data"]}
    # orion: 3600 (bins of the 24th) + 7200 + 3600 = 14400 of 216000 s
    assert rows["orion"]["occupied_s"] == 14_400
    assert rows["orion"]["time_used_pct"] == 6.67
    # lounge: 43200 / 216000 = 20 %; 259200 person-s / 216000 = 1.2 people, / 15 seats = 8 %
    lounge = rows["lounge"]
    assert (lounge["time_used_pct"], lounge["avg_occupancy"]) == (20.0, 1.2)
    assert (lounge["avg_utilization_pct"], lounge["peak_utilization_pct"]) == (8.0, 60.0)
    assert lounge["band"] == "under"
    assert rows["booth-1"]["time_used_pct"] == 0.0


def test_grouped_csv_and_table(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "utilization", *WINDOW, "--group-by", "type", "--format", "csv"]) == 0
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    # meeting rooms: orion's 14400 s over 2 rooms x 216000 s
    assert rows["meeting_room"]["time_used_pct"] == "3.33"
    assert rows["meeting_room"]["spaces"] == "2"
    assert rows["lounge"]["peak_occupancy"] == "9"
    out = tmp_path / "report.txt"
    assert main(["report", "utilization", *WINDOW, "--output", str(out)]) == 0
    text = out.read_text()
    assert "Utilization by space" in text
    orion = next(line for line in text.splitlines() if "orion" in line)
    assert "6.67" in orion and "under" in orion


def test_png_heatmap(store_url: str, tmp_path: Path) -> None:
    png = tmp_path / "heat.png"
    args = ["report", "utilization", *WINDOW, "--format", "png", "--output", str(png)]
    assert main(args) == 0
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000
    width = int.from_bytes(data[16:20], "big")
    assert width >= 600


def test_heatmap_matrix_and_progress(store_url: str) -> None:
    building = load_building(BUILDING)
    db = create_db_engine(store_url)
    seen: list[float] = []
    hm = heatmap(
        db,
        building,
        900,
        local("2025-11-24T12:00"),
        local("2025-11-25T00:00"),
        "space",
        seen.append,
    )
    assert hm.hours == list(range(12, 24))
    orion = next(r for r in hm.rows if r["id"] == "orion")
    assert orion["cells"][hm.hours.index(13)] == 100.0  # the four bins 13:00-14:00
    assert sum(orion["cells"]) == 100.0  # the 10:00 bin lies outside the window
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)
    occ = OccupancySettings(bin_s=900, band_under_pct=60.0, band_over_pct=100.0)
    rm = ReadModel(db, occ, lambda: building)
    seen.clear()
    rep = rm.utilization(
        local("2025-11-20T00:00"), local("2025-11-30T00:00"), "space", progress=seen.append
    )
    assert len(seen) == 10 and seen[-1] == 1.0  # one step per local day
    orion_row = next(r for r in rep.rows if r["id"] == "orion")
    assert orion_row["occupied_s"] == 4500 + 7200 + 3600 + 9999
    db.dispose()


def test_bad_arguments(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "utilization", "--from", "2025-11-26", "--to", "2025-11-24"]) == 2
    assert "--to must be after --from" in capsys.readouterr().err
    assert main(["report", "utilization", "--from", "yesterday"]) == 2
    assert "not an ISO-8601" in capsys.readouterr().err


def test_heatmap_grouped_read_matches_bin_by_bin_across_dst(tmp_path: Path) -> None:
    """Summer time ends on 2025-10-26 in Amsterdam: local hours shift against UTC."""
    db = create_db_engine(f"sqlite:///{tmp_path}/dst.db")
    init_db(db)
    rows = []
    for day in ("2025-10-24", "2025-10-25", "2025-10-26", "2025-10-27", "2025-10-28"):
        for hour, minutes in ((9, (0, 15)), (14, (0, 15, 30, 45)), (2, (30,))):
            rows += [_bin("orion", f"{day}T{hour:02d}:{m:02d}", 450) for m in minutes]
        rows.append(_bin("lounge", f"{day}T18:45", 900))
    with db.begin() as conn:
        conn.execute(insert(BINS), rows)
    building = load_building(BUILDING)
    t0, t1 = local("2025-10-24T00:00"), local("2025-10-29T00:00")
    fast = heatmap(db, building, 900, t0, t1, "space")
    slow = heatmap(db, building, 900, t0, t1, "space", grouped=False)
    assert fast.rows == slow.rows and fast.available_s == slow.available_s
    orion = dict(
        zip(fast.hours, next(r for r in fast.rows if r["id"] == "orion")["cells"], strict=True)
    )
    # 5 days of 3600 s per hour, except the repeated 02:00 hour of the 26th (7200 s)
    assert fast.available_s[fast.hours.index(2)] == 6 * 3600
    assert orion[9] == round(100 * 5 * 900 / (5 * 3600), 2)  # two bins of 450 s a day
    assert orion[14] == round(100 * 5 * 1800 / (5 * 3600), 2)
    assert orion[2] == round(100 * 5 * 450 / (6 * 3600), 2)
    lounge = next(r for r in fast.rows if r["id"] == "lounge")["cells"]
    assert lounge[fast.hours.index(18)] == 25.0 and sum(lounge) == 25.0
    db.dispose()
