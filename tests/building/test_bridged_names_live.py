"""A real ``gateway run`` behind a real Mosquitto, for a building as a zigbee2mqtt and ChirpStack
site writes it: the zigbee2mqtt bridge on ``mqtt.base_topic: z2m`` (given once, on the bridge),
a friendly name grouped with '/', a LoRaWAN device heard only by its join, and OctoPrint on the
plugin's default base topic."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support import MOSQUITTO, Broker, GatewayProcess, Publisher, wait_for

pytestmark = pytest.mark.skipif(MOSQUITTO is None, reason="needs the mosquitto binary")

BUILDING = """\
site: {id: live-names, name: Names, timezone: UTC}
floors:
  - id: f1
    name: First
    spaces:
      - {id: room2, name: Room 2, type: meeting_room, capacity: 6}
      - {id: lab, name: Lab, type: open_area, capacity: 10}
bridges:
  - {id: zigbee-f1, profile: zigbee2mqtt, base_topic: z2m}
devices:
  - {id: floor1/room2/pir, profile: zigbee2mqtt, space: room2}
  - {id: 70b3d52dd300ed31, profile: chirpstack, space: lab}
  - {id: octoPrint, profile: octoprint, space: lab}
"""
APP = "application/59bcc5a7-59e2-4481-9615-fc4e58791915/device/70b3d52dd300ed31"


def _devices(gp: GatewayProcess) -> dict[str, Any]:
    return {d["id"]: d for d in gp.get("/api/v1/devices")["data"]}


def _space(gp: GatewayProcess, sid: str) -> str:
    return str(gp.get(f"/api/v1/spaces/{sid}")["state"])


def test_bridged_names_and_default_topics_through_a_real_broker(
    broker: Broker, tmp_path: Path
) -> None:
    building = tmp_path / "building.yaml"
    building.write_text(BUILDING, encoding="utf-8")
    gp = GatewayProcess(broker.url, tmp_path, GATEWAY_BUILDING=str(building)).start()
    pub = Publisher(broker.port, client_id=f"names-{gp.port}")
    try:
        # Koenkk/zigbee2mqtt.io docs/devices/RTCGQ11LM.md, under the site's base topic
        pir = {"battery": 100, "illuminance_lux": 15, "linkquality": 120, "occupancy": True}
        pub.publish("z2m/floor1/room2/pir", json.dumps(pir))
        wait_for(lambda: _space(gp, "room2") == "occupied")
        assert _devices(gp)["floor1/room2/pir"]["readings"]["motion"]["value"] is True

        # chirpstack api/proto/integration/integration.proto JoinEvent: heard, not read
        pub.publish(f"{APP}/event/join", json.dumps({"devAddr": "01fb24a8"}))
        wait_for(lambda: _devices(gp)["70b3d52dd300ed31"]["last_seen"] is not None)
        lora = _devices(gp)["70b3d52dd300ed31"]
        assert lora["bound"] is True and lora["readings"] == {}

        # OctoPrint/OctoPrint-MQTT README.md: the default base topic names no printer
        started = {"_timestamp": 1517190629, "_event": "PrintStarted", "origin": "local",
                   "file": "/home/pi/.octoprint/uploads/case_bp_3.6.v1.0.gco",
                   "filename": "case_bp_3.6.v1.0.gco"}  # fmt: skip
        pub.publish("octoPrint/event/PrintStarted", json.dumps(started))
        wait_for(lambda: "printer_state" in _devices(gp)["octoPrint"]["readings"])
        assert _devices(gp)["octoPrint"]["readings"]["printer_state"]["value"] == "printing"

        # the bridge's state topic follows its base topic: its offline takes the PIR offline
        pub.publish("z2m/bridge/state", json.dumps({"state": "offline"}))
        wait_for(lambda: _devices(gp)["floor1/room2/pir"]["online"] is False)
        assert _space(gp, "room2") == "unknown"
        dead = gp.get("/api/v1/dead-letters")
        assert dead["count"] == 0, dead
        assert "Traceback" not in gp.read_log()
    finally:
        pub.close()
        gp.stop()
