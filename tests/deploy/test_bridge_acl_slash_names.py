"""The gateway's commands reach zigbee2mqtt devices whose friendly names are grouped with '/'.

zigbee2mqtt lets a friendly name hold '/' to group devices (``floor1/room2/pir``) and then
reads that device's commands on ``<base>/floor1/room2/pir/set`` (zigbee2mqtt.io guide/usage/
mqtt_topics_and_messages, "zigbee2mqtt/FRIENDLY_NAME/set"; guide/configuration/
devices-groups: "friendly_name ... can contain a /, e.g. myroom/lamp"). A ``+`` in the
gateway's ``<base>/+/set`` grant is one level and does not cover it. `gateway deploy acl`
writes the files, the shipped production config runs them on a real Mosquitto. Negative
checks are followed by an allowed message from the same client (see test_broker_acl's
docstring): once that arrives, the forbidden one would have arrived first.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.building import load_building
from gateway.cli import main
from gateway.deploy.acl import plan_acl
from gateway.profiles import ProfileRegistry
from gateway.settings import load_settings
from tests.deploy.test_broker_acl import Client, production_conf
from tests.support import MOSQUITTO, ROOT, free_port, port_open, wait_for

BUILDING = """
site: {id: slash-site, name: Slash site, timezone: UTC}
floors:
  - id: "1"
    name: Ground
    spaces:
      - {id: room2, name: Room 2, type: meeting_room, capacity: 6}
      - {id: lab, name: Lab, type: open_area, capacity: 10}
bridges:
  - {id: zigbee-1, profile: zigbee2mqtt, base_topic: z2m}
  - {id: zigbee-2, profile: zigbee2mqtt}
devices:
  - {id: floor1/room2/pir, profile: zigbee2mqtt, space: room2, bridge: zigbee-1}
  - {id: lab_pir, profile: zigbee2mqtt, space: lab, bridge: zigbee-1}
  - {id: floor2/lab/lamp, profile: zigbee2mqtt, space: lab, bridge: zigbee-2}
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("slash")
    (tmp / "building.yaml").write_text(BUILDING)
    assert main(["deploy", "acl", "--building", str(tmp / "building.yaml"), "--out-dir",
                 str(tmp / "mqtt")]) == 0  # fmt: skip
    return tmp


@pytest.fixture(scope="module")
def broker(files: Path) -> Iterator[tuple[int, dict[str, str]]]:
    if MOSQUITTO is None:
        pytest.skip("needs the mosquitto binary")
    text = (files / "mqtt" / "credentials").read_text()
    creds = dict(line.split(":", 1) for line in text.splitlines())
    port = free_port()
    proc = subprocess.Popen(
        [str(MOSQUITTO), "-c", str(production_conf(files, port))],
        stdout=subprocess.DEVNULL,
        stderr=open(files / "mosquitto.log", "ab"),  # noqa: SIM115
    )
    try:
        wait_for(lambda: port_open(port) or proc.poll() is not None, timeout=10)
        assert proc.poll() is None, (files / "mosquitto.log").read_text()
        yield port, creds
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def test_the_gateway_is_granted_each_grouped_names_command_topic(tmp_path: Path) -> None:
    path = tmp_path / "building.yaml"
    path.write_text(BUILDING)
    settings = load_settings(building=path, database_url=f"sqlite:///{tmp_path}/g.db")
    plan = plan_acl(load_building(path), ProfileRegistry.load(ROOT / "device_profiles"), settings)
    writes = set(plan.gateway_write)
    assert {"z2m/floor1/room2/pir/set", "zigbee2mqtt/floor2/lab/lamp/set", "z2m/+/set"} <= writes
    assert not [t for t in writes if t.endswith("#")]  # never the bridge's whole tree


def test_the_gateway_commands_a_grouped_name_and_its_bridge_receives_it(
    broker: tuple[int, dict[str, str]],
) -> None:
    port, creds = broker
    gw = Client(port, "gateway", creds["gateway"])
    one = Client(port, "zigbee-1", creds["zigbee-1"])
    two = Client(port, "zigbee-2", creds["zigbee-2"])
    try:
        one.subscribe("z2m/#")  # what zigbee2mqtt itself subscribes to (lib/mqtt.ts)
        two.subscribe("zigbee2mqtt/#")
        # the bridge's API is not the gateway's to write
        gw.publish("z2m/bridge/request/permit_join", '{"value": true}')
        gw.publish("z2m/floor1/room2/pir/set", '{"occupancy_timeout": 60}')
        gw.publish("z2m/lab_pir/set", '{"occupancy_timeout": 60}')
        gw.publish("zigbee2mqtt/floor2/lab/lamp/set", '{"state": "OFF"}')
        wait_for(lambda: len(one.got) >= 2 and two.got)
        assert one.got == [
            ("z2m/floor1/room2/pir/set", b'{"occupancy_timeout": 60}'),
            ("z2m/lab_pir/set", b'{"occupancy_timeout": 60}'),
        ]
        assert two.got == [("zigbee2mqtt/floor2/lab/lamp/set", b'{"state": "OFF"}')]
    finally:
        for c in (gw, one, two):
            c.close()


def test_a_bridge_still_cannot_publish_another_bridges_grouped_names(
    broker: tuple[int, dict[str, str]],
) -> None:
    port, creds = broker
    gw = Client(port, "gateway", creds["gateway"])
    one = Client(port, "zigbee-1", creds["zigbee-1"])
    two = Client(port, "zigbee-2", creds["zigbee-2"])
    try:
        gw.subscribe("#")
        two.subscribe("zigbee2mqtt/#")
        one.publish("zigbee2mqtt/floor2/lab/lamp", '{"state": "ON"}')  # zigbee-2's device
        one.publish("zigbee2mqtt/floor2/lab/lamp/set", '{"state": "ON"}')  # its command
        one.publish("zigbee2mqtt/bridge/state", '{"state": "offline"}')  # zigbee-2's will
        one.publish("z2m/floor1/room2/pir", '{"occupancy": true}')  # its own: the marker
        wait_for(lambda: "z2m/floor1/room2/pir" in gw.topics())
        assert gw.topics() == ["z2m/floor1/room2/pir"]
        assert two.got == []  # nor did zigbee-2 get a command zigbee-1 sent as the gateway
    finally:
        for c in (gw, one, two):
            c.close()
