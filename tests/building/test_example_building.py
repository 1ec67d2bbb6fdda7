"""The shipped example building loads and covers every space type and device family."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from gateway.building import SPACE_TYPES, Building, load_building

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "building.yaml"
OCCUPANCY_PROFILES = {"ref-occupancy", "ref-counter"}


@pytest.fixture(scope="module")
def building() -> Building:
    return load_building(EXAMPLE)


def test_counts(building: Building) -> None:
    assert building.site.id == "ams-01"
    assert building.site.timezone == "Europe/Amsterdam"
    assert len(building.floors) == 3
    assert len(building.spaces) >= 40
    assert sum(len(f.spaces) for f in building.floors) == len(building.spaces)
    assert set(Counter(s.type for s in building.spaces.values())) == set(SPACE_TYPES)


def test_every_profile_family(building: Building) -> None:
    profiles = {d.profile for d in building.devices.values()}
    assert profiles == {
        "ref-door",
        "ref-printer",
        "ref-occupancy",
        "ref-counter",
        "ref-environment",
        "zigbee2mqtt",
    }
    printers = [d for d in building.devices.values() if d.profile == "ref-printer"]
    assert 1 <= len(printers) <= 2
    assert any(d.space is None for d in building.devices.values())
    assert all("/" not in d.id for d in building.devices.values())


def test_every_space_has_an_occupancy_sensor(building: Building) -> None:
    def occupancy_capable(profile: str, model: str | None) -> bool:
        if profile in OCCUPANCY_PROFILES:
            return True
        return profile == "zigbee2mqtt" and model not in ("contact", "airq", "temphum")

    several = 0
    for sid, space in building.spaces.items():
        sensors = [d for d in building.devices_in(sid) if occupancy_capable(d.profile, d.model)]
        assert sensors, f"{sid} has no occupancy sensor"
        assert space.floor in {f.id for f in building.floors}
        several += len(sensors) > 1
    assert several >= 3


def test_model_and_defaults(building: Building) -> None:
    assert building.devices["z-f1-booth-1-motion"].model == "aqara-rtcgq11lm"
    assert building.devices["door-main"].model is None
    assert building.spaces["f1-booth-1"].bookable is False
    assert building.spaces["f1-orion"].bookable is True
    assert building.spaces["f1-orion"].floor == "f1"
    assert building.source == str(EXAMPLE)
