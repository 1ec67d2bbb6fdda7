"""Golden tests: every shipped profile decodes its own samples exactly as they say."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.profiles import ProfileRegistry, check_profiles
from tests.profiles.conftest import FIXTURES_DIR, PROFILES_DIR, WriteProfile

SHIPPED = sorted(p.stem for p in PROFILES_DIR.glob("*.y*ml"))
REQUIRED = {
    "tasmota",
    "esphome",
    "shelly-gen2",
    "chirpstack",
    "hikvision-access",
    "octoprint",
    "ref-door",
    "ref-printer",
    "ref-occupancy",
    "ref-counter",
    "ref-environment",
    "zigbee2mqtt",
}


def test_the_required_profiles_ship() -> None:
    assert set(SHIPPED) >= REQUIRED


@pytest.mark.parametrize("name", SHIPPED)
def test_profile_samples(name: str) -> None:
    results = {r.profile: r for r in check_profiles(PROFILES_DIR)}
    result = results[name]
    assert result.problems == []
    assert result.ok
    assert result.samples >= 3  # at least a good payload, a rejected one and another


def test_every_profile_has_a_rejected_sample(shipped: ProfileRegistry) -> None:
    for name in shipped.names:
        assert any(s.reject for s in shipped.profiles[name].samples), name


# zigbee2mqtt fixtures: file stem is the friendly name; what each must produce.
Z2M_EXPECT = {
    "aqara_RTCGQ11LM_motion": {"motion": True, "illuminance_lux": 15.0, "battery_pct": 100.0},
    "aqara_MCCGQ11LM_contact_open": {"contact_open": True, "battery_pct": 100.0},
    "aqara_WSDCGQ11LM_climate": {
        "temperature_c": 21.63,
        "humidity_pct": 45.21,
        "pressure_hpa": 1008.4,
        "battery_pct": 97.0,
    },
    "tuya_TS0601_smart_human_presence_sensor": {"presence": True, "illuminance_lux": 235.0},
    "tuya_TS0601_air_quality_sensor": {
        "temperature_c": 22.7,
        "humidity_pct": 45.6,
        "co2_ppm": 612.0,
        "voc_ugm3": 120.0,
        "hcho_mgm3": 3.0,
    },
}


@pytest.mark.parametrize(
    "path", sorted((FIXTURES_DIR / "zigbee2mqtt").glob("*.json")), ids=lambda p: p.stem
)
def test_zigbee2mqtt_fixtures(shipped: ProfileRegistry, path: Path) -> None:
    decoded = shipped.decode(f"zigbee2mqtt/{path.stem}", path.read_bytes())
    assert decoded is not None
    assert (decoded.profile, decoded.device) == ("zigbee2mqtt", path.stem)
    assert {r.quantity: r.value for r in decoded.readings} == Z2M_EXPECT[path.stem]
    assert json.loads(path.read_text())  # the fixture itself stays valid JSON


def test_check_reports_a_failing_sample(write_profile: WriteProfile, tmp_path: Path) -> None:
    write_profile(
        "acme",
        """
        schema_version: 1
        description: d
        source: s
        rules:
          - topic: acme/{device}
            fields: {t: temperature_c}
        samples:
          - topic: acme/x
            payload: {t: 20}
            expect: [{quantity: temperature_c, value: 21}]
          - topic: acme/x
            payload: {t: 20}
            reject: nope
          - topic: acme/x
            payload: {t: 20}
            device: y
            expect: [{quantity: temperature_c, value: 20}, {quantity: humidity_pct, value: 1}]
    """,
    )
    (result,) = check_profiles(tmp_path)
    assert not result.ok and result.samples == 3
    text = "\n".join(result.problems)
    assert "samples[0]: temperature_c: value 20.0, expected 21" in text
    assert "samples[1]: expected a rejection containing 'nope'" in text
    assert "samples[2]: device 'x', expected 'y'" in text
    assert "samples[2]: missing reading humidity_pct" in text


def test_check_reports_shadowing_and_bad_files(write_profile: WriteProfile, tmp_path: Path) -> None:
    body = """
        schema_version: 1
        description: d
        source: s
        rules:
          - topic: acme/{device}
            fields: {t: temperature_c}
        samples:
          - topic: acme/x
            payload: {t: 20}
            expect: [{quantity: temperature_c, value: 20}]
    """
    write_profile("a-first", body)
    write_profile("b-second", body)
    write_profile("c-broken", "schema_version: 3\n")
    write_profile("d-empty", body.split("        samples:")[0])
    results = {r.profile: r for r in check_profiles(tmp_path)}
    assert results["a-first"].ok
    assert not results["b-second"].ok
    assert "decoded by profile 'a-first'" in results["b-second"].problems[0]
    assert "schema_version" in results["c-broken"].problems[0]
    assert "has no samples" in results["d-empty"].problems[0]


def test_check_on_a_missing_directory(tmp_path: Path) -> None:
    (result,) = check_profiles(tmp_path / "nope")
    assert not result.ok and "not a directory" in result.problems[0]


def test_the_example_in_docs_profiles_md_passes_its_own_samples(tmp_path: Path) -> None:
    text = (PROFILES_DIR.parent / "docs" / "profiles.md").read_text(encoding="utf-8")
    (tmp_path / "acme.yaml").write_text(text.split("```yaml\n")[1].split("```")[0])
    (result,) = check_profiles(tmp_path)
    assert result.problems == [] and result.samples == 3
