"""The simulator's bookings and the demo's first minutes, without I/O; and what the demo does
with a building file that lacks some of it (no bookable rooms, no printers, no members)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from gateway.building import Building, load_building
from gateway.simulate import demo
from gateway.simulate.bookings import BookingRequest
from gateway.simulate.showcase import showcase
from gateway.simulate.traffic import Traffic
from tests.support import FIXTURES, ROOT

EXAMPLE = ROOT / "examples" / "building.yaml"
AMS = ZoneInfo("Europe/Amsterdam")


def _traffic(building: Building) -> tuple[Traffic, float]:
    live = demo.live_start(building, datetime(2026, 11, 25, 12, tzinfo=AMS).timestamp())
    traffic = Traffic(building, seed=1, start=live - 6 * 3600, min_gap=30.0)
    traffic.advance(live)
    return traffic, live


def test_a_days_bookings_never_clash_and_some_are_no_shows() -> None:
    traffic, live = _traffic(load_building(EXAMPLE))
    traffic.advance(live + 12 * 3600)
    made: list[BookingRequest] = traffic.world.take_bookings()
    assert len(made) > 10 and {b.kept for b in made} == {True, False}
    by_room: dict[str, list[BookingRequest]] = {}
    for b in made:
        assert b.ts < b.start and b.start - b.ts <= 7200  # booked ahead, at most two hours
        by_room.setdefault(b.space, []).append(b)
    for room in by_room.values():  # the gateway would refuse an overlap with 409
        room.sort(key=lambda b: b.start)
        assert all(a.end <= b.start for a, b in zip(room, room[1:], strict=False))


def test_the_first_minutes_book_a_no_show_crowd_a_room_and_jam_a_printer() -> None:
    traffic, live = _traffic(load_building(EXAMPLE))
    traffic.world.take_bookings()  # the morning's, made before
    said = showcase(traffic, live)
    assert len(said) == 3 and said[0].startswith("a no-show booking of")
    no_show, crowd = traffic.world.take_bookings()
    assert not no_show.kept and crowd.kept and no_show.space != crowd.space
    messages = traffic.advance(live + 300)
    room = traffic.world.spaces[crowd.space]
    assert room.count == room.space.capacity  # the full meeting has begun
    jams = [m for m in messages if m.topic.endswith("/status") and json.loads(m.payload)["jam"]]
    assert jams and jams[0].ts <= live + 240
    traffic.advance(live + 3600)
    assert traffic.world.count(no_show.space) == 0  # nobody came to the no-show


def test_without_bookable_rooms_or_printers_the_demo_says_so_and_runs(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace("bookable: true", "bookable: false")
    text = "\n".join(line for line in text.splitlines() if "ref-printer" not in line)
    path = tmp_path / "building.yaml"
    path.write_text(text + "\n")
    building = load_building(path)
    gaps = demo.gaps(building)
    assert any("no bookable meeting rooms" in g for g in gaps)
    assert any("no printers" in g for g in gaps)
    traffic, live = _traffic(building)
    said = showcase(traffic, live)
    assert said[0].startswith("no bookable meeting rooms")
    assert said[-1] == "no printer: no paper jam"
    assert traffic.advance(live + 600) and not traffic.world.take_bookings()


def test_without_members_nobody_is_booked_for_but_the_printer_still_jams() -> None:
    building = load_building(FIXTURES / "building-small.yaml")  # no members, no CO2 monitor
    traffic, live = _traffic(building)
    said = showcase(traffic, live)
    assert said[0] == "no members in the building file: nobody to book rooms for"
    assert "no crowded meeting" in said[1] and said[2] == "a paper jam on printer-1"
    assert not traffic.world.take_bookings()


def test_every_weekday_of_a_month_has_a_room_free_for_the_no_show() -> None:
    building = load_building(EXAMPLE)
    for day in range(2, 28):  # November 2026: every weekday's 10:00, each its own plan
        wall = datetime(2026, 11, day, 12, tzinfo=AMS)
        if wall.weekday() >= 5:
            continue
        live = demo.live_start(building, wall.timestamp())
        traffic = Traffic(building, seed=1, start=live - 3600, min_gap=30.0)
        traffic.advance(live)
        assert showcase(traffic, live)[0].startswith("a no-show booking of"), wall
