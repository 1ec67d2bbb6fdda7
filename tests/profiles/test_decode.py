"""Decoding: readings from payloads, and DecodeError (never anything else) for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.errors import DecodeError
from gateway.events import Reading
from gateway.profiles import Decoded, ProfileRegistry
from tests.profiles.conftest import WriteProfile


def j(obj: object) -> bytes:
    return json.dumps(obj).encode()


def reason(registry: ProfileRegistry, topic: str, payload: bytes) -> str:
    with pytest.raises(DecodeError) as info:
        registry.decode(topic, payload)
    return info.value.reason


# --- the shipped profiles --------------------------------------------------------------------


def test_ref_door_event(shipped: ProfileRegistry) -> None:
    got = shipped.decode(
        "ref/door/d1/event", j({"event": "granted", "member": "m-1", "ts": "2026-11-28T09:15:02Z"})
    )
    assert got == Decoded(
        "ref-door", "d1", [Reading("door", "granted", None, 1795857302.0, {"member": "m-1"})]
    )


def test_ref_environment_units(shipped: ProfileRegistry) -> None:
    got = shipped.decode("ref/env/e1", j({"temperature": 22, "lux": 420}))
    assert got is not None
    assert [(r.quantity, r.value, r.unit) for r in got.readings] == [
        ("temperature_c", 22.0, "°C"),
        ("illuminance_lux", 420.0, "lx"),
    ]
    assert all(isinstance(r.value, float) for r in got.readings)


def test_counter_is_an_int(shipped: ProfileRegistry) -> None:
    got = shipped.decode("ref/counter/c1", b'{"count": 4.0}')
    assert got is not None and got.readings[0].value == 4
    assert type(got.readings[0].value) is int


@pytest.mark.parametrize(
    ("payload", "online"),
    [
        (b'{"state": "online"}', True),
        (b'{"state":"offline"}', False),
        (b"online", True),
        (b"offline\n", False),
    ],
)
def test_zigbee2mqtt_availability(shipped: ProfileRegistry, payload: bytes, online: bool) -> None:
    assert shipped.decode("zigbee2mqtt/pir/availability", payload) == Decoded(
        "zigbee2mqtt", "pir", [Reading("online", online)]
    )


def test_zigbee2mqtt_contact_false_means_open(shipped: ProfileRegistry) -> None:
    got = shipped.decode("zigbee2mqtt/door", b'{"contact": false}')
    assert got is not None and got.readings == [Reading("contact_open", True)]


def test_zigbee2mqtt_illuminance_lux_wins_over_raw(shipped: ProfileRegistry) -> None:
    got = shipped.decode("zigbee2mqtt/pir", j({"illuminance": 9999, "illuminance_lux": 15}))
    assert got is not None and [r.value for r in got.readings] == [15.0]


@pytest.mark.parametrize(
    "topic",
    [
        "zigbee2mqtt/bridge/state",
        "zigbee2mqtt/bridge/logging",
        "zigbee2mqtt/bridge",
        "zigbee2mqtt/bridge/request/permit_join",
        "zigbee2mqtt/lamp/set",
        "zigbee2mqtt/lamp/get",
        "zigbee2mqtt/lamp/set/brightness",
    ],
)
def test_ignored_topics_return_none(shipped: ProfileRegistry, topic: str) -> None:
    assert shipped.decode(topic, b'{"state": "ON"}') is None
    assert shipped.decode(topic, b"\xff\xfe not even text") is None


@pytest.mark.parametrize(
    ("topic", "payload", "expected"),
    [
        ("nobody/knows/this", b"{}", "no profile matches topic 'nobody/knows/this'"),
        ("ref/door/d1", b"{}", "no profile matches topic 'ref/door/d1'"),
        ("ref/door/d1/event/extra", b"{}", "no profile matches topic"),
        ("ref/counter/", b'{"count": 1}', "no profile matches topic"),
        ("$SYS/broker/uptime", b"12", "no profile matches topic"),
        ("ref/counter/c1", b"{not json", "payload is not valid JSON"),
        ("ref/counter/c1", b"", "payload is not valid JSON"),
        ("ref/counter/c1", b"\xff\xfe", "payload is not valid UTF-8"),
        ("ref/counter/c1", b"[1, 2]", "payload is not a JSON object (got list)"),
        ("ref/counter/c1", b'"4"', "payload is not a JSON object (got str)"),
        ("ref/counter/c1", b'{"count": "many"}', "field 'count': expected an integer, got 'many'"),
        ("ref/counter/c1", b'{"count": true}', "field 'count': expected an integer, got True"),
        (
            "ref/env/e1",
            b'{"temperature": "hot"}',
            "field 'temperature': expected a number, got 'hot'",
        ),
        ("ref/env/e1", b'{"temperature": Infinity}', "expected a number, got inf"),
        ("ref/env/e1", b'{"temperature": {"v": 1}}', "expected a number, got {'v': 1}"),
        ("ref/env/e1", b'{"co2": 1e999}', "expected a number"),
        ("ref/env/e1", b'{"co2": 1%s}' % (b"0" * 400), "is out of range"),
        ("ref/env/e1", b'{"co2": "1e999"}', "expected a number"),
        ("ref/env/e1", b'{"co2": 1%s}' % (b"0" * 5000), "payload is not valid JSON"),
        ("ref/env/e1", b'{"rssi": -70}', "payload yields no readings"),
        ("ref/door/d1/event", b'{"event": "exploded"}', "field 'event': unknown value 'exploded'"),
        ("ref/door/d1/event", b'{"event": 3}', "field 'event': expected a string, got 3"),
        ("ref/door/d1/event", b'{"event": "opened", "ts": "yesterday"}', "not an ISO 8601 time"),
        ("ref/door/d1/event", b'{"event": "opened", "ts": true}', "field 'ts': expected"),
        ("ref/door/d1/event", b'{"event": "opened", "ts": 1e300}', "out of range"),
        ("ref/occupancy/o1", b'{"motion": "yes"}', "field 'motion': expected a boolean, got 'yes'"),
        ("zigbee2mqtt/pir/availability", b"asleep", "unknown value 'asleep'"),
        ("zigbee2mqtt/pir/availability", b"  ", "payload is empty"),
        ("zigbee2mqtt/pir", b'{"linkquality": 120}', "payload yields no readings"),
    ],
)
def test_decode_errors(shipped: ProfileRegistry, topic: str, payload: bytes, expected: str) -> None:
    assert expected in reason(shipped, topic, payload)


def test_long_values_are_shortened_in_reasons(shipped: ProfileRegistry) -> None:
    text = reason(shipped, "ref/env/e1", j({"temperature": "x" * 10_000}))
    assert len(text) < 200


def test_subscriptions_cover_every_rule(shipped: ProfileRegistry) -> None:
    subs = shipped.subscriptions()
    assert len(subs) == len(set(subs))
    assert {
        "zigbee2mqtt/#",  # friendly names may span levels
        "ref/door/+/event",
        "ref/door/+/status",
        "ref/printer/+/status",
        "ref/printer/+/job",
        "ref/printer/+/badge",
        "ref/occupancy/+",
        "ref/counter/+",
        "ref/env/+",
        "tele/+/SENSOR",
        "tele/+/LWT",
        "+/status",
        "+/sensor/+/state",
        "+/binary_sensor/+/state",
        "+/events/rpc",
        "+/status/+",  # Shelly status_ntf: <id>/status/<component>:<id>
        "+/online",
        "application/+/device/+/event/up",
        "application/+/device/+/event/status",
        "application/+/device/+/event/join",
        "hikvision/+/event",
        "octoPrint/event/+",  # the plugin's default base topic, one printer
        "octoPrint/mqtt",
        "octoPrint/+/event/+",
        "octoPrint/+/mqtt",
        "octoPrint/progress/printing",  # read when printerData puts the state flags in it
        "octoPrint/+/progress/printing",
    } == set(subs)


# --- format features, on small profiles written by the test ----------------------------------

ACME = """
    schema_version: 1
    description: test device
    source: test
    timestamp: {key: meta.time, format: epoch_ms}
    ignore: [acme/+/cmd/#]
    rules:
      - topic: acme/{site}/{device}/state
        when: [{key: kind, in: [env, climate]}]
        fields:
          data.t: {quantity: temperature_c, scale: 0.1, offset: -10}
          data.rh: {quantity: humidity_pct, min: 0, max: 100}
          battery_mv: {quantity: battery_pct, scale: 0.0333333333, max: 100, attrs: [battery_mv]}
        attrs: [fw, net.rssi]
      - topic: acme/{site}/{device}/state
        when: [{key: kind, equals: door}]
        timestamp: null
        fields:
          open: {quantity: contact_open, map: {1: true, 0: false}}
      - topic: acme/bulk/+
        device_key: dev.id
        on_empty: ignore
        fields:
          count: people_count
"""


@pytest.fixture
def acme(write_profile: WriteProfile, tmp_path: Path) -> ProfileRegistry:
    write_profile("acme", ACME)
    return ProfileRegistry.load(tmp_path)


def test_dotted_paths_scale_offset_attrs_and_timestamp(acme: ProfileRegistry) -> None:
    payload = {
        "kind": "env",
        "data": {"t": 321, "rh": 40},
        "fw": "1.2",
        "net": {"rssi": -61},
        "meta": {"time": 1795857302000},
        "battery_mv": 2970,
    }
    got = acme.decode("acme/hq/s-1/state", j(payload))
    assert got is not None and got.device == "s-1"
    t, rh, batt = got.readings
    assert t.quantity == "temperature_c" and t.value == pytest.approx(22.1)
    assert t.ts == 1795857302.0 and t.attrs == {"fw": "1.2", "rssi": -61}
    assert rh.value == 40.0
    assert batt.attrs == {"fw": "1.2", "rssi": -61, "battery_mv": 2970}
    assert batt.value == pytest.approx(99.0)
    t.attrs["fw"] = "changed"  # readings must not share one attrs dict
    assert rh.attrs["fw"] == "1.2"


def test_predicates_pick_the_rule(acme: ProfileRegistry) -> None:
    got = acme.decode("acme/hq/d-1/state", j({"kind": "door", "open": 1, "meta": {"time": 5}}))
    assert got is not None and got.readings == [Reading("contact_open", True)]  # no ts: null
    assert "needs key 'kind' has one of" in reason(acme, "acme/hq/d-1/state", j({"kind": "x"}))
    assert "unknown value True" in reason(
        acme, "acme/hq/d-1/state", j({"kind": "door", "open": True})
    )


def test_device_from_payload_and_on_empty_ignore(acme: ProfileRegistry) -> None:
    got = acme.decode("acme/bulk/x", j({"dev": {"id": "c-9"}, "count": 3}))
    assert got == Decoded("acme", "c-9", [Reading("people_count", 3)])
    assert acme.decode("acme/bulk/x", j({"dev": {"id": "c-9"}})) is None
    assert "expected a device id" in reason(acme, "acme/bulk/x", j({"count": 3}))


def test_ignore_with_multi_level_wildcard(acme: ProfileRegistry) -> None:
    assert acme.decode("acme/hq/cmd", b"x") is None
    assert acme.decode("acme/hq/cmd/reboot/now", b"x") is None
    assert acme.subscriptions() == ["acme/+/+/state", "acme/bulk/+"]


def test_first_profile_by_name_whose_predicates_hold_wins(
    write_profile: WriteProfile, tmp_path: Path
) -> None:
    head = "schema_version: 1\ndescription: d\nsource: s\nrules:\n  - topic: '+/{device}'\n"
    write_profile("a", head + "    when: [{key: v, equals: 1}]\n    fields: {t: temperature_c}\n")
    write_profile("b", head + "    fields: {t: humidity_pct}\n")
    reg = ProfileRegistry.load(tmp_path)
    a = reg.decode("x/dev", b'{"v": 1, "t": 5}')
    b = reg.decode("x/dev", b'{"v": 2, "t": 5}')
    assert a is not None and (a.profile, a.readings[0].quantity) == ("a", "temperature_c")
    assert b is not None and (b.profile, b.readings[0].quantity) == ("b", "humidity_pct")
    with pytest.raises(DecodeError, match="no profile matches"):
        reg.decode("$SYS/dev", b'{"t": 1}')  # wildcards do not match $-topics


def test_text_format_numbers(write_profile: WriteProfile, tmp_path: Path) -> None:
    write_profile(
        "plain",
        """
        schema_version: 1
        description: d
        source: s
        format: text
        rules:
          - topic: plain/{device}/temp
            value: {quantity: temperature_c, scale: 0.01}
    """,
    )
    reg = ProfileRegistry.load(tmp_path)
    got = reg.decode("plain/t1/temp", b" 2150\n")
    assert got is not None and got.readings[0].value == pytest.approx(21.5)
    assert "expected a number, got 'warm'" in reason(reg, "plain/t1/temp", b"warm")


def test_decode_accepts_bytearray_and_memoryview(shipped: ProfileRegistry) -> None:
    for data in (bytearray(b'{"count": 2}'), memoryview(b'{"count": 2}')):
        got = shipped.decode("ref/counter/c1", data)  # type: ignore[arg-type]
        assert got is not None and got.readings[0].value == 2


def test_scale_overflow_and_epoch_strings(write_profile: WriteProfile, tmp_path: Path) -> None:
    write_profile(
        "big",
        """
        schema_version: 1
        description: d
        source: s
        timestamp: {key: t, format: epoch_s}
        rules:
          - topic: big/{device}
            fields:
              v: {quantity: co2_ppm, scale: 1.0e300}
              n: people_count
    """,
    )
    reg = ProfileRegistry.load(tmp_path)
    assert "out of range" in reason(reg, "big/x", b'{"v": 1e300}')
    got = reg.decode("big/x", b'{"n": 3, "t": "1795857302"}')
    assert got is not None and got.readings == [Reading("people_count", 3, None, 1795857302.0)]
    assert "time out of range" in reason(reg, "big/x", b'{"n": 3, "t": -5}')


def test_topic_matches_are_remembered_and_bounded(
    shipped: ProfileRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each topic's matching rules are worked out once: the same topic with other payloads,
    an ignored topic and an unknown one decode as the first time; fresh topics beyond the
    bound are matched without being kept."""
    reg = ProfileRegistry(shipped.profiles.values())
    for _ in range(2):
        one = reg.decode("zigbee2mqtt/hall_pir", b'{"occupancy": true}')
        two = reg.decode("zigbee2mqtt/hall_pir", b'{"occupancy": false, "battery": 80}')
        assert one is not None and two is not None
        assert (one.device, [(r.quantity, r.value) for r in one.readings]) == (
            "hall_pir",
            [("motion", True)],
        )
        assert [(r.quantity, r.value) for r in two.readings] == [
            ("motion", False),
            ("battery_pct", 80.0),
        ]
        assert reg.decode("zigbee2mqtt/bridge/state", b"online") is None
        with pytest.raises(DecodeError, match="no profile matches topic 'nobody/knows'"):
            reg.decode("nobody/knows", b"{}")
    assert set(reg._topics) == {"zigbee2mqtt/hall_pir", "zigbee2mqtt/bridge/state", "nobody/knows"}
    monkeypatch.setattr("gateway.profiles.registry._TOPICS_MAX", 5)
    for i in range(20):
        d = reg.decode(f"zigbee2mqtt/pir-{i}", b'{"occupancy": true}')
        assert d is not None and d.device == f"pir-{i}"
    assert len(reg._topics) == 5
