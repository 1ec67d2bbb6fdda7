"""The real `gateway run` and a real broker: publish device payloads, read them via the API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import Broker, GatewayProcess, Publisher, wait_for

MOTION_TIMEOUT_S = 2


@pytest.fixture(scope="module")
def gw(broker: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    g = GatewayProcess(
        broker.url,
        tmp_path_factory.mktemp("gw"),
        GATEWAY_OCCUPANCY__MOTION_TIMEOUT_S=str(MOTION_TIMEOUT_S),
        GATEWAY_OCCUPANCY__TICK_S="0.1",
    ).start()
    yield g
    g.stop()


@pytest.fixture(scope="module")
def pub(broker: Broker) -> Iterator[Publisher]:
    p = Publisher(broker.port)
    yield p
    p.close()


def test_health_needs_no_token_and_reports_mqtt(gw: GatewayProcess) -> None:
    r = httpx.get(f"http://127.0.0.1:{gw.port}/api/v1/health")
    assert r.status_code == 200
    assert r.json()["mqtt"] == "connected"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/stats",
        "/api/v1/spaces",
        "/api/v1/spaces/focus",
        "/api/v1/devices",
        "/api/v1/devices/pc-orion",
        "/api/v1/dead-letters",
        "/metrics",
    ],
)
def test_everything_but_health_needs_the_token(gw: GatewayProcess, path: str) -> None:
    base = f"http://127.0.0.1:{gw.port}"
    assert httpx.get(base + path).status_code == 401
    assert httpx.get(base + path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert gw.http.get(path).status_code == 200


def test_zigbee_motion_turns_room_occupied_then_vacant(gw: GatewayProcess, pub: Publisher) -> None:
    assert gw.get("/api/v1/spaces/focus")["state"] == "unknown"
    t0 = time.monotonic()
    pub.publish("zigbee2mqtt/z-focus-motion", {"occupancy": True, "battery": 97, "linkquality": 87})
    space = wait_for(
        lambda: (s := gw.get("/api/v1/spaces/focus"))["state"] == "occupied" and s, timeout=1.0
    )
    assert time.monotonic() - t0 < 1.0
    assert space["type"] == "meeting_room" and space["floor"] == "1" and space["capacity"] == 4
    assert space["idle"] is False
    dev = gw.get("/api/v1/devices/z-focus-motion")
    assert dev["readings"]["motion"]["value"] is True
    assert dev["readings"]["battery_pct"]["value"] == 97
    assert dev["online"] is True and dev["space"] == "focus"
    wait_for(
        lambda: gw.get("/api/v1/spaces/focus")["state"] == "vacant", timeout=MOTION_TIMEOUT_S + 3
    )
    assert time.monotonic() - t0 >= MOTION_TIMEOUT_S


def test_people_counter_and_environment(gw: GatewayProcess, pub: Publisher) -> None:
    pub.publish("ref/counter/pc-lounge", {"count": 6})
    pub.publish("ref/env/env-open-2", {"temperature": 22.5, "humidity": 40.1, "co2": 812})
    lounge = wait_for(lambda: (s := gw.get("/api/v1/spaces/lounge"))["occupancy"] == 6 and s)
    assert lounge["state"] == "occupied"
    env = wait_for(lambda: (d := gw.get("/api/v1/devices/env-open-2"))["readings"] and d)
    assert env["readings"]["co2_ppm"]["value"] == 812
    assert env["readings"]["temperature_c"]["value"] == 22.5


def test_bad_input_is_dead_lettered_and_ingest_keeps_running(
    gw: GatewayProcess, pub: Publisher
) -> None:
    before = gw.get("/api/v1/stats")
    pub.publish("zigbee2mqtt/z-booth-1-presence", b"{oops")
    pub.publish("zigbee2mqtt/mystery-sensor", {"occupancy": True})
    pub.publish("ref/counter/pc-orion", {"count": 2})
    wait_for(lambda: gw.get("/api/v1/spaces/orion")["occupancy"] == 2)
    stats = wait_for(
        lambda: (s := gw.get("/api/v1/stats"))["dead_letters"] >= before["dead_letters"] + 2 and s
    )
    assert stats["messages_committed"] >= before["messages_committed"] + 3
    dl = gw.get("/api/v1/dead-letters", params={"limit": 10})["data"]
    reasons = {d["topic"]: d["reason"] for d in dl}
    assert "json" in reasons["zigbee2mqtt/z-booth-1-presence"].lower()
    assert "unknown device 'mystery-sensor'" in reasons["zigbee2mqtt/mystery-sensor"]
    assert (
        next(d for d in dl if d["topic"] == "zigbee2mqtt/z-booth-1-presence")["payload"] == "{oops"
    )
    discovered = gw.get("/api/v1/devices", params={"bound": "false"})["data"]
    assert [d["id"] for d in discovered] == ["mystery-sensor"]


def test_unknown_ids_are_404(gw: GatewayProcess) -> None:
    assert gw.http.get("/api/v1/spaces/nope").status_code == 404
    assert gw.http.get("/api/v1/devices/nope").status_code == 404
    assert gw.http.get("/api/v1/dead-letters", params={"limit": 0}).status_code == 422


def test_openapi_lists_the_routes(gw: GatewayProcess) -> None:
    spec = httpx.get(f"http://127.0.0.1:{gw.port}/openapi.json").json()
    for p in (
        "/api/v1/health",
        "/api/v1/stats",
        "/api/v1/spaces",
        "/api/v1/spaces/{space_id}",
        "/api/v1/devices",
        "/api/v1/devices/{device_id}",
        "/api/v1/dead-letters",
    ):
        assert p in spec["paths"]


def test_counts_survive_restart(broker: Broker, tmp_path: Path) -> None:
    g = GatewayProcess(broker.url, tmp_path).start()
    p = Publisher(broker.port, client_id="restart-pub")
    try:
        for n in range(5):
            p.publish("ref/counter/pc-orion", {"count": n})
        wait_for(lambda: g.get("/api/v1/stats")["events_stored"] == 5)
        # uvicorn re-raises SIGTERM after its graceful shutdown, so -15 is a clean exit too
        assert g.stop() in (0, -15)
        assert "gateway stopped: 5 messages committed, 0 left in the queue" in g.read_log()
        g.start()
        stats = g.get("/api/v1/stats")
        assert stats["events_stored"] == 5 and stats["messages_received"] == 0
        dev = g.get("/api/v1/devices/pc-orion")
        assert dev["readings"]["people_count"]["value"] == 4
        assert g.get("/api/v1/spaces/orion")["occupancy"] == 4
    finally:
        p.close()
        g.stop()


def test_discovered_device_is_bound_from_the_api(broker: Broker, tmp_path: Path) -> None:
    g = GatewayProcess(broker.url, tmp_path).start()
    p = Publisher(broker.port, client_id="bind-pub")
    try:
        p.publish("zigbee2mqtt/new-motion-7", {"occupancy": True})
        found = wait_for(lambda: g.get("/api/v1/devices", params={"bound": "false"})["data"])
        assert [(d["id"], d["profile"]) for d in found] == [("new-motion-7", "zigbee2mqtt")]
        assert (
            g.http.put("/api/v1/devices/new-motion-7/binding", json={"space": "nope"}).status_code
            == 404
        )
        assert (
            g.http.put("/api/v1/devices/pc-orion/binding", json={"space": "lounge"}).status_code
            == 409
        )
        r = g.http.put("/api/v1/devices/new-motion-7/binding", json={"space": "unwired"})
        assert r.status_code == 200, r.text
        assert r.json()["bound"] is True and r.json()["space"] == "unwired"
        p.publish("zigbee2mqtt/new-motion-7", {"occupancy": True})
        wait_for(lambda: g.get("/api/v1/spaces/unwired")["state"] == "occupied")
        # the binding is kept across a restart
        g.stop()
        g.start()
        dev = g.get("/api/v1/devices/new-motion-7")
        assert dev["bound"] is True and dev["space"] == "unwired"
    finally:
        p.close()
        g.stop()
