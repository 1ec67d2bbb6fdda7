"""The uplink's hand-off: hub events, findings and notices reach the disk buffer in order."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.events import Event
from gateway.hub import Hub
from gateway.occupancy.accumulate import Finding, IdleEpisode
from gateway.publish.client import OutClient
from gateway.publish.spool import Spool
from gateway.publish.uplink import Uplink
from gateway.publish.uplink_wiring import episode_notice
from gateway.settings import MqttSettings
from tests.support import free_port


def ev(n: int) -> Event:
    return Event("s1", "pc-1", "room", 1000.0 + n, "measurement", "people_count", n)


def test_hub_traffic_is_buffered_in_order_with_topics(tmp_path: Path) -> None:
    client = OutClient(
        MqttSettings(url=f"mqtt://127.0.0.1:{free_port()}"), "t", ("gw/s1/status", "offline")
    )  # never started: nothing is sent, everything stays in the buffer
    spool = Spool(tmp_path / "s1.sqlite", max_bytes=10_000_000)
    up = Uplink(client, spool, "s1", "gw", batch_events=2)
    hub = Hub()
    up.attach(hub)
    hub.publish("events", [ev(1), ev(2), ev(3)], 0.0)
    hub.publish("findings", [Finding("ghost_booking", "bk-1", "room", 10, 20, 15)], 0.0)
    hub.publish("notices", episode_notice(IdleEpisode("room", 100.0, 1000.0)), 0.0)
    hub.publish("notices", {"type": "alert", "space": "room", "what": "co2_high"}, 0.0)
    hub.publish("events", [ev(4)], 0.0)
    assert up.flush() == 6
    recs = spool.read(0, 100)
    bodies = [json.loads(r.payload) for r in recs]
    assert [r.topic for r in recs] == [
        "gw/s1/events",
        "gw/s1/events",
        "gw/s1/findings/ghost_booking",
        "gw/s1/findings/idle_episode",
        "gw/s1/findings/alert",
        "gw/s1/events",
    ]
    assert [b["seq"] for b in bodies] == [1, 2, 3, 4, 5, 6]
    values = [e["value"] for b in bodies if b["type"] == "events" for e in b["events"]]
    assert values == [1, 2, 3, 4]
    assert bodies[2]["booking"] == "bk-1" and bodies[2]["kind"] == "ghost_booking"
    assert bodies[3]["space"] == "room" and bodies[3]["end"] is None
    assert bodies[4]["what"] == "co2_high"
    assert up.stats()["buffered_records"] == 6
    spool.close()
