"""Devices as their bridges name them, bound in the building file and read end to end:
zigbee2mqtt friendly names with '/', a ChirpStack DevEUI heard only by join and status, and
the OctoPrint printer on the plugin's default base topic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.building import load_building
from gateway.errors import BuildingError
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
BUILDING = """\
site: {id: s1, timezone: UTC}
floors:
  - id: f1
    spaces:
      - {id: room2, type: meeting_room, capacity: 6}
      - {id: lab, type: open_area, capacity: 10}
devices:
  - {id: floor1/room2/pir, profile: zigbee2mqtt, space: room2}
  - {id: floor1/room2, profile: zigbee2mqtt, space: room2}
  - {id: Czujnik CO2 75, profile: zigbee2mqtt, space: lab}
  - {id: 70b3d52dd300ed31, profile: chirpstack, space: lab}
  - {id: octoPrint, profile: octoprint, space: lab}
"""


class Run:
    def __init__(self, tmp: Path, text: str = BUILDING) -> None:
        path = tmp / "building.yaml"
        path.write_text(text, encoding="utf-8")
        self.building = load_building(path)
        db = create_db_engine(f"sqlite:///{tmp}/b.db")
        init_db(db)
        sync_building(db, self.building)
        self.events: list[Event] = []
        self.devices = DeviceTable()
        self.pipeline = Pipeline(
            Current(Snapshot(self.building, ProfileRegistry.load(ROOT / "device_profiles"))),
            BatchWriter(db),
            devices=self.devices,
            sink=MemorySink(self.events),
            clock=lambda: T0,
        )
        self.mid = 0

    def feed(self, topic: str, payload: object) -> list[Event]:
        self.mid += 1
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        before = len(self.events)
        self.pipeline.process([RawMessage(topic, data, T0, qos=1, mid=self.mid)])
        return self.events[before:]


def test_a_friendly_name_with_slashes_is_bound_and_read(tmp_path: Path) -> None:
    run = Run(tmp_path)
    assert run.building.devices["floor1/room2/pir"].space == "room2"
    # Koenkk/zigbee2mqtt.io docs/devices/RTCGQ11LM.md, published under the grouped name
    got = run.feed(
        "zigbee2mqtt/floor1/room2/pir",
        {"battery": 100, "illuminance_lux": 15, "linkquality": 120, "occupancy": True},
    )
    motion = [e for e in got if e.quantity == "motion"]
    assert [(e.device, e.space, e.value) for e in motion] == [("floor1/room2/pir", "room2", True)]
    # its availability is the same device, and the shorter name is another device
    avail = run.feed("zigbee2mqtt/floor1/room2/pir/availability", {"state": "offline"})
    assert [(e.device, e.quantity, e.value) for e in avail] == [
        ("floor1/room2/pir", "online", False)
    ]
    other = run.feed("zigbee2mqtt/floor1/room2", {"contact": False})
    assert [(e.device, e.quantity, e.value) for e in other] == [
        ("floor1/room2", "contact_open", True)
    ]
    assert run.devices["floor1/room2/pir"].bound and run.devices["floor1/room2"].bound
    assert run.feed("zigbee2mqtt/floor1/room2/pir/set", {"state": "ON"}) == []


def test_join_and_status_keep_a_lorawan_device_seen(tmp_path: Path) -> None:
    run = Run(tmp_path)
    app = "application/59bcc5a7-59e2-4481-9615-fc4e58791915/device/70b3d52dd300ed31"
    # a join is heard: the device is seen (its silence timeout judges it), no event is made
    # and no `online` is claimed that would hold a silent LoRaWAN sensor online forever
    assert run.feed(f"{app}/event/join", {"time": "2024-01-26T20:10:02+00:00"}) == []
    live = run.devices["70b3d52dd300ed31"]
    assert (live.bound, live.last_seen, live.online) == (True, T0, None)
    # BenAhrdt/ioBroker.lorawan main.js: a ChirpStack v4 status event
    status = run.feed(
        f"{app}/event/status",
        {
            "time": "2024-01-26T20:18:45.299871+00:00",
            "margin": 7,
            "externalPowerSource": False,
            "batteryLevelUnavailable": False,
            "batteryLevel": 85.826775,
        },
    )
    assert {e.quantity: e.value for e in status} == {"battery_pct": 85.826775}
    assert run.devices["70b3d52dd300ed31"].online is None


def test_the_default_octoprint_topic_is_the_printer_bound_as_octoPrint(tmp_path: Path) -> None:
    run = Run(tmp_path)
    # OctoPrint/OctoPrint-MQTT README.md, Events table
    got = run.feed(
        "octoPrint/event/PrintStarted",
        {"_timestamp": 1517190629, "_event": "PrintStarted", "origin": "local",
         "file": "/home/pi/.octoprint/uploads/case_bp_3.6.v1.0.gco",
         "filename": "case_bp_3.6.v1.0.gco"},
    )  # fmt: skip
    assert {(e.device, e.space, e.quantity, e.value) for e in got} == {
        ("octoPrint", "lab", "print_job", "released"),
        ("octoPrint", "lab", "printer_state", "printing"),
    }


@pytest.mark.parametrize(
    ("device", "error"),
    [
        ("{id: floor1//pir, profile: zigbee2mqtt}", "expected a zigbee2mqtt friendly name"),
        ("{id: floor1/pir/, profile: zigbee2mqtt}", "empty levels"),
        ("{id: floor1/+/pir, profile: zigbee2mqtt}", "without '+', '#'"),
        ("{id: lab/mk4, profile: octoprint}", "expected an id without '/'"),
        ("{id: a/b, profile: tasmota}", "expected an id without '/'"),
    ],
)
def test_slashes_only_in_zigbee2mqtt_friendly_names(
    tmp_path: Path, device: str, error: str
) -> None:
    path = tmp_path / "b.yaml"
    path.write_text(BUILDING + f"  - {device}\n", encoding="utf-8")
    with pytest.raises(BuildingError) as err:
        load_building(path)
    assert error in str(err.value)
    assert ":13: devices[5].id:" in str(err.value)
