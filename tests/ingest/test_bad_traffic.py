"""Floods, oversized and malformed payloads against the real gateway: good traffic keeps flowing."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.support import Broker, GatewayProcess, wait_for


@pytest.fixture
def gw(broker: Broker, tmp_path: Path) -> Iterator[GatewayProcess]:
    g = GatewayProcess(
        broker.url,
        tmp_path,
        GATEWAY_INGEST__DEVICE_RATE_PER_S="20",
        GATEWAY_INGEST__DEVICE_BURST="50",
        GATEWAY_INGEST__MAX_PAYLOAD_BYTES="65536",
    ).start()
    yield g
    g.stop()


def client(port: int, name: str) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name)
    c.max_inflight_messages_set(1000)
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


def stored(db: Path, device: str) -> int:
    with sqlite3.connect(db, timeout=5) as c:
        return int(
            c.execute("SELECT count(*) FROM event WHERE device = ?", (device,)).fetchone()[0]
        )


def test_a_flooding_device_is_limited_while_others_keep_flowing(
    broker: Broker, gw: GatewayProcess, tmp_path: Path
) -> None:
    flood_n, good_n = 4000, 40
    flooder = client(broker.port, "flooder")
    good = client(broker.port, "good")

    def flood() -> None:
        infos = [
            flooder.publish("ref/counter/pc-lounge", json.dumps({"count": i % 9}), qos=1)
            for i in range(flood_n)
        ]
        for info in infos:
            info.wait_for_publish(timeout=30)

    t = threading.Thread(target=flood)
    t.start()
    for i in range(good_n):  # an ordinary device: a message every 25 ms, while the flood runs
        good.publish("ref/counter/pc-orion", json.dumps({"count": i}), qos=1)
        threading.Event().wait(0.025)
    t.join()
    db = tmp_path / "gateway.db"
    wait_for(lambda: stored(db, "pc-orion") == good_n, timeout=20)
    wait_for(
        lambda: gw.get("/api/v1/stats")["messages_committed"] >= flood_n + good_n, timeout=30
    )  # every flood message was acknowledged, after its rejection was counted
    flooded = stored(db, "pc-lounge")
    assert 50 <= flooded < flood_n // 2
    metrics = gw.http.get("/metrics").text
    limited = next(
        float(x.split()[1])
        for x in metrics.splitlines()
        if x.startswith("gateway_rejected_rate_limited_total ")
    )
    assert limited == flood_n - flooded
    reasons = [d["reason"] for d in gw.get("/api/v1/dead-letters")["data"]]
    assert any("rate limit: topic 'ref/counter/pc-lounge'" in r for r in reasons)
    flooder.disconnect()
    good.disconnect()


def test_oversized_and_malformed_are_rejected_with_reasons(
    broker: Broker, gw: GatewayProcess, tmp_path: Path
) -> None:
    c = client(broker.port, "mixed")
    msgs: list[tuple[str, bytes]] = [
        ("ref/counter/pc-orion", json.dumps({"count": 1}).encode()),
        ("zigbee2mqtt/z-focus-motion", b'{"occupancy": true, "pad": "' + b"x" * 70_000 + b'"}'),
        ("ref/counter/pc-orion", json.dumps({"count": 2}).encode()),
        ("zigbee2mqtt/z-focus-motion", b"{not json"),
        ("ref/counter/pc-orion", json.dumps({"count": 3}).encode()),
    ]
    for topic, payload in msgs:
        c.publish(topic, payload, qos=1).wait_for_publish(timeout=5)
    db = tmp_path / "gateway.db"
    wait_for(lambda: stored(db, "pc-orion") == 3, timeout=15)
    dead = wait_for(
        lambda: (d := gw.get("/api/v1/dead-letters")["data"]) and len(d) >= 2 and d, timeout=10
    )
    reasons = sorted(d["reason"] for d in dead)
    assert any("over the 65536-byte limit; not parsed" in r for r in reasons), reasons
    assert any("json" in r.lower() for r in reasons), reasons
    assert stored(db, "z-focus-motion") == 0
    c.disconnect()
