"""Business hours: day ranges, several spans, all day, closed days and DST-correct seconds."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from gateway.building import BusinessHours, load_building

AMS = ZoneInfo("Europe/Amsterdam")


def hours_of(tmp_path: Path, block: str) -> BusinessHours:
    path = tmp_path / "b.yaml"
    path.write_text(
        "site:\n  id: s\n  timezone: Europe/Amsterdam\n  business_hours:\n"
        + "".join(f"    {line}\n" for line in block.strip().splitlines())
        + "floors: []\n"
    )
    return load_building(path).site.business_hours


def ts(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    return datetime(year, month, day, hour, minute, second, tzinfo=AMS).timestamp()


def test_ranges_and_spans(tmp_path: Path) -> None:
    h = hours_of(tmp_path, 'mon-fri: "08:00-20:00"\nsat: ["10:00-13:00", "14:00-18:00"]')
    # 2026-03-02 is a Monday
    assert h.is_open(ts(2026, 3, 2, 8, 0))
    assert h.is_open(ts(2026, 3, 6, 19, 59))
    assert not h.is_open(ts(2026, 3, 6, 20, 0))
    assert not h.is_open(ts(2026, 3, 2, 7, 59))
    assert h.is_open(ts(2026, 3, 7, 12, 30))
    assert not h.is_open(ts(2026, 3, 7, 13, 30))
    assert h.is_open(ts(2026, 3, 7, 14, 0))
    assert not h.is_open(ts(2026, 3, 8, 12, 0))  # sunday: missing = closed
    assert h.open_seconds(ts(2026, 3, 7, 0, 0), ts(2026, 3, 8, 0, 0)) == 7 * 3600
    assert h.open_seconds(ts(2026, 3, 2, 0, 0), ts(2026, 3, 9, 0, 0)) == (5 * 12 + 7) * 3600


def test_all_day_and_wrapping_range(tmp_path: Path) -> None:
    h = hours_of(tmp_path, 'fri-mon: "00:00-24:00"')
    assert h.is_open(ts(2026, 3, 7, 0, 0))
    assert h.is_open(ts(2026, 3, 8, 23, 59, 59))
    assert h.is_open(ts(2026, 3, 9, 12, 0))  # monday
    assert not h.is_open(ts(2026, 3, 10, 12, 0))  # tuesday
    assert h.open_seconds(ts(2026, 3, 6, 0, 0), ts(2026, 3, 10, 0, 0)) == 4 * 86400


def test_closed_day_and_empty_mapping(tmp_path: Path) -> None:
    h = hours_of(tmp_path, 'mon: "09:00-17:00"\ntue: []')
    assert not h.is_open(ts(2026, 3, 3, 12, 0))
    h2 = hours_of(tmp_path, "{}")
    assert h2.open_seconds(ts(2026, 3, 2, 0, 0), ts(2026, 3, 9, 0, 0)) == 0


def test_missing_business_hours_is_always_open(tmp_path: Path) -> None:
    path = tmp_path / "b.yaml"
    path.write_text("site: {id: s, timezone: UTC}\nfloors: []\n")
    h = load_building(path).site.business_hours
    assert h.open_seconds(0, 86400 * 3) == 86400 * 3


def test_open_seconds_across_dst(tmp_path: Path) -> None:
    always = hours_of(tmp_path, 'mon-sun: "00:00-24:00"')
    # the spring-forward week (2026-03-29, Sunday) has one hour less; autumn (2026-10-25) one more
    spring = always.open_seconds(ts(2026, 3, 23), ts(2026, 3, 30))
    autumn = always.open_seconds(ts(2026, 10, 19), ts(2026, 10, 26))
    assert spring == 7 * 86400 - 3600
    assert autumn == 7 * 86400 + 3600
    office = hours_of(tmp_path, 'mon-sun: "01:00-04:00"')
    # on the spring-forward night 02:00-03:00 does not exist: 2 real hours open, not 3
    day = office.open_seconds(ts(2026, 3, 29), ts(2026, 3, 30))
    assert day == 2 * 3600
    assert office.open_seconds(ts(2026, 10, 25), ts(2026, 10, 26)) == 4 * 3600
    week = hours_of(tmp_path, 'mon-fri: "08:00-20:00"')
    assert week.open_seconds(ts(2026, 3, 23), ts(2026, 3, 30)) == 5 * 12 * 3600


def test_open_seconds_partial_and_empty(tmp_path: Path) -> None:
    h = hours_of(tmp_path, 'mon-fri: "08:00-20:00"')
    start = ts(2026, 3, 2, 19, 0)
    assert h.open_seconds(start, start + 3 * 3600) == 3600
    assert h.open_seconds(start, start) == 0
    assert h.open_seconds(start + 10, start) == 0
    begin = datetime(2026, 3, 2, 12, tzinfo=AMS)
    total = sum(
        h.is_open((begin + timedelta(minutes=m)).timestamp()) for m in range(0, 7 * 1440, 15)
    )
    assert total * 15 * 60 == h.open_seconds(begin.timestamp(), begin.timestamp() + 7 * 86400)
