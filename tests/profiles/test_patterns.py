"""Name patterns in profiles: `*`/`?` in payload keys, in select names, in `like` predicates,
and `unit_from.default`; on small profiles written by the test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.errors import DecodeError, ProfileError
from gateway.profiles import ProfileRegistry, load_profile
from gateway.profiles.patterns import NameMap, compile_pattern, glob_all, glob_get
from tests.profiles.conftest import WriteProfile


def readings(reg: ProfileRegistry, topic: str, payload: object) -> dict[str, object] | None:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    got = reg.decode(topic, data)
    return None if got is None else {r.quantity: r.value for r in got.readings}


def test_a_pattern_is_literal_but_for_star_and_question_mark() -> None:
    assert compile_pattern("SHT3X*").match("SHT3X-0x44")
    assert compile_pattern("SHT3X*").match("SHT3X")
    assert not compile_pattern("SHT3X*").match("sht3x-0x44")  # case matters, as in Tasmota
    assert compile_pattern("temperature:?").match("temperature:0")
    assert not compile_pattern("temperature:?").match("temperature:100")
    assert not compile_pattern("a.b*").match("axb")  # '.' is a dot, not any character
    assert not compile_pattern("[ab]*").match("a1")  # '[' is literal too


def test_glob_get_takes_the_first_match_that_has_a_value() -> None:
    obj = {"AM2301-14": {"Temperature": None}, "AM2301-12": {"Temperature": 25.1}}
    assert glob_get(obj, ("AM2301*", "Temperature")) == 25.1
    assert glob_get(obj, ("DS18B20*", "Temperature")) is None
    assert glob_get({"a": [{"b": 1}]}, ("?", "0", "b")) == 1


def test_glob_all_names_the_key_each_pattern_matched() -> None:
    params = {"params": {"switch:0": {"temperature": {"tC": 41.7}},
                         "temperature:100": {"tC": 21.4}, "temperature:101": {"tC": None},
                         "temperature:102": {"tC": 19.6}}}  # fmt: skip
    assert glob_all(params, ("params", "temperature:*", "tC")) == [
        ("temperature:100", 21.4),
        ("temperature:102", 19.6),
    ]
    assert glob_all({"SCD30": {"Temperature": 22.0}}, ("SCD30", "Temperature")) == [("SCD30", 22.0)]
    assert glob_all({"SCD30": {}}, ("SCD30", "Temperature")) == []


def test_name_map_exact_names_win_then_patterns_in_order() -> None:
    names = NameMap([("*_pir", "motion"), ("door_pir", "contact_open"), ("*", "other")])
    assert names.find("door_pir") == (True, "contact_open")
    assert names.find("hall_pir") == (True, "motion")
    assert names.find("hall_co2") == (True, "other")
    assert NameMap([("a", 1)]).find("b") == (False, None)


def test_glob_keys_read_indexed_sensor_names(tmp_path: Path, write_profile: WriteProfile) -> None:
    write_profile(
        "tas",
        """
        schema_version: 2
        description: t
        source: t
        rules:
          - topic: tele/{device}/SENSOR
            fields:
              SHT3X*.Temperature: temperature_c
              DS18B20*.Temperature: temperature_c
              "*_CO2": co2_ppm
        """,
    )
    reg = ProfileRegistry.load(tmp_path)
    got = readings(reg, "tele/t/SENSOR", {"DS18B20-1": {"Temperature": 5.0},
                                          "SHT3X-0x45": {"Temperature": 21.5}})  # fmt: skip
    assert got == {"temperature_c": 21.5}  # the first field listed wins, not payload order
    assert readings(reg, "tele/t/SENSOR", {"room_CO2": 612}) == {"co2_ppm": 612.0}
    with pytest.raises(DecodeError, match="it carries ESP32"):
        reg.decode("tele/t/SENSOR", b'{"ESP32": {"Temperature": 48.0}}')


def test_select_names_take_patterns_and_ignore(tmp_path: Path, write_profile: WriteProfile) -> None:
    write_profile(
        "esp",
        """
        schema_version: 2
        description: t
        source: t
        rules:
          - topic: "{device}/sensor/{name}/state"
            format: text
            select: name
            fields:
              "*_internal_temperature": ignore
              temperature: temperature_c
              "*_temperature": temperature_c
        """,
    )
    reg = ProfileRegistry.load(tmp_path)
    assert readings(reg, "n/sensor/temperature/state", b"21.5") == {"temperature_c": 21.5}
    assert readings(reg, "n/sensor/lab_temperature/state", b"19") == {"temperature_c": 19.0}
    assert readings(reg, "n/sensor/n_internal_temperature/state", b"48") is None
    with pytest.raises(DecodeError, match="does not read name 'lab_co2'.*devices\\[\\].entities"):
        reg.decode("n/sensor/lab_co2/state", b"600")


def test_a_select_rule_needs_one_real_field(write_profile: WriteProfile) -> None:
    path = write_profile(
        "esp",
        """
        schema_version: 2
        description: t
        source: t
        rules:
          - topic: "{device}/sensor/{name}/state"
            format: text
            select: name
            fields: {uptime: ignore}
        """,
    )
    with pytest.raises(ProfileError, match="needs at least one field that is not ignore"):
        load_profile(path)


def test_like_tests_a_topic_level_against_a_pattern(
    tmp_path: Path, write_profile: WriteProfile
) -> None:
    write_profile(
        "shelly",
        """
        schema_version: 2
        description: t
        source: t
        rules:
          - topic: "{device}/status/{component}"
            when: [{capture: component, like: "temperature:*"}]
            fields: {tC: temperature_c}
          - topic: "{device}/status/{component}"
            when: [{capture: component, like: "humidity:*"}]
            fields: {rh: humidity_pct}
        """,
    )
    reg = ProfileRegistry.load(tmp_path)
    assert readings(reg, "s/status/temperature:100", {"id": 100, "tC": 20.5}) == {
        "temperature_c": 20.5
    }
    assert readings(reg, "s/status/humidity:0", {"id": 0, "rh": 40}) == {"humidity_pct": 40.0}
    with pytest.raises(
        DecodeError, match="needs topic level 'component' is like 'temperature:\\*'"
    ):
        reg.decode("s/status/switch:0", b'{"id": 0, "temperature": {"tC": 41.0}}')


def test_like_is_one_test_of_a_predicate(write_profile: WriteProfile) -> None:
    path = write_profile(
        "p",
        """
        schema_version: 2
        description: t
        source: t
        rules:
          - topic: "{device}/x"
            when: [{key: kind, like: "a*", equals: b}]
            fields: {t: temperature_c}
        """,
    )
    with pytest.raises(ProfileError, match="give one of exists, equals, in, like"):
        load_profile(path)


def test_unit_from_default_is_the_unit_of_a_payload_naming_none(
    tmp_path: Path, write_profile: WriteProfile
) -> None:
    write_profile(
        "tas",
        """
        schema_version: 2
        description: t
        source: t
        rules:
          - topic: tele/{device}/SENSOR
            fields:
              BMP280.Pressure:
                quantity: pressure_hpa
                unit_from: {key: PressureUnit, units: {hPa: hPa, mmHg: mmHg}, default: hPa}
        """,
    )
    reg = ProfileRegistry.load(tmp_path)
    assert readings(reg, "tele/t/SENSOR", {"BMP280": {"Pressure": 1032.5}}) == {
        "pressure_hpa": 1032.5
    }
    got = readings(reg, "tele/t/SENSOR", {"BMP280": {"Pressure": 753.3}, "PressureUnit": "mmHg"})
    assert got is not None and got["pressure_hpa"] == pytest.approx(1004.3176, abs=1e-3)
    with pytest.raises(DecodeError, match="unknown unit 'psi' in 'PressureUnit'"):
        reg.decode("tele/t/SENSOR", b'{"BMP280": {"Pressure": 14.7}, "PressureUnit": "psi"}')


def test_unit_from_default_must_be_one_of_the_units(write_profile: WriteProfile) -> None:
    path = write_profile(
        "tas",
        """
        schema_version: 2
        description: t
        source: t
        rules:
          - topic: tele/{device}/SENSOR
            fields:
              X.Temperature:
                quantity: temperature_c
                unit_from: {key: TempUnit, units: {C: "°C"}, default: K}
        """,
    )
    with pytest.raises(ProfileError, match="default: is not one of the units"):
        load_profile(path)


def test_each_reads_every_sensor_a_pattern_matches(
    tmp_path: Path, write_profile: WriteProfile
) -> None:
    write_profile(
        "tas",
        """
        schema_version: 2
        description: t
        source: t
        rules:
          - topic: tele/{device}/SENSOR
            fields:
              BME280.Temperature: {quantity: temperature_c, each: true}
              DS18B20*.Temperature: {quantity: temperature_c, each: true}
          - topic: tele/{device}/OTHER
            fields:
              SCD30.Temperature: temperature_c
              DS18B20*.Temperature: {quantity: temperature_c, each: true}
        """,
    )
    reg = ProfileRegistry.load(tmp_path)
    payload = {"DS18B20-1": {"Temperature": 5.0}, "DS18B20-2": {"Temperature": 60.0},
               "BME280": {"Temperature": 21.5}}  # fmt: skip
    got = reg.decode("tele/t/SENSOR", json.dumps(payload).encode())
    assert got is not None
    assert [(r.value, r.attrs) for r in got.readings] == [
        (21.5, {"sensor": "BME280"}),  # profile order first, then payload order
        (5.0, {"sensor": "DS18B20-1"}),
        (60.0, {"sensor": "DS18B20-2"}),
    ]
    # one probe out of bounds refuses that probe only, and says which
    payload["DS18B20-2"] = {"Temperature": 185.0}
    got = reg.decode("tele/t/SENSOR", json.dumps(payload).encode())
    assert got is not None and [r.value for r in got.readings] == [21.5, 5.0]
    assert got.refused == (
        "field 'DS18B20*.Temperature': temperature_c 185 above bound 100 (sensor 'DS18B20-2')",
    )
    # a plain field listed first that read the quantity stops the `each` fields after it
    other = {"SCD30": {"Temperature": 22.0}, "DS18B20-1": {"Temperature": 5.0}}
    got = reg.decode("tele/t/OTHER", json.dumps(other).encode())
    assert got is not None and [(r.value, r.attrs) for r in got.readings] == [(22.0, {})]


def test_each_must_be_true_or_false(write_profile: WriteProfile) -> None:
    path = write_profile(
        "tas",
        """
        schema_version: 2
        description: t
        source: t
        rules:
          - topic: tele/{device}/SENSOR
            fields:
              X*.Temperature: {quantity: temperature_c, each: "yes"}
        """,
    )
    with pytest.raises(ProfileError, match="each: expected true or false"):
        load_profile(path)
