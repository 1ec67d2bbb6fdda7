"""Receive times are on the gateway's clock, the one its engine runs on."""

from __future__ import annotations

import time
from pathlib import Path

from gateway.runtime import Gateway
from gateway.settings import load_settings
from tests.support import FIXTURES, Broker, Publisher, wait_for


def test_a_payload_without_device_time_is_stamped_with_the_gateway_clock(
    broker: Broker, tmp_path: Path
) -> None:
    offset = 7200.0  # a gateway whose clock runs two hours ahead of the wall (a replayed day)
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'gw.db'}",
        building=FIXTURES / "building-small.yaml",
        admin_token="transport-clock-token-0123456789",
        mqtt={"url": broker.url, "client_id": f"clock-{time.monotonic_ns()}"},
        access={"key_dir": str(tmp_path / "keys")},
        ingest={"writer_process": False},
    )
    g = Gateway(settings, clock=lambda: time.time() + offset)
    g.start()
    pub = Publisher(broker.port, client_id=f"clock-pub-{time.monotonic_ns()}")
    try:
        wait_for(g.transport.connected.is_set)
        # zigbee2mqtt payloads carry no device time: the receive time is the event's time
        pub.publish("zigbee2mqtt/z-orion-motion", {"occupancy": True, "linkquality": 120})
        wait_for(lambda: g.engine.view("orion", g.clock()).state == "occupied")
        seen = g.devices["z-orion-motion"].last_seen
        assert seen is not None and abs(seen - g.clock()) < 5
    finally:
        pub.close()
        g.stop()
