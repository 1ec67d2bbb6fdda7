"""A real ``gateway run`` behind a real Mosquitto, fed as zigbee2mqtt feeds it: the ticker lives.

zigbee2mqtt's availability feature publishes ``{"state": "online"}`` on
``zigbee2mqtt/<friendly_name>/availability`` for every device at start (zigbee2mqtt.io,
guide/configuration/device-availability). A presence radar that turns false, then true
before ``idle_after``, then a tick past the old idle deadline killed the ``engine-ticker``
thread; from then on PIR rooms never turned vacant and health still said ok.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.support import Broker, GatewayProcess, Publisher, wait_for


def test_zigbee2mqtt_availability_at_start_does_not_stop_the_engine(
    broker: Broker, tmp_path: Path
) -> None:
    gp = GatewayProcess(
        broker.url,
        tmp_path,
        GATEWAY_OCCUPANCY__MOTION_TIMEOUT_S="2",
        GATEWAY_OCCUPANCY__IDLE_AFTER_S="3",
        GATEWAY_OCCUPANCY__TICK_S="0.2",
    ).start()
    pub = Publisher(broker.port, client_id=f"z2m-{gp.port}")
    try:
        for name in ("z-booth-1-presence", "z-orion-motion", "z-focus-motion"):
            pub.publish(f"zigbee2mqtt/{name}/availability", {"state": "online"})
        pub.publish("zigbee2mqtt/z-booth-1-presence", {"presence": False, "linkquality": 90})
        wait_for(lambda: gp.get("/api/v1/spaces/booth-1")["state"] == "vacant")
        pub.publish("zigbee2mqtt/z-booth-1-presence", {"presence": True, "linkquality": 90})
        wait_for(lambda: gp.get("/api/v1/spaces/booth-1")["state"] == "occupied")
        time.sleep(4)  # past the idle deadline queued while it was vacant

        # the ticker still works: a PIR room turns vacant after the motion timeout
        pub.publish("zigbee2mqtt/z-orion-motion", {"occupancy": True, "linkquality": 120})
        wait_for(lambda: gp.get("/api/v1/spaces/orion")["state"] == "occupied")
        wait_for(lambda: gp.get("/api/v1/spaces/orion")["state"] == "vacant", timeout=10)
        # ... and idle after idle_after
        wait_for(lambda: gp.get("/api/v1/spaces/orion")["idle"], timeout=10)
        health = gp.get("/api/v1/health")
        assert health["status"] == "ok", health
        assert health["loops"]["engine-ticker"] == "running"
        assert "Traceback" not in gp.read_log()
    finally:
        pub.close()
        gp.stop()
