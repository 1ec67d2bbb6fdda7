"""zigbee2mqtt's base topic is given once, on the bridge in the building file; the profile's
topics, the bridge's state topic and its ACL grants follow. The settings' old
profile_variables.zigbee2mqtt.base_topic is a deprecated alias that moves the bridges too."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from gateway.building import Building, load_building
from gateway.building.base_topic import with_base_topic
from gateway.cli import main
from gateway.errors import ConfigError
from gateway.events import Event
from gateway.ingest import Pipeline, RawMessage
from gateway.ingest.ports import MemorySink
from gateway.profiles import ProfileRegistry
from gateway.state.config import Current, Snapshot
from gateway.state.devices import DeviceTable
from gateway.store import BatchWriter, create_db_engine, init_db
from gateway.store.sync import sync_building
from tests.support import ROOT

T0 = 1_764_320_400.0
HEAD = """\
site: {id: s1, timezone: UTC}
floors:
  - id: f1
    spaces:
      - {id: room2, type: meeting_room, capacity: 6}
"""
DEVICES = """\
devices:
  - {id: floor1/room2/pir, profile: zigbee2mqtt, space: room2}
"""
ON_BRIDGE = HEAD + "bridges:\n  - {id: zb, profile: zigbee2mqtt, base_topic: z2m}\n" + DEVICES
# Koenkk/zigbee2mqtt.io docs/devices/RTCGQ11LM.md
PIR = {"battery": 100, "illuminance_lux": 15, "linkquality": 120, "occupancy": True}
ALIAS = {"zigbee2mqtt": {"base_topic": "z2m"}}


def building(tmp: Path, text: str) -> Building:
    path = tmp / "building.yaml"
    path.write_text(text, encoding="utf-8")
    return load_building(path)


class Run:
    """The real pipeline on the building and profiles as the gateway resolves them."""

    def __init__(self, tmp: Path, b: Building, variables: dict[str, dict[str, str]]) -> None:
        db = create_db_engine(f"sqlite:///{tmp}/t.db")
        init_db(db)
        sync_building(db, b)
        self.events: list[Event] = []
        self.pipeline = Pipeline(
            Current(Snapshot(b, ProfileRegistry.load(ROOT / "device_profiles", variables))),
            BatchWriter(db),
            devices=DeviceTable(),
            sink=MemorySink(self.events),
            clock=lambda: T0,
        )
        self.devices = self.pipeline.devices
        self.mid = 0

    def feed(self, topic: str, payload: object) -> list[tuple[str, str, object]]:
        self.mid += 1
        before = len(self.events)
        data = json.dumps(payload).encode()
        self.pipeline.process([RawMessage(topic, data, T0, qos=1, mid=self.mid)])
        return [(e.device, e.quantity, e.value) for e in self.events[before:]]


def test_the_bridge_base_topic_moves_the_profile_and_the_state_topic(tmp_path: Path) -> None:
    b, variables = with_base_topic(building(tmp_path, ON_BRIDGE), {})
    assert variables == ALIAS
    assert set(b.bridge_states) == {"z2m/bridge/state"}
    run = Run(tmp_path, b, variables)
    assert ("floor1/room2/pir", "motion", True) in run.feed("z2m/floor1/room2/pir", PIR)
    assert run.feed("zigbee2mqtt/floor1/room2/pir", PIR) == []  # not this site's base topic
    # zigbee2mqtt 1.32+ bridge/state payload: the bridge's offline takes its device offline
    assert run.feed("z2m/bridge/state", {"state": "offline"}) == [
        ("floor1/room2/pir", "online", False)
    ]


def test_the_old_setting_still_moves_the_implicit_bridge_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="gateway.building.base_topic"):
        b, variables = with_base_topic(building(tmp_path, HEAD + DEVICES), ALIAS)
    assert "profile_variables.zigbee2mqtt.base_topic is deprecated" in caplog.text
    assert variables == ALIAS
    bridge = b.bridges["zigbee2mqtt"]
    assert (bridge.base_topic, bridge.state_topic, bridge.implicit) == (
        "z2m",
        "z2m/bridge/state",
        True,
    )
    assert [d.id for d in b.bridged["zigbee2mqtt"]] == ["floor1/room2/pir"]
    run = Run(tmp_path, b, variables)
    assert run.feed("z2m/bridge/state", {"state": "offline"}) == [
        ("floor1/room2/pir", "online", False)
    ]


def test_the_old_setting_agreeing_with_the_bridge_is_accepted(tmp_path: Path) -> None:
    b, variables = with_base_topic(building(tmp_path, ON_BRIDGE), ALIAS)
    assert variables == ALIAS and b.bridges["zb"].base_topic == "z2m"


def test_the_old_setting_contradicting_the_bridge_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        with_base_topic(building(tmp_path, ON_BRIDGE), {"zigbee2mqtt": {"base_topic": "zb2"}})
    assert "is 'zb2' but bridge 'zb'" in str(err.value)
    assert "base_topic 'z2m'" in str(err.value)


def test_bridges_on_different_base_topics_cannot_be_decoded_together(tmp_path: Path) -> None:
    text = (
        HEAD
        + "bridges:\n  - {id: zb-a, profile: zigbee2mqtt}\n"
        + "  - {id: zb-b, profile: zigbee2mqtt, base_topic: z2m-east}\n"
        + "devices:\n  - {id: pir-a, profile: zigbee2mqtt, space: room2, bridge: zb-a}\n"
        + "  - {id: pir-b, profile: zigbee2mqtt, space: room2, bridge: zb-b}\n"
    )
    b = building(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        with_base_topic(b, {})
    assert "zb-a (zigbee2mqtt), zb-b (z2m-east)" in str(err.value)
    # the ACL moves the profile's topics per bridge: the profile keeps its default there
    assert with_base_topic(b, {}, one_base=False) == (b, {})


def test_the_default_base_topic_sets_no_variable(tmp_path: Path) -> None:
    b = building(tmp_path, HEAD + DEVICES)
    assert with_base_topic(b, {"octoprint": {"printer": "mk4"}}) == (
        b,
        {"octoprint": {"printer": "mk4"}},
    )


def test_deploy_acl_grants_the_bridge_its_base_topic_from_the_old_setting(
    tmp_path: Path,
) -> None:
    (tmp_path / "building.yaml").write_text(HEAD + DEVICES, encoding="utf-8")
    (tmp_path / "gateway.yaml").write_text(json.dumps({"profile_variables": ALIAS}))
    out = tmp_path / "mqtt"
    argv = ["--config", str(tmp_path / "gateway.yaml"), "deploy", "acl", "--building",
            str(tmp_path / "building.yaml"), "--out-dir", str(out)]  # fmt: skip
    assert main(argv) == 0
    acl = (out / "acl").read_text()
    assert "topic write z2m/floor1/room2/pir" in acl
    assert "z2m/bridge/#" in acl
    assert "zigbee2mqtt/" not in acl
