"""Shelly Gen2 with "Generic status update over MQTT" (status_ntf): <id>/status/<component>,
add-on peripherals numbered from 100 read like the built-in ones, and the RPC notifications
on <id>/events/rpc still read."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.profiles import ProfileRegistry
from tests.profiles.site_run import Site

BUILDING = """\
site: {id: s1, timezone: UTC}
floors:
  - id: f1
    spaces:
      - {id: lab, type: open_area, capacity: 10}
      - {id: booth, type: phone_booth, capacity: 1}
devices:
  - {id: shellyplusht-b8d61a8b17cc, profile: shelly-gen2, space: booth, model: shellyplusht}
  - {id: shellyplus1pm-441793d69718, profile: shelly-gen2, space: lab}
"""
HT = "shellyplusht-b8d61a8b17cc"
PLUS = "shellyplus1pm-441793d69718"


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path, BUILDING)


def test_the_status_topics_are_subscribed(shipped: ProfileRegistry) -> None:
    assert "+/status/+" in shipped.subscriptions()


def test_status_ntf_of_the_built_in_sensors(site: Site) -> None:
    # MQTT docs: "the entire status payload of components is published on
    # <topic_prefix>/status/<component:id>"; Temperature {id, tC, tF}, Humidity {id, rh}
    assert site.values(f"{HT}/status/temperature:0", '{"id":0,"tC":22.5,"tF":72.5}') == {
        "temperature_c": 22.5
    }
    assert site.values(f"{HT}/status/humidity:0", '{"id":0,"rh":45.2}') == {"humidity_pct": 45.2}
    assert site.values(
        f"{HT}/status/devicepower:0",
        '{"id":0,"battery":{"V":5.43,"percent":87},"external":{"present":false}}',
    ) == {"battery_pct": 87.0}
    assert {e.space for e in site.events} == {"booth"}
    assert site.dead() == []


def test_add_on_peripherals_are_read_like_the_built_in_ones(site: Site) -> None:
    # Sensor Add-On docs: "Ids of Components linked to add-on peripherals start from 100";
    # dht22 -> temperature + humidity, ds18b20 -> temperature
    assert site.values(f"{PLUS}/status/temperature:100", '{"id":100,"tC":21.4,"tF":70.5}') == {
        "temperature_c": 21.4
    }
    assert site.values(f"{PLUS}/status/humidity:100", '{"id":100,"rh":51.3}') == {
        "humidity_pct": 51.3
    }
    assert site.values(f"{PLUS}/status/temperature:101", '{"id":101,"tC":19.6,"tF":67.3}') == {
        "temperature_c": 19.6
    }
    # the same add-on over RPC notifications
    got = site.values(
        f"{PLUS}/events/rpc",
        {"src": PLUS, "dst": f"{PLUS}/events", "method": "NotifyStatus",
         "params": {"ts": 1764320390.5, "temperature:100": {"id": 100, "tC": 21.9}}},
    )  # fmt: skip
    assert got == {"temperature_c": 21.9}
    assert site.dead() == []


def test_a_relays_own_temperature_and_other_components_are_not_room_readings(site: Site) -> None:
    switch = (
        '{"id":0,"source":"init","output":false,"apower":0.0,"voltage":231.9,"current":0.000,'
        '"aenergy":{"total":0.000,"by_minute":[0.000,0.000,0.000],"minute_ts":1764320340},'
        '"temperature":{"tC":41.7,"tF":107.1}}'
    )
    for component, payload in [
        ("switch:0", switch),
        ("input:100", '{"id":100,"state":false}'),
        ("sys", '{"mac":"441793D69718","restart_required":false,"uptime":3}'),
        ("wifi", '{"sta_ip":"192.168.3.183","status":"got ip","rssi":-61}'),
    ]:
        assert site.feed(f"{PLUS}/status/{component}", payload) == []
    assert site.dead() == []


def test_notify_full_status_still_reads_the_built_in_sensors(site: Site) -> None:
    # gist NelsonMinar/494a0f53785c20290b395639548349fa (a Plus H&T over MQTT), trimmed
    got = site.values(
        f"{HT}/events/rpc",
        {"src": HT, "dst": f"{HT}/events", "method": "NotifyFullStatus",
         "params": {"ts": 1764320390.62, "ble": {}, "cloud": {"connected": False},
                    "devicepower:0": {"id": 0, "battery": {"V": 5.43, "percent": 87},
                                      "external": {"present": False}},
                    "humidity:0": {"id": 0, "rh": 42.2}, "mqtt": {"connected": True},
                    "temperature:0": {"id": 0, "tC": 19.8, "tF": 67.6},
                    "sys": {"mac": "B8D61A8B17CC", "uptime": 3, "wakeup_period": 600}}},
    )  # fmt: skip
    assert got == {"temperature_c": 19.8, "humidity_pct": 42.2, "battery_pct": 87.0}


def test_a_bad_status_value_is_a_dead_letter(site: Site) -> None:
    assert site.feed(f"{HT}/status/humidity:0", '{"id":0,"rh":140}') == []
    ((topic, reason, _),) = site.dead()
    assert topic == f"{HT}/status/humidity:0" and "humidity_pct 140 above bound 100" in reason
