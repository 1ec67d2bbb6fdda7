"""The live-state engine on a fake clock: evidence order, motion timeout, unknown, idle."""

from __future__ import annotations

import pytest

from gateway.building import Building, load_building
from gateway.events import Event, kind_of
from gateway.occupancy import OccupancyEngine
from gateway.settings import OccupancySettings
from tests.support import FIXTURES

T0 = 1_764_320_400.0  # a fixed instant; the test building is open all day


@pytest.fixture(scope="module")
def building() -> Building:
    return load_building(FIXTURES / "building-small.yaml")


def make(building: Building, **kw: float) -> OccupancyEngine:
    return OccupancyEngine(building, OccupancySettings(**kw), T0)


def ev(device: str, space: str, ts: float, quantity: str, value: object) -> Event:
    return Event("test-site", device, space, ts, kind_of(quantity), quantity, value)  # type: ignore[arg-type]


def test_no_evidence_is_unknown(building: Building) -> None:
    eng = make(building)
    assert eng.view("orion", T0).state == "unknown"
    assert not eng.view("orion", T0).idle


def test_motion_then_timeout(building: Building) -> None:
    eng = make(building, motion_timeout_s=300, idle_after_s=900)
    assert eng.apply(ev("z-focus-motion", "focus", T0, "motion", True), T0)
    v = eng.view("focus", T0 + 1)
    assert (v.state, v.since) == ("occupied", T0)
    # the PIR's own "no motion" report does not end occupancy before the timeout
    eng.apply(ev("z-focus-motion", "focus", T0 + 90, "motion", False), T0 + 90)
    assert eng.tick(T0 + 299) == []
    assert eng.view("focus", T0 + 299).state == "occupied"
    assert eng.tick(T0 + 300) == ["focus"]
    v = eng.view("focus", T0 + 300)
    assert (v.state, v.since, v.idle) == ("vacant", T0 + 300, False)
    # idle once vacant for idle_after inside business hours
    assert eng.view("focus", T0 + 300 + 900).idle


def test_new_motion_extends_occupancy(building: Building) -> None:
    eng = make(building, motion_timeout_s=300)
    eng.apply(ev("z-focus-motion", "focus", T0, "motion", True), T0)
    eng.apply(ev("z-focus-motion", "focus", T0 + 200, "motion", True), T0 + 200)
    eng.tick(T0 + 300)
    assert eng.view("focus", T0 + 300).state == "occupied"
    eng.tick(T0 + 500)
    assert eng.view("focus", T0 + 500).state == "vacant"


def test_counter_beats_motion(building: Building) -> None:
    eng = make(building)
    eng.apply(ev("z-orion-motion", "orion", T0, "motion", True), T0)
    eng.apply(ev("pc-orion", "orion", T0 + 1, "people_count", 0), T0 + 1)
    v = eng.view("orion", T0 + 2)
    assert (v.state, v.occupancy) == ("vacant", 0)
    eng.apply(ev("pc-orion", "orion", T0 + 5, "people_count", 3), T0 + 5)
    v = eng.view("orion", T0 + 6)
    assert (v.state, v.occupancy) == ("occupied", 3)


def test_late_event_does_not_rewind(building: Building) -> None:
    eng = make(building)
    eng.apply(ev("pc-orion", "orion", T0 + 10, "people_count", 4), T0 + 10)
    assert not eng.apply(ev("pc-orion", "orion", T0 + 5, "people_count", 0), T0 + 11)
    assert eng.view("orion", T0 + 11).occupancy == 4


def test_offline_sensor_makes_space_unknown_not_idle(building: Building) -> None:
    eng = make(building)
    eng.apply(ev("z-booth-1-presence", "booth-1", T0, "presence", False), T0)
    assert eng.view("booth-1", T0).state == "vacant"
    eng.apply(ev("z-booth-1-presence", "booth-1", T0 + 10, "online", False), T0 + 10)
    v = eng.view("booth-1", T0 + 10_000)
    assert (v.state, v.idle) == ("unknown", False)
    # it speaks again: online and vacant
    eng.apply(ev("z-booth-1-presence", "booth-1", T0 + 20, "presence", True), T0 + 20)
    assert eng.view("booth-1", T0 + 20).state == "occupied"


def test_silent_sensor_goes_stale(building: Building) -> None:
    eng = make(building, sensor_stale_s=600)
    eng.apply(ev("occ-desk-area", "desk-area", T0, "presence", False), T0)
    assert eng.tick(T0 + 599) == []
    assert eng.tick(T0 + 601) == ["desk-area"]
    assert eng.view("desk-area", T0 + 601).state == "unknown"


def test_badge_hold_without_sensor(building: Building) -> None:
    eng = make(building)
    eng.apply(ev("door-office-101", "office-101", T0, "door", "granted"), T0)
    assert eng.view("office-101", T0 + 1).state == "occupied"
    eng.tick(T0 + 301)
    assert eng.view("office-101", T0 + 301).state == "unknown"


def test_tick_visits_only_due_spaces(building: Building) -> None:
    eng = make(building, motion_timeout_s=300)
    eng.apply(ev("z-focus-motion", "focus", T0, "motion", True), T0)
    before = eng.changes
    for k in range(1, 100):
        assert eng.tick(T0 + k) == []
    assert eng.changes == before


def test_tick_leaves_no_deadline_in_the_past(building: Building) -> None:
    eng = make(building, idle_after_s=10, sensor_stale_s=600)
    for sid, dev in (("desk-area", "occ-desk-area"), ("booth-1", "z-booth-1-presence")):
        eng.apply(ev(dev, sid, T0, "presence", False), T0)
    for now in (T0 + 10, T0 + 11, T0 + 600, T0 + 5000):
        eng.tick(now)
        assert all(due > now for due, _ in eng.deadlines())
    assert eng.view("desk-area", T0 + 5000).state == "unknown"


def test_silence_timeout_per_device(building: Building) -> None:
    # a battery sensor whose profile allows a day of silence keeps counting after an hour,
    # one without availability stops counting after the default
    eng = OccupancyEngine(
        building,
        OccupancySettings(sensor_stale_s=3600),
        T0,
        silence_s={"z-booth-1-presence": 90_000},
    )
    eng.apply(ev("z-booth-1-presence", "booth-1", T0, "presence", False), T0)
    eng.apply(ev("occ-desk-area", "desk-area", T0, "presence", False), T0)
    later = T0 + 7200
    eng.tick(later)
    assert eng.view("booth-1", later).state == "vacant"
    assert eng.view("desk-area", later).state == "unknown"
    eng.tick(T0 + 90_000)
    assert eng.view("booth-1", T0 + 90_000).state == "unknown"


def test_a_batch_is_applied_as_its_events_one_by_one(building: Building) -> None:
    """A count that rises and falls back inside one batch still ends the idle episode (and
    would check a booking in): ``apply_all`` takes every change in order, as ``apply``."""
    one, batch = make(building, idle_after_s=600), make(building, idle_after_s=600)
    for eng in (one, batch):
        eng.apply(ev("pc-orion", "orion", T0, "people_count", 0), T0)
        eng.tick(T0 + 600)
        assert eng.view("orion", T0 + 600).idle
    burst = [
        ev("pc-orion", "orion", T0 + 700, "people_count", 2),
        ev("z-focus-motion", "focus", T0 + 700, "motion", True),
        ev("pc-orion", "orion", T0 + 701, "people_count", 0),
        ev("z-focus-motion", "focus", T0 + 701, "motion", True),  # no change
        ev("pc-orion", "orion", T0 + 701.5, "people_count", 0),  # no change
    ]
    now = T0 + 702
    changed = [e.space for e in burst if one.apply(e, now)]
    assert batch.apply_all(burst, now) == changed == ["orion", "focus", "orion"]
    for eng in (one, batch):
        assert not eng.view("orion", now).idle  # the episode ended at the passing count
    assert (batch.changes, batch.out.episodes) == (one.changes, one.out.episodes)
    for sid in ("orion", "focus"):
        a, b = one.view(sid, now), batch.view(sid, now)
        assert (a.state, a.occupancy, a.since) == (b.state, b.occupancy, b.since)
    # the deadlines the batch left are the ones event by event left: the same ticks follow
    for t in (now + 60, now + 301, now + 1400):
        assert batch.tick(t) == one.tick(t)
