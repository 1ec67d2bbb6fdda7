"""Northbound uplink with real brokers: cut the central one, keep publishing, bring it back.

Two Mosquitto processes (the site's and a central one with persistence) and a real gateway
process. The central receiver holds a persistent session, so what the central broker
acknowledged survives its restart; the check is on what it finally received: every event, in
publish order, with sequence numbers contiguous and any duplicate an exact copy of its seq.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.support import MOSQUITTO, Broker, GatewayProcess, Publisher, wait_for

pytestmark = pytest.mark.skipif(MOSQUITTO is None, reason="needs the mosquitto binary")

SITE = "test-site"  # tests/fixtures/building-small.yaml


class Receiver:
    """The head office: a persistent QoS 1 session on the central broker."""

    def __init__(self, port: int, client_id: str) -> None:
        self.raw: list[tuple[str, bytes]] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False
        )
        self.client.on_connect = lambda c, *_: c.subscribe(f"gw/{SITE}/#", qos=1)
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(min_delay=0.1, max_delay=0.5)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if not msg.topic.endswith("/status"):
            with self.lock:
                self.raw.append((msg.topic, bytes(msg.payload)))

    def unique(self) -> list[dict[str, Any]]:
        """First arrival of each seq, in arrival order; duplicates must be byte-identical."""
        seen: dict[int, bytes] = {}
        out: list[dict[str, Any]] = []
        with self.lock:
            raw = list(self.raw)
        for _topic, payload in raw:
            body = json.loads(payload)
            if body["seq"] in seen:
                assert seen[body["seq"]] == payload, "a resend must be the same record"
                continue
            seen[body["seq"]] = payload
            out.append(body)
        return out

    def counts(self) -> list[int]:
        return [
            ev["value"]
            for body in self.unique()
            if body["type"] == "events"
            for ev in body["events"]
            if ev["device"] == "pc-orion"
        ]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def check_order(rx: Receiver) -> None:
    bodies = rx.unique()
    seqs = [b["seq"] for b in bodies]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "gap or reordering in seq"
    assert all(b["site"] == SITE for b in bodies)


@pytest.fixture
def site_broker(tmp_path: Path) -> Iterator[Broker]:
    b = Broker(tmp_path).start()
    yield b
    b.stop()


def start_gateway(site: Broker, central: Broker, workdir: Path) -> GatewayProcess:
    return GatewayProcess(
        site.url,
        workdir,
        GATEWAY_UPLINK__URL=central.url,
        GATEWAY_UPLINK__BUFFER_DIR=str(workdir / "uplink"),
        GATEWAY_UPLINK__BATCH_EVENTS="40",
        GATEWAY_UPLINK__FLUSH_MS="50",
        GATEWAY_PUBLISH__ENABLED="false",
    ).start()


def metric(gw: GatewayProcess, name: str) -> float:
    text = gw.http.get("/metrics").text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def test_central_outage_is_buffered_and_replayed_in_order(
    tmp_path: Path, site_broker: Broker
) -> None:
    central_dir = tmp_path / "central"
    central_dir.mkdir()
    central = Broker(central_dir, persistence=True).start()
    rx = Receiver(central.port, "head-office-1")
    gw = start_gateway(site_broker, central, tmp_path)
    pub = Publisher(site_broker.port, "uplink-test-pub")
    sent: list[int] = []
    try:
        wait_for(lambda: metric(gw, "gateway_uplink_connected") == 1, timeout=30)
        for i in range(150):  # before the outage
            sent.append(i % 9)
            pub.publish("ref/counter/pc-orion", {"count": sent[-1]})
        wait_for(lambda: len(rx.counts()) == 150, timeout=30)

        central.stop()
        wait_for(lambda: metric(gw, "gateway_uplink_connected") == 0, timeout=30)
        for i in range(150, 450):  # during the outage: the building is served as usual
            sent.append(i % 9)
            pub.publish("ref/counter/pc-orion", {"count": sent[-1]})
        wait_for(lambda: gw.get("/api/v1/stats")["events_stored"] == 450, timeout=30)
        assert gw.get("/api/v1/spaces/orion")["occupancy"] == sent[-1]
        wait_for(lambda: metric(gw, "gateway_uplink_buffered_records") > 0, timeout=30)

        central.start()  # same port, same persistence file
        wait_for(lambda: len(rx.counts()) >= 450, timeout=60)
        assert rx.counts() == sent  # every event, once, in publish order
        check_order(rx)
        wait_for(lambda: metric(gw, "gateway_uplink_buffered_records") == 0, timeout=30)
        assert metric(gw, "gateway_uplink_dropped_records_total") == 0
    finally:
        pub.close()
        gw.stop()
        rx.close()
        central.stop()


def spooled_events(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT COALESCE(SUM(items), 0) FROM record").fetchone()[0])


def test_gateway_restart_replays_a_non_empty_buffer(tmp_path: Path, site_broker: Broker) -> None:
    central_dir = tmp_path / "central"
    central_dir.mkdir()
    central = Broker(central_dir, persistence=True).start()
    rx = Receiver(central.port, "head-office-2")  # registers its session, then the outage
    central.stop()
    gw = start_gateway(site_broker, central, tmp_path)
    pub = Publisher(site_broker.port, "uplink-test-pub-2")
    sent = [i % 7 for i in range(200)]
    try:
        for n in sent:
            pub.publish("ref/counter/pc-orion", {"count": n})
        spool = tmp_path / "uplink" / f"{SITE}.sqlite"
        wait_for(lambda: spool.exists() and spooled_events(spool) == 200, timeout=30)
        gw.stop("kill")  # with everything on disk and nothing acknowledged centrally

        central.start()
        assert rx.counts() == []
        gw = start_gateway(site_broker, central, tmp_path)
        wait_for(lambda: len(rx.counts()) >= 200, timeout=60)
        assert rx.counts() == sent
        check_order(rx)
        assert rx.unique()[0]["seq"] == 1
        wait_for(lambda: spooled_events(spool) == 0, timeout=30)
    finally:
        pub.close()
        gw.stop()
        rx.close()
        central.stop()
