"""Bridges on the production broker: one MQTT user per bridge, carrying all its devices.

`gateway deploy acl` for a building with two zigbee2mqtt bridges (one on a custom base topic),
a ChirpStack integration (implicit bridge), a Tasmota device that connects itself and Home
Assistant; the shipped production config runs on a real Mosquitto with the generated files.
Topic layouts: zigbee2mqtt publishes ``<base>/<friendly_name>`` and ``.../availability`` and
reads ``.../set`` (zigbee2mqtt.io guide/usage/mqtt_topics_and_messages; lib/mqtt.ts subscribes
``<base>/#`` and sets the will on ``<base>/bridge/state``); ChirpStack v4 publishes
``application/<app>/device/<dev_eui>/event/up`` (chirpstack.io docs, MQTT integration).
Negative checks are followed by an allowed message from the same client (see
test_broker_acl's docstring): once that arrives, the forbidden one would have arrived first.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from gateway.cli import main
from tests.deploy.test_broker_acl import Client, production_conf
from tests.support import MOSQUITTO, free_port, port_open, wait_for

pytestmark = pytest.mark.skipif(MOSQUITTO is None, reason="needs the mosquitto binary")

APP = "5f1a27e4-8a6b-4b35-9d6a-21f3b8c9e0d1"
BUILDING = """
site: {id: br-site, name: Bridge site, timezone: UTC}
floors:
  - id: "1"
    name: Ground
    spaces:
      - {id: a, name: Room A, type: meeting_room, capacity: 6}
      - {id: b, name: Room B, type: meeting_room, capacity: 6}
bridges:
  - {id: zigbee-west, profile: zigbee2mqtt}
  - {id: zigbee-east, profile: zigbee2mqtt, base_topic: z2m-east}
devices:
  - {id: a_pir, profile: zigbee2mqtt, space: a, bridge: zigbee-west}
  - {id: Office FP300 Sensor, profile: zigbee2mqtt, space: a, bridge: zigbee-west}
  - {id: b_pir, profile: zigbee2mqtt, space: b, bridge: zigbee-east}
  - {id: 24e124710c401234, profile: chirpstack, space: b}
  - {id: 24e124535b312345, profile: chirpstack, space: a}
  - {id: co2-a, profile: tasmota, space: a}
  - {id: co2-b, profile: tasmota, space: b}
"""
UP = '{"deviceInfo": {"devEui": "%s"}, "object": {"co2": 600}}'


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("bridges")
    (tmp / "building.yaml").write_text(BUILDING)
    out = tmp / "mqtt"
    assert main(["deploy", "acl", "--building", str(tmp / "building.yaml"), "--out-dir",
                 str(out)]) == 0  # fmt: skip
    creds = dict(line.split(":", 1) for line in (out / "credentials").read_text().splitlines())
    port = free_port()
    proc = subprocess.Popen(
        [str(MOSQUITTO), "-c", str(production_conf(tmp, port))],
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "mosquitto.log", "ab"),  # noqa: SIM115
    )
    try:
        wait_for(lambda: port_open(port) or proc.poll() is not None, timeout=10)
        assert proc.poll() is None, (tmp / "mosquitto.log").read_text()
        yield port, creds
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def test_one_user_per_bridge_and_per_self_connecting_device(
    broker: tuple[int, dict[str, str]],
) -> None:
    _, creds = broker
    # bridged devices have no user of their own; the ChirpStack bridge is named by its profile
    assert set(creds) == {
        "gateway", "homeassistant", "zigbee-west", "zigbee-east", "chirpstack", "co2-a", "co2-b"
    }  # fmt: skip


def test_bridge_publishes_for_all_its_devices_and_the_gateway_gets_them(
    broker: tuple[int, dict[str, str]],
) -> None:
    port, creds = broker
    gw = Client(port, "gateway", creds["gateway"])
    west = Client(port, "zigbee-west", creds["zigbee-west"])
    lora = Client(port, "chirpstack", creds["chirpstack"])
    try:
        gw.subscribe("#")  # the gateway's read grants decide what it gets
        sent = [
            (west, "zigbee2mqtt/a_pir", '{"occupancy": true}'),
            (west, "zigbee2mqtt/a_pir/availability", '{"state": "online"}'),
            (west, "zigbee2mqtt/Office FP300 Sensor", '{"presence": true}'),
            (west, "zigbee2mqtt/bridge/state", '{"state": "online"}'),
            (lora, f"application/{APP}/device/24e124710c401234/event/up", UP % "24e124710c401234"),
            (lora, f"application/{APP}/device/24e124535b312345/event/up", UP % "24e124535b312345"),
        ]
        for client, topic, payload in sent:
            client.publish(topic, payload)
        want = [t for _, t, _ in sent]
        wait_for(lambda: set(want) <= set(gw.topics()))
        assert sorted(gw.topics()) == sorted(want)
    finally:
        for c in (gw, west, lora):
            c.close()


def test_bridge_cannot_publish_other_bridges_or_gateway_topics(
    broker: tuple[int, dict[str, str]],
) -> None:
    port, creds = broker
    gw = Client(port, "gateway", creds["gateway"])
    ha = Client(port, "homeassistant", creds["homeassistant"])
    west = Client(port, "zigbee-west", creds["zigbee-west"])
    try:
        gw.subscribe("#")
        ha.subscribe("homeassistant/#")
        forbidden = [
            "z2m-east/b_pir",  # the other zigbee bridge's device
            "z2m-east/bridge/state",  # the other bridge's own state
            "zigbee2mqtt/not_in_the_building",  # a device the building does not put behind it
            f"application/{APP}/device/24e124710c401234/event/up",  # ChirpStack's
            "tele/co2-a/SENSOR",  # a self-connecting device's
            "gateway/br-site/space/a/state",  # the gateway's own state
            "homeassistant/binary_sensor/gateway_br-site/a_occupancy/config",  # its discovery
        ]
        for topic in forbidden:
            west.publish(topic, '{"occupancy": true}')
        west.publish("zigbee2mqtt/a_pir", '{"occupancy": false}')  # its own: the marker
        wait_for(lambda: "zigbee2mqtt/a_pir" in gw.topics())
        assert gw.topics() == ["zigbee2mqtt/a_pir"]
        assert ha.got == []
    finally:
        for c in (gw, ha, west):
            c.close()


def test_bridge_reads_only_its_own_devices_commands(broker: tuple[int, dict[str, str]]) -> None:
    port, creds = broker
    gw = Client(port, "gateway", creds["gateway"])
    west = Client(port, "zigbee-west", creds["zigbee-west"])
    east = Client(port, "zigbee-east", creds["zigbee-east"])
    try:
        west.subscribe("zigbee2mqtt/#")  # what zigbee2mqtt itself subscribes to
        east.subscribe("#")
        gw.publish("z2m-east/b_pir/set", '{"state": "OFF"}')  # east's, not west's
        gw.publish("zigbee2mqtt/a_pir/set", '{"state": "OFF"}')
        wait_for(lambda: west.got and east.got)
        assert west.topics() == ["zigbee2mqtt/a_pir/set"]
        assert east.topics() == ["z2m-east/b_pir/set"]
    finally:
        for c in (gw, west, east):
            c.close()


def test_device_user_still_cannot_publish_as_another_device(
    broker: tuple[int, dict[str, str]],
) -> None:
    port, creds = broker
    gw = Client(port, "gateway", creds["gateway"])
    co2 = Client(port, "co2-a", creds["co2-a"])
    try:
        gw.subscribe("#")
        co2.publish("tele/co2-b/SENSOR", '{"SCD40": {"CarbonDioxide": 900}}')
        co2.publish("zigbee2mqtt/a_pir", '{"occupancy": true}')
        co2.publish("zigbee2mqtt/bridge/state", '{"state": "offline"}')
        co2.publish("tele/co2-a/SENSOR", '{"SCD40": {"CarbonDioxide": 600}}')
        wait_for(lambda: gw.got)
        assert gw.topics() == ["tele/co2-a/SENSOR"]
    finally:
        gw.close()
        co2.close()


def test_home_assistant_reads_discovery_and_state_and_announces_itself(
    broker: tuple[int, dict[str, str]],
) -> None:
    port, creds = broker
    gw = Client(port, "gateway", creds["gateway"])
    ha = Client(port, "homeassistant", creds["homeassistant"])
    try:
        gw.subscribe("homeassistant/status")
        ha.subscribe("homeassistant/#")
        ha.subscribe("gateway/br-site/#")
        ha.publish("gateway/br-site/space/a/state", '{"state": "vacant"}')  # not HA's to write
        ha.publish("homeassistant/status", "online")  # its birth message
        wait_for(lambda: gw.got)
        assert gw.got == [("homeassistant/status", b"online")]
        config = "homeassistant/binary_sensor/gateway_br-site/a_occupancy/config"
        gw.publish(config, "{}")
        gw.publish("gateway/br-site/space/a/state", '{"state": "occupied"}')
        wait_for(lambda: len(ha.got) >= 3)
        assert ha.got == [
            ("homeassistant/status", b"online"),
            (config, b"{}"),
            ("gateway/br-site/space/a/state", b'{"state": "occupied"}'),
        ]
    finally:
        gw.close()
        ha.close()
