"""Deadlines stay finite or absent whatever the events; the engine agrees with a naive replay."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.building import Building, load_building
from gateway.events import Event, kind_of
from gateway.occupancy import OccupancyEngine
from gateway.occupancy.fusion import SensorEvidence, fold, fuse
from gateway.settings import OccupancySettings
from tests.support import FIXTURES

T0 = 1_764_320_400.0
BUILDING: Building = load_building(FIXTURES / "building-small.yaml")
ST = OccupancySettings(motion_timeout_s=30, idle_after_s=60, sensor_stale_s=120)


def ev(device: str, space: str, ts: float, quantity: str, value: object) -> Event:
    return Event("test-site", device, space, ts, kind_of(quantity), quantity, value)  # type: ignore[arg-type]


def test_presence_after_vacant_with_availability_does_not_kill_the_tick() -> None:
    """The sequence that killed ``engine-ticker``: a device with availability (so no
    staleness deadline), presence false (an idle deadline is queued), presence true before
    ``idle_after`` (nothing pending any more: due is inf), then the tick at the old deadline."""
    eng = OccupancyEngine(BUILDING, OccupancySettings(idle_after_s=900), T0)
    dev, sp = "z-booth-1-presence", "booth-1"
    eng.apply(ev(dev, sp, T0, "online", True), T0)
    eng.apply(ev(dev, sp, T0, "presence", False), T0)
    assert [s for _, s in eng.deadlines()] == [sp]  # the idle threshold is queued
    eng.apply(ev(dev, sp, T0 + 10, "presence", True), T0 + 10)
    for t in range(11, 2000, 7):
        eng.tick(T0 + t)  # raised OverflowError: cannot convert float infinity to integer
    v = eng.view(sp, T0 + 2000)
    assert (v.state, v.idle) == ("occupied", False)
    assert eng.deadlines() == []  # the superseded entry was dropped, nothing left queued
    # the engine goes on working: the room empties, becomes idle after idle_after
    eng.apply(ev(dev, sp, T0 + 2000, "presence", False), T0 + 2000)
    eng.tick(T0 + 2000 + 900)
    assert eng.view(sp, T0 + 2900).idle


def test_hostile_events_are_refused_or_clamped_and_counted() -> None:
    eng = OccupancyEngine(BUILDING, ST, T0)
    now = T0 + 5
    bad = [
        ev("pc-orion", "orion", math.nan, "people_count", 2),
        ev("pc-orion", "orion", math.inf, "people_count", 2),
        ev("pc-orion", "orion", -math.inf, "motion", True),
        ev("pc-orion", "orion", now, "people_count", math.nan),
        ev("pc-orion", "orion", now, "people_count", math.inf),
        ev("pc-orion", "orion", now, "people_count", -3),
        ev("pc-orion", "orion", now, "people_count", 10**9),
        ev("pc-orion", "orion", now, "people_count", "many"),
        ev("z-orion-motion", "orion", now, "motion", math.nan),
        ev("z-orion-motion", "orion", now - 400 * 86_400, "motion", True),
        ev("z-orion-motion", "nowhere", now, "online", True),
    ]
    for e in bad:
        eng.apply(e, now)
    assert eng.view("orion", now).state == "unknown"  # none of them counted as evidence
    r = eng.guard.rejected
    assert r["ts_not_finite"] == 3
    assert r["people_count_out_of_range"] == 5
    assert r["motion_not_boolean"] == 1
    assert r["ts_too_old"] == 1
    assert r["unknown_space"] == 1
    # motion stamped a year ahead counts as motion now, not as a year of occupancy
    eng.apply(ev("z-orion-motion", "orion", now + 365 * 86_400, "motion", True), now)
    assert r["ts_future_clamped"] == 1
    assert eng.view("orion", now).state == "occupied"
    eng.tick(now + ST.motion_timeout_s + 1)
    assert eng.view("orion", now + ST.motion_timeout_s + 1).state == "vacant"
    assert all(math.isfinite(d) for d, _ in eng.deadlines())


def test_a_flood_of_availability_flapping_keeps_the_queue_bounded() -> None:
    eng = OccupancyEngine(BUILDING, ST, T0)
    dev, sp = "z-booth-1-presence", "booth-1"
    eng.apply(ev(dev, sp, T0, "presence", False), T0)
    for i in range(20_000):
        t = T0 + i * 0.01
        eng.apply(ev(dev, sp, t, "online", i % 2 == 0), t)
        if i % 100 == 0:
            eng.tick(t)
    assert eng._queued <= 2 * len(eng.spaces) + 1024 + 1
    assert all(math.isfinite(d) for d, _ in eng.deadlines())


# -- property: random sequences, the engine against a naive replay ------------------------

# (device, space) pairs covering every kind of evidence and two devices in one space
DEVICES = [
    ("pc-orion", "orion"),
    ("z-orion-motion", "orion"),
    ("z-booth-1-presence", "booth-1"),
    ("z-focus-motion", "focus"),
    ("door-office-101", "office-101"),
    ("occ-office-101", "office-101"),
]
TS_WEIRD = st.sampled_from([math.nan, math.inf, -math.inf, 1e300, -1e300, 0.0])
VALUE = {
    "people_count": st.one_of(st.integers(-2, 6), st.just(math.nan), st.just(10**12)),
    "presence": st.one_of(st.booleans(), st.just(math.nan)),
    "motion": st.booleans(),
    "online": st.booleans(),
    "door": st.sampled_from(["granted", "denied", "opened"]),
}


@st.composite
def steps(draw: st.DrawFn) -> list[tuple[float, str, int, str, object, float | None]]:
    """(advance s, kind, device index, quantity, value, ts offset or None for weird ts)."""
    out = []
    for _ in range(draw(st.integers(1, 60))):
        dt = draw(st.sampled_from([0.0, 0.3, 1.0, 5.0, 29.0, 31.0, 59.5, 61.0, 130.0]))
        if draw(st.integers(0, 3)) == 0:
            out.append((dt, "tick", 0, "", None, 0.0))
            continue
        q = draw(st.sampled_from(list(VALUE)))
        off: float | None = draw(st.sampled_from([0.0, 0.0, -3.0, -40.0, 2.0, None]))
        val = draw(VALUE[q])
        out.append((dt, "event", draw(st.integers(0, len(DEVICES) - 1)), q, val, off))
    return out


def naive_state(applied: list[Event], space: str, now: float) -> tuple[str, int | None]:
    """Recompute a space from every event it was given, from scratch (no deadlines)."""
    sensors: dict[str, SensorEvidence] = {}
    for e in applied:
        if e.space == space:
            s = sensors.setdefault(e.device, SensorEvidence(e.device, stale_s=ST.sensor_stale_s))
            fold(s, e)
    state, occupancy, _ = fuse(list(sensors.values()), now, ST)
    return state, occupancy


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps(), TS_WEIRD)
def test_random_sequences_keep_deadlines_finite_and_agree_with_replay(
    script: list[tuple[float, str, int, str, object, float | None]], weird: float
) -> None:
    eng = OccupancyEngine(BUILDING, ST, T0)
    applied: list[Event] = []  # what the engine took, as it took it (after its screen)
    now = T0
    for dt, kind, di, q, val, off in script:
        now += dt
        if kind == "tick":
            eng.tick(now)
        else:
            dev, sp = DEVICES[di]
            e = ev(dev, sp, weird if off is None else now + off, q, val)
            screened = eng.guard.screen(e, now)
            eng.apply(e, now)
            if screened is not None:
                applied.append(screened)
        for due, _ in eng.deadlines():
            assert math.isfinite(due), due
        for space in eng.spaces.values():
            assert not math.isnan(space.due)
        eng.tick(now)  # whatever fell due is taken before comparing
        for sp in {s for _, s in DEVICES}:
            v = eng.view(sp, now)
            assert (v.state, v.occupancy) == naive_state(applied, sp, now), (sp, now - T0)
            if v.idle:
                assert v.state == "vacant"


def test_tunables_that_would_poison_deadlines_are_refused() -> None:
    import pytest
    from pydantic import ValidationError

    for bad in ({"motion_timeout_s": math.nan}, {"idle_after_s": math.inf}, {"tick_s": 0}):
        with pytest.raises(ValidationError):
            OccupancySettings(**bad)  # type: ignore[arg-type]
