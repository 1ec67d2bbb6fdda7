"""zigbee2mqtt's base topic is a setting and friendly names may span topic levels."""

from __future__ import annotations

import json

import pytest

from gateway.errors import ProfileError
from gateway.profiles import ProfileRegistry
from gateway.settings import load_settings
from tests.profiles.conftest import PROFILES_DIR

# Koenkk/zigbee2mqtt issue #30112 (2025-12-09 log): a TS0601_air_quality_sensor
AIR = b'{"co2":363,"formaldehyd":1,"humidity":50,"last_seen":1765292604979,"linkquality":255,'
AIR += b'"temperature":21,"voc":2}'


def test_a_base_topic_set_for_the_site_is_read_and_the_default_is_not() -> None:
    reg = ProfileRegistry.load(PROFILES_DIR, {"zigbee2mqtt": {"base_topic": "z2m/floor2"}})
    got = reg.decode("z2m/floor2/Air Quality Sensor", AIR)
    assert got is not None and (got.profile, got.device) == ("zigbee2mqtt", "Air Quality Sensor")
    assert {r.quantity: r.value for r in got.readings} == {
        "co2_ppm": 363.0,
        "hcho_mgm3": 1.0,
        "humidity_pct": 50.0,
        "temperature_c": 21.0,
        "voc_ugm3": 2.0,
    }
    assert reg.decode("z2m/floor2/bridge/state", b'{"state":"online"}') is None
    assert reg.decode("z2m/floor2/Air Quality Sensor/set", b'{"state":"ON"}') is None
    avail = reg.decode("z2m/floor2/Air Quality Sensor/availability", b'{"state":"online"}')
    assert avail is not None and avail.readings[0].value is True
    assert "z2m/floor2/#" in reg.subscriptions()
    assert not any(s.startswith("zigbee2mqtt/") for s in reg.subscriptions())
    topic, _ = reg.render_command("zigbee2mqtt", "hall_light", "light_setback")
    assert topic == "z2m/floor2/hall_light/set"


def test_friendly_names_with_slashes_are_one_device(shipped: ProfileRegistry) -> None:
    got = shipped.decode("zigbee2mqtt/floor2/meeting_a/air", AIR)
    assert got is not None and got.device == "floor2/meeting_a/air"
    avail = shipped.decode("zigbee2mqtt/floor2/meeting_a/air/availability", b"offline")
    assert avail is not None and avail.device == "floor2/meeting_a/air"
    assert avail.readings[0].value is False
    assert shipped.decode("zigbee2mqtt/floor2/meeting_a/light/set", b'{"state":"OFF"}') is None
    assert shipped.decode("zigbee2mqtt/bridge/devices", b"[]") is None


def test_the_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    value = json.dumps({"zigbee2mqtt": {"base_topic": "zigbee-2f"}})
    monkeypatch.setenv("GATEWAY_PROFILE_VARIABLES", value)
    settings = load_settings()
    reg = ProfileRegistry.load(settings.profiles_dir, settings.profile_variables)
    assert reg.decode("zigbee-2f/pir", b'{"occupancy":true}') is not None


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"zigbee2mqtt": {"base": "x"}}, "the settings set 'base', which the profile lacks"),
        ({"zigbee2mqtt": {"base_topic": "z2m/#"}}, "expected topic levels without wildcards"),
        ({"zigbee2mqtt": {"base_topic": "z2m/"}}, "expected topic levels without wildcards"),
        ({"zigbe2mqtt": {"base_topic": "z2m"}}, "profiles that do not exist: ['zigbe2mqtt']"),
    ],
)
def test_bad_variables_are_refused_by_name(
    variables: dict[str, dict[str, str]], expected: str
) -> None:
    with pytest.raises(ProfileError) as err:
        ProfileRegistry.load(PROFILES_DIR, variables)
    assert expected in str(err.value)
