"""Tasmota as devices publish it: indexed sensor names, the SCD4x family, pressure in hPa or
mmHg, and a SENSOR message that gives nothing is a dead letter with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.profiles.site_run import Site

BUILDING = """\
site: {id: s1, timezone: UTC}
floors:
  - id: f1
    spaces:
      - {id: lab, type: open_area, capacity: 10}
      - {id: kitchen, type: lounge, capacity: 8}
devices:
  - {id: tasmota_794BE8, profile: tasmota, space: lab}
  - {id: d1mini2, profile: tasmota, space: lab}
  - {id: tasmota, profile: tasmota, space: kitchen}
  - {id: tasmota_F66EEC, profile: tasmota, space: kitchen}
  - {id: co2-lounge, profile: tasmota, space: kitchen}
"""


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path, BUILDING)


def test_every_indexed_probe_is_stored_and_mmhg_pressure_converted(site: Site) -> None:
    # ioBroker/ioBroker.sonoff issue #351 (Tasmota 13.3.0.4, SetOption24 1)
    got = site.each(
        "tele/tasmota_794BE8/SENSOR",
        '{"Time":"2024-02-25T11:27:00","DS18B20-1":{"Id":"3C01D0756611","Temperature":21.125},'
        '"DS18B20-2":{"Id":"3C01E076647F","Temperature":20.438},"BMP280":{"Temperature":28.520,'
        '"Pressure":753.3},"Shutter1":{"Position":50,"Direction":0,"Target":50,"Tilt":0},'
        '"TERMOSENSORS":{"TOP":21.125,"BOTTOM":20.438},"PressureUnit":"mmHg","TempUnit":"C"}',
    )
    assert got == [
        ("temperature_c", 28.52, "BMP280"),
        ("temperature_c", 21.125, "DS18B20-1"),
        ("temperature_c", 20.438, "DS18B20-2"),
        ("pressure_hpa", pytest.approx(1004.3176392), "BMP280"),
    ]
    # the climate sensor, listed before the probes in the profile, is the live value
    assert site.live("tasmota_794BE8", "temperature_c") == 28.52
    assert site.dead() == []


def test_three_indexed_am2301_each_give_their_readings(site: Site) -> None:
    # arendst/Tasmota issue #5047
    got = site.each(
        "tele/d1mini2/SENSOR",
        '{"Time":"2019-01-27T20:51:59","AM2301-00":{"Temperature":24.2,"Humidity":46.6},'
        '"AM2301-01":{"Temperature":25.5,"Humidity":44.3},"AM2301-02":{"Temperature":24.3,'
        '"Humidity":53.7},"TempUnit":"C"}',
    )
    assert got == [
        ("temperature_c", 24.2, "AM2301-00"),
        ("temperature_c", 25.5, "AM2301-01"),
        ("temperature_c", 24.3, "AM2301-02"),
        ("humidity_pct", 46.6, "AM2301-00"),
        ("humidity_pct", 44.3, "AM2301-01"),
        ("humidity_pct", 53.7, "AM2301-02"),
    ]
    assert site.live("d1mini2", "temperature_c") == 24.2
    assert site.live("d1mini2", "humidity_pct") == 46.6


@pytest.mark.parametrize("name", ["SCD40", "SCD41", "SCD43"])
def test_every_scd4x_variant_is_read(site: Site, name: str) -> None:
    # arendst/Tasmota xsns_92_scd40.ino: mScd40Names "SCD40|SCD41||||SCD43"; values of #4771
    reading = {"CarbonDioxide": 409, "eCO2": 409, "Temperature": 25.1, "Humidity": 42.3,
               "DewPoint": 11.4}  # fmt: skip
    payload = {"Time": "2024-02-22T07:08:49", name: reading, "TempUnit": "C"}
    got = site.values("tele/co2-lounge/SENSOR", payload)
    assert got == {"co2_ppm": 409.0, "temperature_c": 25.1, "humidity_pct": 42.3}


def test_a_sensor_message_with_nothing_to_read_is_a_dead_letter_with_a_reason(site: Site) -> None:
    # arachnetech/homebridge-mqttthing issue #182: a relay-only device's teleperiod message
    assert site.feed("tele/tasmota/SENSOR", '{"Time":"2019-12-16T10:21:36","Switch1":"OFF"}') == []
    # home-assistant/core issue #128956: an energy plug on an ESP32 (chip temperature only)
    site.feed(
        "tele/tasmota_F66EEC/SENSOR",
        '{"Time":"2024-10-22T06:46:55","ENERGY":{"TotalStartTime":"2024-10-13T11:54:35",'
        '"Total":0.365,"Yesterday":0.306,"Today":0.003,"Period":0,"Power":0,"ApparentPower":7,'
        '"ReactivePower":7,"Factor":0.06,"Voltage":231,"Current":0.030},'
        '"ESP32":{"Temperature":55.3},"TempUnit":"C"}',
    )
    dead = site.dead()
    assert [d[0] for d in dead] == ["tele/tasmota/SENSOR", "tele/tasmota_F66EEC/SENSOR"]
    assert "payload yields no readings" in dead[0][1] and "it carries Time, Switch1" in dead[0][1]
    assert "it carries Time, ENERGY, ESP32, TempUnit" in dead[1][1]
    assert all(e.quantity != "temperature_c" for e in site.events)  # 55.3 °C is the chip's
