"""MQTT out through a real broker and a real `gateway run`: state, status, discovery, setback."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gateway.building import load_building
from tests.support import FIXTURES, Broker, GatewayProcess, Publisher, wait_for

IDLE_AFTER_S = 1.5
MOTION_TIMEOUT_S = 1.0
PREFIX = "gw-out/test-site"
DISCOVERY = "ha-out"
SPACES = load_building(FIXTURES / "building-small.yaml").spaces


class Listener:
    """A paho subscriber recording every message with its retain flag."""

    def __init__(self, port: int, *topics: str) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"listen-{id(self)}")
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        for t in topics:
            self.client.subscribe(t, qos=1)
        self.client.loop_start()

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

    def on(self, topic: str) -> list[tuple[bytes, bool]]:
        with self._lock:
            return [(p, r) for t, p, r in self.messages if t == topic]

    def json_on(self, topic: str) -> list[dict[str, Any]]:
        return [json.loads(p) for p, _ in self.on(topic) if p]

    def wait_json(
        self, topic: str, pred: Callable[[dict[str, Any]], bool], timeout: float = 10
    ) -> dict[str, Any]:
        return wait_for(  # type: ignore[no-any-return]
            lambda: next((m for m in self.json_on(topic) if pred(m)), None), timeout=timeout
        )

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture(scope="module")
def gw(broker: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    g = GatewayProcess(
        broker.url,
        tmp_path_factory.mktemp("gw-out"),
        GATEWAY_OCCUPANCY__MOTION_TIMEOUT_S=str(MOTION_TIMEOUT_S),
        GATEWAY_OCCUPANCY__IDLE_AFTER_S=str(IDLE_AFTER_S),
        GATEWAY_OCCUPANCY__TICK_S="0.1",
        GATEWAY_PUBLISH__TOPIC_PREFIX=PREFIX,
        GATEWAY_PUBLISH__DISCOVERY_PREFIX=DISCOVERY,
        GATEWAY_PUBLISH__SETBACK="true",
    ).start()
    yield g
    g.stop()


@pytest.fixture(scope="module")
def pub(broker: Broker) -> Iterator[Publisher]:
    p = Publisher(broker.port, client_id="mqtt-out-publisher")
    yield p
    p.close()


def _retained(port: int, pattern: str, count: int) -> dict[str, bytes]:
    """What a brand-new subscriber receives as retained messages on ``pattern``."""
    fresh = Listener(port, pattern)
    try:
        wait_for(lambda: len(fresh.messages) >= count, timeout=10)
        time.sleep(0.2)  # let any extra retained message arrive too
        assert all(r for _, _, r in fresh.messages), "retained messages carry the retain flag"
        return {t: p for t, p, _ in fresh.messages}
    finally:
        fresh.close()


def test_status_online_and_every_space_state_retained(gw: GatewayProcess, broker: Broker) -> None:
    assert _retained(broker.port, f"{PREFIX}/status", 1) == {f"{PREFIX}/status": b"online"}
    states = _retained(broker.port, f"{PREFIX}/space/+/state", len(SPACES))
    assert set(states) == {f"{PREFIX}/space/{sid}/state" for sid in SPACES}
    api = {s["id"]: s for s in gw.get("/api/v1/spaces")["data"]}
    for sid, space in SPACES.items():
        body = json.loads(states[f"{PREFIX}/space/{sid}/state"])
        assert body["id"] == sid and body["capacity"] == space.capacity
        assert body["state"] == api[sid]["state"] and body["idle"] == api[sid]["idle"]
        assert body["occupancy"] == api[sid]["occupancy"]
        assert body["since"].endswith("Z")


def test_discovery_configs_retained_and_consistent(gw: GatewayProcess, broker: Broker) -> None:
    configs = _retained(broker.port, f"{DISCOVERY}/#", 2 * len(SPACES))
    assert len(configs) == 2 * len(SPACES)
    seen: set[tuple[str, str]] = set()
    for topic, raw in configs.items():
        cfg = json.loads(raw)
        component = topic.split("/")[1]
        space_id = cfg["device"]["identifiers"][0].split("_", 2)[-1]
        assert cfg["state_topic"] == f"{PREFIX}/space/{space_id}/state"
        assert cfg["availability_topic"] == f"{PREFIX}/status"
        assert cfg["unique_id"] and cfg["name"] and cfg["value_template"]
        assert cfg["device"]["name"] == SPACES[space_id].name
        seen.add((component, space_id))
    assert seen == {(c, s) for c in ("binary_sensor", "sensor") for s in SPACES}


def test_counter_state_published_on_change_only(
    gw: GatewayProcess, broker: Broker, pub: Publisher
) -> None:
    topic = f"{PREFIX}/space/lounge/state"
    listen = Listener(broker.port, topic)
    try:
        wait_for(lambda: listen.on(topic))  # the retained one
        pub.publish("ref/counter/pc-lounge", {"count": 4})
        body = listen.wait_json(topic, lambda m: m["occupancy"] == 4)
        assert body["state"] == "occupied" and body["idle"] is False
        pub.publish("ref/counter/pc-lounge", {"count": 4})  # same reading: no change
        pub.publish("ref/counter/pc-lounge", {"count": 6})
        listen.wait_json(topic, lambda m: m["occupancy"] == 6)
        counts = [m["occupancy"] for m in listen.json_on(topic)]
        assert counts.count(4) == 1 and counts[-1] == 6
        assert [r for _, r in listen.on(topic)][1:] == [False, False]  # live, not replayed
    finally:
        listen.close()
    # a new subscriber gets the latest state, retained
    assert json.loads(_retained(broker.port, topic, 1)[topic])["occupancy"] == 6


def test_setback_when_idle_and_restore_when_occupied(
    gw: GatewayProcess, broker: Broker, pub: Publisher
) -> None:
    state, command = f"{PREFIX}/space/focus/state", f"{PREFIX}/space/focus/command"
    listen = Listener(broker.port, state, command)
    try:
        pub.publish("zigbee2mqtt/z-focus-motion", {"occupancy": True})
        listen.wait_json(state, lambda m: m["state"] == "occupied")
        idle = listen.wait_json(state, lambda m: m["idle"] is True)
        assert idle["state"] == "vacant"
        setback = listen.wait_json(command, lambda m: m["command"] == "setback")
        assert setback["space"] == "focus" and setback["reason"] == "idle" and setback["ts"]
        pub.publish("zigbee2mqtt/z-focus-motion", {"occupancy": True})
        restore = listen.wait_json(
            command, lambda m: m["command"] == "restore" and m["ts"] > setback["ts"]
        )
        assert restore == {
            "command": "restore",
            "space": "focus",
            "reason": "occupied",
            "ts": restore["ts"],
        }
        assert all(not r for _, r in listen.on(command))  # commands are not retained
        states = listen.json_on(state)
        i_idle = next(i for i, m in enumerate(states) if m["idle"])
        assert states[i_idle - 1]["state"] == "vacant" and not states[i_idle - 1]["idle"]
    finally:
        listen.close()


@pytest.mark.parametrize("sig", ["kill", "term"])
def test_status_offline_after_kill_or_graceful_stop(
    broker: Broker, tmp_path: Path, sig: str
) -> None:
    # kill -9: the broker publishes the last will; SIGTERM: the gateway says offline itself.
    prefix = f"gw-{sig}/test-site"
    g = GatewayProcess(
        broker.url, tmp_path, GATEWAY_PUBLISH__TOPIC_PREFIX=prefix, GATEWAY_PUBLISH__DISCOVERY="0"
    ).start()
    listen = Listener(broker.port, f"{prefix}/status", f"{prefix}/space/+/state")
    try:
        wait_for(lambda: (b"online", True) in listen.on(f"{prefix}/status"))
        wait_for(lambda: all(listen.on(f"{prefix}/space/{sid}/state") for sid in SPACES))
        g.stop(sig=sig)
        wait_for(lambda: listen.on(f"{prefix}/status")[-1][0] == b"offline", timeout=10)
    finally:
        listen.close()
        g.stop()
    assert _retained(broker.port, f"{prefix}/status", 1) == {f"{prefix}/status": b"offline"}
    assert _retained(broker.port, f"{prefix}/space/+/state", len(SPACES))  # state stays
