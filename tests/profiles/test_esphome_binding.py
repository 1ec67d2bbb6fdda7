"""ESPHome entities named freely: the profile reads common names and name endings, and the
building file binds a device's own object ids (or patterns) to quantities."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.building import load_building
from gateway.errors import BuildingError
from tests.profiles.site_run import Site

BUILDING = """\
site: {id: s1, timezone: UTC}
floors:
  - id: f1
    spaces:
      - {id: living, type: lounge, capacity: 8}
      - {id: meeting_a, type: meeting_room, capacity: 6}
devices:
  - {id: living-node, profile: esphome, space: living}
  - id: meeting-a-node
    profile: esphome
    space: meeting_a
    entities:
      radar_target: presence        # an LD2410 "Radar Target" binary sensor
      living_pir: presence          # wins over the profile's `*_pir` -> motion
      "scd41_*": co2_ppm            # a pattern; exact names of the building come first
      scd41_temp: temperature_c
      status_led: ignore
      desk_lux: illuminance_lux
      desk_motion: illuminance_lux  # a wrong binding: binary sensors carry no lux
"""


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path, BUILDING)


def test_default_names_and_endings_are_read(site: Site) -> None:
    # esphome mqtt_binary_sensor.cpp publishes "ON" / "OFF"; a sensor its value as text
    assert site.values("living-node/binary_sensor/living_pir/state", "ON") == {"motion": True}
    assert site.values("living-node/sensor/living_temperature/state", "21.8") == {
        "temperature_c": 21.8
    }
    assert site.values("living-node/binary_sensor/sofa_occupancy/state", "OFF") == {
        "presence": False
    }
    assert site.values("living-node/sensor/living_pressure/state", "1008.6") == {
        "pressure_hpa": 1008.6
    }
    assert site.values("living-node/sensor/co2/state", "612") == {"co2_ppm": 612.0}
    assert site.dead() == []


def test_the_building_binds_a_devices_own_names(site: Site) -> None:
    assert site.values("meeting-a-node/binary_sensor/radar_target/state", "ON") == {
        "presence": True
    }
    # the building's binding wins over the profile's default for the same name
    assert site.values("meeting-a-node/binary_sensor/living_pir/state", "ON") == {"presence": True}
    assert site.values("meeting-a-node/sensor/scd41_co2_level/state", "845") == {"co2_ppm": 845.0}
    assert site.values("meeting-a-node/sensor/scd41_temp/state", "22.4") == {"temperature_c": 22.4}
    assert site.values("meeting-a-node/sensor/desk_lux/state", "320") == {"illuminance_lux": 320.0}
    assert site.feed("meeting-a-node/binary_sensor/status_led/state", "ON") == []
    assert site.dead() == []  # ignored on purpose, not refused
    # another device has no such binding: its radar_target is unknown, a dead letter
    site.feed("living-node/binary_sensor/radar_target/state", "ON")
    ((topic, reason, _),) = site.dead()
    assert topic == "living-node/binary_sensor/radar_target/state"
    assert "does not read sensor 'radar_target'" in reason and "devices[].entities" in reason


def test_a_binding_the_topic_cannot_give_is_a_dead_letter(site: Site) -> None:
    assert site.feed("meeting-a-node/binary_sensor/desk_motion/state", "ON") == []
    ((_, reason, _),) = site.dead()
    assert "the building binds sensor 'desk_motion' to illuminance_lux" in reason


def test_bound_values_are_still_checked(site: Site) -> None:
    assert site.feed("meeting-a-node/sensor/scd41_co2_level/state", "nan") == []
    assert site.feed("meeting-a-node/binary_sensor/radar_target/state", "MAYBE") == []
    reasons = [d[1] for d in site.dead()]
    assert "field 'scd41_co2_level': expected a number, got 'nan'" in reasons[0]
    assert "field 'radar_target': unknown value 'MAYBE'" in reasons[1]


@pytest.mark.parametrize(
    ("entities", "error"),
    [
        ("{living_pir: movement}", "expected a quantity"),
        ("{a/b: motion}", r"expected an entity name \(one topic level\), got .a/b."),
        ("[living_pir]", "expected a mapping of entity name to quantity"),
        ("{}", "expected a mapping of entity name to quantity"),
    ],
)
def test_a_bad_binding_names_its_line(tmp_path: Path, entities: str, error: str) -> None:
    path = tmp_path / "b.yaml"
    path.write_text(
        "site: {id: s1, timezone: UTC}\n"
        "floors: [{id: f1, spaces: [{id: a, type: lounge, capacity: 2}]}]\n"
        "devices:\n"
        f"  - {{id: n1, profile: esphome, space: a, entities: {entities}}}\n",
        encoding="utf-8",
    )
    with pytest.raises(BuildingError, match=error) as err:
        load_building(path)
    assert ":4:" in str(err.value)
