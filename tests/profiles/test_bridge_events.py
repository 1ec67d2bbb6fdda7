"""ChirpStack status/join, Hikvision keep-alives and grants, OctoPrint's default base topic;
the `on_empty: seen` and `device:` rule keys they use.

A join or a keep-alive says the device is alive and nothing more: it decodes to no reading
(the ingest marks the device heard, its silence timeout judges it) rather than to an
`online: true` that would hold a silent LoRaWAN sensor online forever."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.errors import ProfileError
from gateway.profiles import ProfileRegistry
from tests.profiles.conftest import PROFILES_DIR, WriteProfile

APP = "application/59bcc5a7-59e2-4481-9615-fc4e58791915/device/70b3d52dd300ed31"
# BenAhrdt/ioBroker.lorawan main.js: a ChirpStack v4 status event (MClimate Vicki, 2024-01-26)
STATUS = {
    "deduplicationId": "4a91b00d-b5e1-4955-b085-ba21b9318213",
    "time": "2024-01-26T20:18:45.299871+00:00",
    "deviceInfo": {"deviceProfileName": "Mclimate_Vicki", "devEui": "70b3d52dd300ed31"},
    "margin": 7,
    "externalPowerSource": False,
    "batteryLevelUnavailable": False,
    "batteryLevel": 85.826775,
}


def readings(reg: ProfileRegistry, topic: str, payload: object) -> dict[str, object]:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    got = reg.decode(topic, raw)
    assert got is not None
    return {r.quantity: r.value for r in got.readings}


def test_chirpstack_status_gives_the_battery_and_a_join_is_heard(
    shipped: ProfileRegistry,
) -> None:
    assert readings(shipped, f"{APP}/event/status", STATUS) == {"battery_pct": 85.826775}
    joined = shipped.decode(f"{APP}/event/join", json.dumps({"devAddr": "01fb24a8"}).encode())
    assert joined is not None and (joined.device, joined.readings) == ("70b3d52dd300ed31", [])


@pytest.mark.parametrize(
    "flags",
    [{"batteryLevelUnavailable": True}, {"externalPowerSource": True}],
)
def test_chirpstack_status_without_a_measured_battery_gives_no_level(
    shipped: ProfileRegistry, flags: dict[str, bool]
) -> None:
    # pbjson emit_fields writes batteryLevel 0 with these flags: it is no reading of 0 %
    payload = {**STATUS, "batteryLevel": 0, **flags}
    assert readings(shipped, f"{APP}/event/status", payload) == {}


def test_chirpstack_status_with_its_false_flags_left_out_gives_the_level(
    shipped: ProfileRegistry,
) -> None:
    # proto3 JSON may omit false and 0 (Go's protojson does; chirpstack's pbjson writes them)
    payload = {k: v for k, v in STATUS.items() if not isinstance(v, bool)}
    assert readings(shipped, f"{APP}/event/status", payload) == {"battery_pct": 85.826775}


def test_hikvision_keep_alive_and_credential_grants(shipped: ProfileRegistry) -> None:
    # mezz64/pyHik issue #14: the alarm stream's videoloss/inactive heartbeat
    beat = {
        "dateTime": "2017-12-11T22:21:47+00:00",
        "eventType": "videoloss",
        "eventState": "inactive",
        "activePostCount": 0,
        "channelID": 1,
    }
    assert readings(shipped, "hikvision/t1/event", beat) == {}
    heartbeat = {"eventType": "AccessControllerEvent",
                 "AccessControllerEvent": {"majorEventType": 5, "subEventType": 0x83}}  # fmt: skip
    assert readings(shipped, "hikvision/t1/event", heartbeat) == {}
    for minor, door in [
        (1, "granted"),
        (2, "granted"),
        (38, "granted"),
        (40, "granted"),
        (46, "granted"),
        (75, "granted"),
        (3, "denied"),
        (39, "denied"),
        (76, "denied"),
        (151, "denied"),
    ]:
        event = {
            "dateTime": "2026-03-02T06:47:59+03:00",
            "eventType": "AccessControllerEvent",
            "AccessControllerEvent": {"majorEventType": 5, "subEventType": minor},
        }
        assert readings(shipped, "hikvision/t1/event", event) == {"door": door}, minor


def test_octoprint_default_base_topic_is_one_printer(shipped: ProfileRegistry) -> None:
    # OctoPrint/OctoPrint-MQTT README.md, Events table
    started = {
        "_timestamp": 1517190629,
        "_event": "PrintStarted",
        "origin": "local",
        "file": "/home/pi/.octoprint/uploads/case_bp_3.6.v1.0.gco",
        "filename": "case_bp_3.6.v1.0.gco",
    }
    got = shipped.decode("octoPrint/event/PrintStarted", json.dumps(started).encode())
    assert got is not None and got.device == "octoPrint"
    will = shipped.decode("octoPrint/mqtt", b"disconnected")
    assert will is not None and will.device == "octoPrint"
    assert [(r.quantity, r.value) for r in will.readings] == [("online", False)]
    per_printer = shipped.decode("octoPrint/mk4/event/PrintStarted", json.dumps(started).encode())
    assert per_printer is not None and per_printer.device == "mk4"
    assert shipped.decode("octoPrint/temperature/bed", b'{"actual": 42.1}') is None


def test_octoprint_default_printer_id_is_a_setting() -> None:
    reg = ProfileRegistry.load(PROFILES_DIR, {"octoprint": {"printer": "makerlab-mk4"}})
    will = reg.decode("octoPrint/mqtt", b"connected")
    assert will is not None and will.device == "makerlab-mk4"


RULE = """
    schema_version: 2
    description: test
    source: test
    rules:
      - topic: acme/{device}/hello
        on_empty: seen
      - topic: acme/{device}/status
        on_empty: seen
        fields: {battery: battery_pct}
      - topic: acme/gateway
        device: acme-gw
        on_empty: seen
"""


def test_seen_rules_decode_to_no_reading_and_keep_what_they_refuse(
    write_profile: WriteProfile,
) -> None:
    reg = ProfileRegistry.load(write_profile("acme", RULE).parent)
    hello = reg.decode("acme/d1/hello", b"{}")
    assert hello is not None and (hello.device, hello.readings, hello.refused) == ("d1", [], ())
    assert readings(reg, "acme/d1/status", {"battery": 80}) == {"battery_pct": 80.0}
    bad = reg.decode("acme/d1/status", b'{"battery": 180}')
    assert bad is not None and bad.readings == []
    assert bad.refused == ("field 'battery': battery_pct 180 above bound 100",)
    gw = reg.decode("acme/gateway", b"{}")
    assert gw is not None and gw.device == "acme-gw"


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        ("{topic: 'acme/{device}/x', on_empty: maybe}", "expected one of error, ignore, seen"),
        ("{topic: 'acme/{device}/x'}", "fields: is missing"),
        ("{topic: 'acme/{device}/x', device: d1, on_empty: seen}", "already names"),
        ("{topic: acme/x, fields: {a: online}}", "needs a {device} capture"),
        ("{topic: acme/x, device: d1, ignore: true}", "an ignore rule reads nothing"),
    ],
)
def test_bad_on_empty_or_device_is_refused(
    write_profile: WriteProfile, rule: str, error: str
) -> None:
    text = f"schema_version: 2\ndescription: t\nsource: t\nrules:\n  - {rule}\n"
    path: Path = write_profile("acme", text)
    with pytest.raises(ProfileError) as err:
        ProfileRegistry.load(path.parent)
    assert error in str(err.value)
