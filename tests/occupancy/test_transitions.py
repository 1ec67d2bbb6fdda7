"""The engine's transitions: what it decided of a space, when, for MQTT out to publish."""

from __future__ import annotations

from gateway.building import Building, load_building
from gateway.events import Event, kind_of
from gateway.occupancy import OccupancyEngine, Transition
from gateway.settings import OccupancySettings
from tests.support import FIXTURES

T0 = 1_764_320_400.0  # the test building is open all day


def motion(ts: float) -> Event:
    return Event("test-site", "z-focus-motion", "focus", ts, kind_of("motion"), "motion", True)


def engine() -> OccupancyEngine:
    building: Building = load_building(FIXTURES / "building-small.yaml")
    settings = OccupancySettings(motion_timeout_s=300, idle_after_s=900)
    return OccupancyEngine(building, settings, T0)


def test_none_kept_unless_watched() -> None:
    eng = engine()
    eng.apply_all([motion(T0)], T0)
    eng.tick(T0 + 300)
    assert eng.take_transitions() == []


def test_state_idle_and_idle_ended_in_order_with_their_times() -> None:
    eng = engine()
    eng.watch_transitions()
    eng.apply_all([motion(T0)], T0)
    assert eng.take_transitions() == [Transition("focus", "state", T0)]
    assert eng.take_transitions() == []  # taken once
    eng.tick(T0 + 300)  # motion timeout: vacant
    assert eng.take_transitions() == [Transition("focus", "state", T0 + 300)]
    eng.tick(T0 + 300 + 899)
    assert eng.take_transitions() == []
    eng.tick(T0 + 1200)  # vacant for idle_after: idle, as the view says from then on
    assert eng.take_transitions() == [Transition("focus", "idle", T0 + 1200)]
    assert eng.view("focus", T0 + 1200).idle
    eng.apply_all([motion(T0 + 1500)], T0 + 1500)  # someone came: not idle any more
    assert eng.take_transitions() == [
        Transition("focus", "state", T0 + 1500),
        Transition("focus", "idle_ended", T0 + 1500),
    ]
    assert not eng.view("focus", T0 + 1500).idle
