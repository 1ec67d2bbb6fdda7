"""A bridge's state through the real pipeline and engine: its offline takes its devices with it.

Payload shapes, from the bridges' own sources:

- zigbee2mqtt ``<base_topic>/bridge/state``: ``{"state": "online"}`` / ``{"state": "offline"}``
  in current releases, plain ``online`` / ``offline`` in older ones (and with
  ``advanced.legacy_availability_payload``); retained, and its MQTT last will
  (https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html#zigbee2mqtt-bridge-state;
  Koenkk/zigbee2mqtt lib/mqtt.ts, ``will: {topic: <base>/bridge/state, ...}``).
- ChirpStack Gateway Bridge ``gateway/<id>/state/conn``: a ``gw.ConnState``
  (chirpstack/chirpstack api/proto/gw/gw.proto: ``string gateway_id = 3``, ``State state = 2``,
  ``OFFLINE = 0, ONLINE = 1``) as JSON (``{"gatewayId": ..., "state": "ONLINE"}``, the test of
  chirpstack-gateway-bridge's MQTT backend asserts ``gw.ConnState{State: ONLINE}`` there) or
  protobuf.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gateway.building import load_building
from gateway.events import Event
from gateway.ingest import Pipeline, RawMessage
from gateway.ingest.bridges import read_state, state_topics
from gateway.occupancy import OccupancyEngine
from gateway.profiles import ProfileRegistry
from gateway.settings import OccupancySettings
from gateway.state.config import Current, Snapshot
from gateway.state.devices import DeviceLive, DeviceTable
from gateway.store import BatchWriter, create_db_engine, init_db
from gateway.store.sync import sync_building
from gateway.store.tables import Device
from tests.support import FIXTURES, ROOT

T0 = 1_764_320_400.0
STATE = "zigbee2mqtt/bridge/state"
Z2M_DEVICES = ("z-orion-motion", "z-focus-motion", "z-booth-1-presence", "z-office-101-temp")
# ConnState as protobuf: field 3 (gateway_id, a string), field 2 (state, a varint)
GW_ID = b"0016c001f153a14c"
CONN_ONLINE = b"\x1a\x10" + GW_ID + b"\x10\x01"
CONN_OFFLINE = b"\x1a\x10" + GW_ID  # OFFLINE = 0 is proto3's default: not on the wire


class Site:
    """The small test building through a real pipeline, store and occupancy engine."""

    def __init__(self, tmp: Path, building_file: Path = FIXTURES / "building-small.yaml") -> None:
        self.tmp = tmp
        self.building = load_building(building_file)
        self.registry = ProfileRegistry.load(ROOT / "device_profiles")
        self.db = create_db_engine(f"sqlite:///{tmp}/b.db")
        init_db(self.db)
        sync_building(self.db, self.building)
        self.engine = OccupancyEngine(self.building, OccupancySettings(), T0)
        self.applied: list[Event] = []
        self.devices = DeviceTable()
        self.pipeline = self._pipeline(self.devices)
        self.mid = 0
        self.now = T0

    def apply_events(self, evs: list[Event], now: float) -> None:
        self.applied.extend(evs)
        self.engine.apply_all(evs, now)

    def _pipeline(self, devices: DeviceTable) -> Pipeline:
        return Pipeline(
            Current(Snapshot(self.building, self.registry)),
            BatchWriter(self.db),
            devices=devices,
            sink=self,
            clock=lambda: self.now,
        )

    def send(self, topic: str, payload: Any) -> None:
        self.mid += 1
        self.now += 1.0
        if isinstance(payload, bytes):
            data = payload
        elif isinstance(payload, str):
            data = payload.encode()
        else:
            data = json.dumps(payload).encode()
        self.pipeline.process([RawMessage(topic, data, self.now, qos=1, mid=self.mid)])

    def space(self, sid: str) -> str:
        return self.engine.spaces[sid].state

    def online(self, dev: str) -> bool | None:
        return self.devices[dev].online


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path)


def occupy(site: Site) -> None:
    """Booth 1's radar sees someone; Orion has a counter and a PIR."""
    for dev in Z2M_DEVICES:
        site.send(f"zigbee2mqtt/{dev}/availability", {"state": "online"})
    site.send("zigbee2mqtt/z-booth-1-presence", {"presence": True, "linkquality": 90})
    site.send("zigbee2mqtt/z-orion-motion", {"occupancy": True, "linkquality": 120})
    site.send("ref/counter/pc-orion", {"count": 3})
    site.send("zigbee2mqtt/bridge/state", {"state": "online"})
    assert site.space("booth-1") == "occupied"
    assert site.space("orion") == "occupied"


@pytest.mark.parametrize(
    ("offline", "online"),
    [({"state": "offline"}, {"state": "online"}), ("offline", "online")],
    ids=["json", "legacy-plain"],
)
def test_bridge_offline_takes_every_device_offline_and_online_restores(
    site: Site, offline: Any, online: Any
) -> None:
    occupy(site)
    site.applied.clear()
    site.send(STATE, offline)
    gone = {e.device for e in site.applied if e.quantity == "online" and e.value is False}
    assert gone == set(Z2M_DEVICES)
    assert all(e.attrs == {"bridge": "zigbee2mqtt"} for e in site.applied)
    assert all(site.online(d) is False for d in Z2M_DEVICES)
    assert site.space("booth-1") == "unknown"  # its only sensor is behind the bridge
    assert site.space("orion") == "occupied"  # the counter connects itself: still covers it
    assert site.devices["pc-orion"].online is None

    site.send(STATE, online)
    assert all(site.online(d) is True for d in Z2M_DEVICES)
    assert site.space("booth-1") == "occupied"  # its last evidence counts again


def test_a_device_offline_of_its_own_stays_offline_when_the_bridge_returns(site: Site) -> None:
    occupy(site)
    site.send("zigbee2mqtt/z-focus-motion/availability", {"state": "offline"})
    site.send(STATE, {"state": "offline"})
    site.send(STATE, {"state": "online"})
    assert site.online("z-focus-motion") is False
    assert site.online("z-booth-1-presence") is True


def test_what_a_device_says_while_its_bridge_is_down_waits_for_the_bridge(site: Site) -> None:
    occupy(site)
    site.send(STATE, {"state": "offline"})
    # retained messages replayed after a reconnect: stored, but the device stays offline
    site.applied.clear()
    site.send("zigbee2mqtt/z-booth-1-presence/availability", {"state": "online"})
    site.send("zigbee2mqtt/z-booth-1-presence", {"presence": True, "linkquality": 80})
    assert site.online("z-booth-1-presence") is False
    assert site.space("booth-1") == "unknown"
    assert [e.quantity for e in site.applied] == ["presence", "online"]
    site.send("zigbee2mqtt/z-focus-motion/availability", {"state": "offline"})
    site.send(STATE, {"state": "online"})
    assert site.online("z-booth-1-presence") is True
    assert site.online("z-focus-motion") is False  # it said offline meanwhile
    assert site.space("booth-1") == "occupied"


def test_a_bridge_online_at_start_vouches_for_nobody(site: Site) -> None:
    """The retained online a gateway finds at start holds nothing to release: a device that
    never said its availability is still judged by its silence, not made online for good."""
    site.send("zigbee2mqtt/z-booth-1-presence", {"presence": True, "linkquality": 90})
    site.applied.clear()
    site.send(STATE, {"state": "online"})
    assert site.applied == []
    assert site.online("z-booth-1-presence") is None
    assert site.pipeline.bridges.view(site.building)["zigbee2mqtt"]["state"] == "online"


def test_a_device_that_never_said_goes_back_to_being_judged_by_silence(site: Site) -> None:
    site.send(STATE, {"state": "online"})
    site.send("zigbee2mqtt/z-booth-1-presence", {"presence": True, "linkquality": 90})
    site.send(STATE, {"state": "offline"})
    assert site.online("z-booth-1-presence") is False
    assert site.space("booth-1") == "unknown"
    site.send(STATE, {"state": "online"})
    assert site.online("z-booth-1-presence") is None
    (radar,) = site.engine.spaces["booth-1"].sensors
    assert radar.online is None  # not online for good: stale after its silence timeout
    assert site.space("booth-1") == "occupied"
    # it speaks again: still judged by silence, not made online for good
    site.send("zigbee2mqtt/z-booth-1-presence", {"presence": False, "linkquality": 90})
    assert site.online("z-booth-1-presence") is None
    assert radar.online is None
    assert site.space("booth-1") == "vacant"


def test_a_repeated_state_changes_nothing(site: Site) -> None:
    occupy(site)
    site.send(STATE, {"state": "offline"})
    site.applied.clear()
    site.send(STATE, "offline")  # the retained state replayed, legacy or not
    assert site.applied == []
    site.send(STATE, b"")  # its retained message cleared
    assert site.applied == []
    assert site.online("z-booth-1-presence") is False


def test_an_unreadable_bridge_state_is_refused_counted_and_changes_nothing(site: Site) -> None:
    occupy(site)
    before = site.pipeline.stats.dead_lettered
    site.applied.clear()
    for bad in ({"state": "starting"}, "maybe", b"\xff\xfe\x00", [1]):
        site.send(STATE, bad)
    assert site.applied == []
    assert site.pipeline.stats.bridge_states_refused == 4
    assert site.pipeline.stats.dead_lettered == before + 4
    assert site.online("z-booth-1-presence") is True
    assert site.pipeline.bridges.view(site.building)["zigbee2mqtt"]["state"] == "online"


def test_a_restart_while_the_bridge_is_down_keeps_each_devices_own_availability(
    site: Site,
) -> None:
    occupy(site)
    site.send("zigbee2mqtt/z-focus-motion/availability", {"state": "offline"})
    site.send(STATE, {"state": "offline"})
    # a new gateway process: devices as stored (read as Gateway._load_devices reads them),
    # then the bridge's retained offline arrives again
    devices: dict[str, DeviceLive] = {}
    with site.db.connect() as conn:
        for r in conn.execute(select(Device)).all():
            live = devices[r.id] = DeviceLive(r.id, r.profile, r.space, True, r.online)
            live.readings = dict(r.readings or {})
    assert devices["z-booth-1-presence"].online is False
    site.devices = DeviceTable(devices.values())
    site.pipeline = site._pipeline(site.devices)
    assert site.pipeline.bridges.held >= {"z-booth-1-presence", "z-focus-motion"}
    site.send(STATE, {"state": "offline"})
    site.send(STATE, {"state": "online"})
    assert site.devices["z-booth-1-presence"].online is True
    assert site.devices["z-focus-motion"].online is False


def test_a_restart_after_a_release_to_silence_holds_until_the_bridge_says_online(
    site: Site,
) -> None:
    site.send(STATE, {"state": "online"})
    site.send("zigbee2mqtt/z-booth-1-presence", {"presence": True, "linkquality": 90})
    site.send(STATE, {"state": "offline"})
    site.send(STATE, {"state": "online"})
    devices: dict[str, DeviceLive] = {}
    with site.db.connect() as conn:
        for r in conn.execute(select(Device)).all():
            live = devices[r.id] = DeviceLive(r.id, r.profile, r.space, True, r.online)
            live.readings = dict(r.readings or {})
    site.devices = DeviceTable(devices.values())
    site.pipeline = site._pipeline(site.devices)
    assert "z-booth-1-presence" in site.pipeline.bridges.held
    site.send(STATE, {"state": "online"})  # the retained state, found at start
    assert site.devices["z-booth-1-presence"].online is None


def test_reading_the_payload_shapes() -> None:
    assert read_state(b'{"state":"offline"}') is False
    assert read_state(b'{"state":"online"}') is True
    assert read_state(b"offline") is False
    assert read_state(b"online") is True
    assert read_state(b'{"gatewayId":"0016c001f153a14c","state":"ONLINE"}') is True
    assert read_state(b'{"gatewayId":"0016c001f153a14c","state":"OFFLINE"}') is False
    assert read_state(b'{"gatewayId":"0016c001f153a14c"}') is False  # default left out
    assert read_state(CONN_ONLINE) is True
    assert read_state(CONN_OFFLINE) is False
    for bad in (b"", b"{", b'{"state":true}', b'{"status":"ok"}', b"\x10\x05", b"\x1a\x40ab"):
        assert read_state(bad) is None, bad


def test_the_base_topic_setting_moves_the_state_topic() -> None:
    building = load_building(FIXTURES / "building-small.yaml")
    assert list(state_topics(building)) == [STATE]
    assert list(state_topics(building, "z2m")) == ["z2m/bridge/state"]


def test_a_chirpstack_gateway_state_ties_the_devices_of_its_bridge(tmp_path: Path) -> None:
    text = (FIXTURES / "building-small.yaml").read_text()
    text = text.replace(
        "devices:\n",
        "bridges:\n"
        "  - {id: lora, profile: chirpstack, state_topic: gateway/0016c001f153a14c/state/conn}\n"
        "devices:\n"
        "  - {id: 24e124136b502217, profile: chirpstack, space: open-2}\n",
        1,
    )
    path = tmp_path / "building.yaml"
    path.write_text(text)
    site = Site(tmp_path, path)
    topic = "gateway/0016c001f153a14c/state/conn"
    site.send(topic, CONN_OFFLINE)
    assert site.online("24e124136b502217") is False
    assert "env-open-2" not in site.devices  # connects itself: untouched by the gateway state
    site.send(topic, b'{"gatewayId":"0016c001f153a14c","state":"ONLINE"}')
    assert site.online("24e124136b502217") is None  # it never said: its silence judges it
    view = site.pipeline.bridges.view(site.building)
    assert view["lora"] == {
        "state": "online",
        "since": site.now,
        "state_topic": topic,
        "devices": 1,
    }
    assert view["zigbee2mqtt"]["state"] == "unknown"


# Devices that connect themselves say it with their own MQTT last will (retained):
# Tasmota ``tele/<topic>/LWT`` Online / Offline (tasmota.github.io/docs/MQTT/, "LWT"),
# ESPHome ``<node>/status`` online / offline (esphome.io/components/mqtt.html, birth_message
# and will_message), Shelly Gen2 ``<id>/online`` true / false (shelly-api-docs.shelly.cloud
# gen2 ComponentsAndServices/Mqtt: the "online" topic and its last will).
SELF_CONNECTED = """\
  - {id: radar-store, profile: esphome, space: unwired}
  - {id: co2-meeting-a, profile: tasmota, space: focus}
  - {id: shellyplusht-b8d61a8b17cc, profile: shelly-gen2, space: lounge}
"""


@pytest.mark.parametrize(
    ("device", "lwt", "offline", "online"),
    [
        ("radar-store", "radar-store/status", "offline", "online"),
        ("co2-meeting-a", "tele/co2-meeting-a/LWT", "Offline", "Online"),
        ("shellyplusht-b8d61a8b17cc", "shellyplusht-b8d61a8b17cc/online", "false", "true"),
    ],
    ids=["esphome", "tasmota", "shelly"],
)
def test_a_self_connected_devices_last_will_takes_it_offline(
    tmp_path: Path, device: str, lwt: str, offline: str, online: str
) -> None:
    text = (FIXTURES / "building-small.yaml").read_text()
    path = tmp_path / "building.yaml"
    path.write_text(text.replace("devices:\n", "devices:\n" + SELF_CONNECTED, 1))
    site = Site(tmp_path, path)
    site.send(lwt, online)
    assert site.online(device) is True
    site.send("radar-store/binary_sensor/presence/state", "ON")  # ESPHome LD2410 presence
    assert site.space("unwired") == "occupied"
    site.send(lwt, offline)
    assert site.online(device) is False
    evidence = {s.device: s for sp in site.engine.spaces.values() for s in sp.sensors}
    assert evidence[device].online is False
    if device == "radar-store":  # the store room's one sensor: it is unknown, not vacant
        assert site.space("unwired") == "unknown"
    else:
        assert site.space("unwired") == "occupied"
    assert site.pipeline.bridges.down(device, site.building) is None  # no bridge of its own
