"""A real ``gateway run`` behind a real Mosquitto: a zigbee2mqtt bridge that dies takes its devices.

zigbee2mqtt publishes ``zigbee2mqtt/bridge/state`` retained and registers it as its MQTT last
will: ``{"state": "offline"}`` in current releases, plain ``offline`` in older ones
(https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html#zigbee2mqtt-bridge-state;
Koenkk/zigbee2mqtt lib/mqtt.ts: ``will: {topic: <base>/bridge/state, payload:
availabilityPayload('offline'), retain: true, qos: 1}``). Here a client plays the bridge: it
connects with that last will and then dies without a DISCONNECT, so the broker itself
publishes the offline, as it does when the zigbee2mqtt process or its host goes away.
"""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tests.support import FIXTURES, Broker, GatewayProcess, Publisher, wait_for

STATE = "zigbee2mqtt/bridge/state"


class FakeZigbee2mqtt:
    """One MQTT client for every Zigbee device, with zigbee2mqtt's last will."""

    def __init__(self, port: int, client_id: str, legacy: bool) -> None:
        self.legacy = legacy
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self.client.will_set(STATE, self._state("offline"), qos=1, retain=True)
        self.client.connect("127.0.0.1", port, keepalive=5)
        self.client.loop_start()
        self.publish(STATE, self._state("online"), retain=True)

    def _state(self, word: str) -> str:
        return word if self.legacy else json.dumps({"state": word})

    def publish(self, topic: str, payload: Any, retain: bool = False) -> None:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        self.client.publish(topic, data, qos=1, retain=retain).wait_for_publish(timeout=5)

    def die(self) -> None:
        """Drop the connection without a DISCONNECT: the broker sends the last will."""
        sock = self.client.socket()
        self.client.loop_stop()
        assert isinstance(sock, socket.socket)
        sock.shutdown(socket.SHUT_RDWR)
        sock.close()


def _device(gp: GatewayProcess, dev: str) -> Any:
    return gp.get(f"/api/v1/devices/{dev}")


def _space(gp: GatewayProcess, sid: str) -> str:
    return str(gp.get(f"/api/v1/spaces/{sid}")["state"])


def _run(broker: Broker, tmp_path: Path, legacy: bool) -> None:
    gp = GatewayProcess(broker.url, tmp_path).start()
    z2m = FakeZigbee2mqtt(broker.port, f"z2m-{gp.port}", legacy)
    again: FakeZigbee2mqtt | None = None
    try:
        z2m.publish("zigbee2mqtt/z-booth-1-presence", {"presence": True, "linkquality": 90})
        wait_for(lambda: _space(gp, "booth-1") == "occupied")
        wait_for(lambda: gp.get("/api/v1/health")["bridges"]["zigbee2mqtt"]["state"] == "online")

        z2m.die()
        wait_for(lambda: _device(gp, "z-booth-1-presence")["online"] is False)
        assert _space(gp, "booth-1") == "unknown"  # its one sensor is behind the dead bridge
        assert all(
            _device(gp, d)["online"] is False for d in ("z-orion-motion", "z-office-101-temp")
        )
        bridge = gp.get("/api/v1/health")["bridges"]["zigbee2mqtt"]
        assert bridge["state"] == "offline" and bridge["devices"] == 4, bridge

        # zigbee2mqtt starts again: its online restores the devices, the radar's evidence counts
        again = FakeZigbee2mqtt(broker.port, f"z2m-{gp.port}-again", legacy)
        wait_for(lambda: _device(gp, "z-booth-1-presence")["online"] is True)
        wait_for(lambda: _space(gp, "booth-1") == "occupied")
        assert gp.get("/api/v1/health")["bridges"]["zigbee2mqtt"]["state"] == "online"
        assert "Traceback" not in gp.read_log()
    finally:
        if again is not None:
            again.publish(STATE, "", retain=True)  # clear the retained state for the next test
            again.client.disconnect()
            again.client.loop_stop()
        gp.stop()


def test_the_bridges_last_will_takes_its_devices_offline_and_its_online_restores_them(
    broker: Broker, tmp_path: Path
) -> None:
    _run(broker, tmp_path, legacy=False)


def test_the_legacy_plain_offline_does_the_same(broker: Broker, tmp_path: Path) -> None:
    _run(broker, tmp_path, legacy=True)


def test_the_base_topic_setting_and_a_bridge_added_by_a_reload(
    broker: Broker, tmp_path: Path
) -> None:
    """zigbee2mqtt under ``mqtt.base_topic: z2m``; then the building gains a ChirpStack gateway
    whose ``gateway/<id>/state/conn`` (chirpstack/chirpstack api/proto/gw/gw.proto ConnState,
    JSON marshaler) no profile topic covers: the reload subscribes to it."""
    building = tmp_path / "building.yaml"
    shutil.copy(FIXTURES / "building-small.yaml", building)
    gp = GatewayProcess(
        broker.url,
        tmp_path,
        GATEWAY_BUILDING=str(building),
        GATEWAY_PROFILE_VARIABLES=json.dumps({"zigbee2mqtt": {"base_topic": "z2m"}}),
    ).start()
    pub = Publisher(broker.port, client_id=f"bridges-{gp.port}")
    conn = "gateway/0016c001f153a14c/state/conn"
    try:
        pub.publish("z2m/z-booth-1-presence", {"presence": True})
        wait_for(lambda: _space(gp, "booth-1") == "occupied")
        pub.publish("z2m/bridge/state", {"state": "offline"})
        wait_for(lambda: _device(gp, "z-booth-1-presence")["online"] is False)
        assert _space(gp, "booth-1") == "unknown"

        text = building.read_text().replace(
            "devices:\n",
            f"bridges:\n  - {{id: lora, profile: chirpstack, state_topic: {conn}}}\n"
            "devices:\n  - {id: 24e124136b502217, profile: chirpstack, space: open-2}\n",
            1,
        )
        building.write_text(text)
        r = gp.http.post("/api/v1/admin/reload")
        assert r.status_code == 200, r.text
        pub.publish(conn, {"gatewayId": "0016c001f153a14c", "state": "OFFLINE"})
        lora = "/api/v1/devices/24e124136b502217"  # known once its gateway's state is heard
        wait_for(lambda: gp.http.get(lora).status_code == 200)
        assert gp.get(lora)["online"] is False
        bridges = gp.get("/api/v1/health")["bridges"]
        assert bridges["lora"]["state"] == "offline", bridges
        assert bridges["lora"]["state_topic"] == conn
        assert bridges["zigbee2mqtt"]["state_topic"] == "z2m/bridge/state"
    finally:
        pub.close()
        gp.stop()
