"""Door decisions over a real broker: request in, decision out at once, every one audited."""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gateway.runtime import Gateway
from tests.access.conftest import ADMIN, BUILDING, Clock, make_gateway
from tests.support import Broker, GatewayProcess, wait_for


class Door:
    """A door controller: publishes requests, collects decisions and retained revocations."""

    def __init__(self, port: int, name: str = "test-door") -> None:
        self.decisions: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self.revocations: queue.Queue[dict[str, Any]] = queue.Queue()
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name)
        self.c.on_message = self._on_message
        self.c.connect("127.0.0.1", port)
        self.c.subscribe([("ref/door/+/decision", 1), ("gateway/+/access/revocations", 1)])
        self.c.loop_start()
        time.sleep(0.2)  # the subscription is in place before the first request

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        body = json.loads(msg.payload)
        if msg.topic.endswith("/revocations"):
            self.revocations.put(body)
        else:
            self.decisions.put((msg.topic, body))

    def ask(self, door: str, credential: str, request: str) -> dict[str, Any]:
        self.c.publish(
            f"ref/door/{door}/request", json.dumps({"request": request, "credential": credential})
        )
        topic, body = self.decisions.get(timeout=5)
        assert topic == f"ref/door/{door}/decision" and body["request"] == request
        return body

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


@pytest.fixture
def live(broker: Broker, tmp_path: Path) -> Iterator[tuple[Gateway, Door]]:
    gw = make_gateway(
        tmp_path, Clock(time.time()), mqtt={"url": broker.url, "client_id": f"gw-{tmp_path.name}"}
    )
    gw.clock = time.time  # type: ignore[method-assign]
    for part in (gw.access.grants, gw.access.decider, gw.access):
        part.clock = time.time
    gw.access.start()
    wait_for(gw.access.client.connected.is_set)
    door = Door(broker.port)
    yield gw, door
    door.close()
    gw.access.stop()
    gw.db.dispose()


def audit_rows(gw: Gateway) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from gateway.store.audit import AUDIT

    with gw.db.connect() as conn:
        rows = conn.execute(
            select(AUDIT).where(AUDIT.c.action == "door_decision").order_by(AUDIT.c.id)
        ).all()
    return [dict(r._mapping) for r in rows]


def test_decisions_from_plan_grant_and_revocation(live: tuple[Gateway, Door]) -> None:
    gw, door = live
    badges: list[Any] = []
    gw.hub.subscribe("events", lambda evs, _now: badges.extend(evs))
    ok = door.ask("door-office-101", "card:04A1B2C3", "r-1")
    # what the door needs, never who the member is (the audit keeps that)
    assert ok == {"request": "r-1", "decision": "granted", "open_s": 5}
    no = door.ask("door-orion", "04A1B2C3", "r-2")
    assert no == {"request": "r-2", "decision": "denied", "open_s": 0}
    assert door.ask("door-orion", "DEADBEEF", "r-3")["decision"] == "denied"
    assert door.ask("door-main", "qr:7f3a", "r-4")["decision"] == "granted"  # entrance, plan
    # a grant through a booking opens the door; its revocation closes it at once
    now = time.time()
    gw.services.bookings.create("orion", "m-2", now - 60, now + 3600, False, "test")
    g = gw.access.grants.issue("m-2", "door-orion", None, now - 1, now + 3600, "test")
    granted = door.ask("door-orion", "qr:7f3a", "r-5")
    assert granted["decision"] == "granted"
    gw.access.grants.revoke(g.id, "test")
    assert door.ask("door-orion", "qr:7f3a", "r-6")["decision"] == "denied"
    retained = door.revocations.get(timeout=5)
    while g.id not in retained["revoked"]:
        retained = door.revocations.get(timeout=5)
    # malformed requests get no answer and are counted
    door.c.publish("ref/door/door-orion/request", b"{not json")
    wait_for(lambda: gw.access.decider.malformed == 1)
    rows = wait_for(lambda: (r := audit_rows(gw)) and len(r) == 6 and r)
    assert [(r["subject"], r["result"]) for r in rows] == [
        ("door-office-101", "granted"),
        ("door-orion", "denied"),
        ("door-orion", "denied"),
        ("door-main", "granted"),
        ("door-orion", "granted"),
        ("door-orion", "denied"),
    ]
    assert rows[0]["reason"] == "plan team-101 covers space office-101"
    assert rows[0]["member"] == rows[1]["member"] == "m-1"  # the audit keeps who it was
    assert rows[2]["reason"] == "unknown credential" and rows[2]["member"] is None
    assert rows[4]["reason"] == f"grant {g.id}" and rows[4]["detail"]["grant"] == g.id
    assert "no live grant" in rows[5]["reason"]
    for r in rows:
        assert r["credential"].startswith("hmac:") and "04A1B2C3" not in r["credential"]
    # granted badges reach the engine and the hub, as a door event would
    wait_for(lambda: len(badges) >= 2)
    assert {(e.device, e.space, e.value) for e in badges} >= {
        ("door-office-101", "office-101", "granted"),
        ("door-orion", "orion", "granted"),
    }


def test_a_running_gateway_answers_doors(broker: Broker, tmp_path: Path) -> None:
    gp = GatewayProcess(
        broker.url,
        tmp_path,
        GATEWAY_BUILDING=str(BUILDING),
        GATEWAY_ADMIN_TOKEN=ADMIN,
        GATEWAY_ACCESS__KEY_DIR=str(tmp_path / "keys"),
    )
    gp.http.headers["Authorization"] = f"Bearer {ADMIN}"
    gp.start()
    door = Door(broker.port, "door-proc")
    try:
        assert door.ask("door-office-101", "04A1B2C3", "p-1")["decision"] == "granted"
        audit = wait_for(
            lambda: gp.get("/api/v1/access/audit", params={"subject": "door-office-101"})["data"]
        )
        assert audit[0]["result"] == "granted" and audit[0]["member"] == "m-1"
        key = gp.get("/api/v1/access/public-key")
        assert len(key["key"]) == 43 and key["revocations_topic"].endswith("/access/revocations")
    finally:
        door.close()
        gp.stop()


def test_a_deeply_nested_request_is_malformed_and_doors_keep_answering(
    live: tuple[Gateway, Door],
) -> None:
    gw, door = live
    # json.loads raises RecursionError on this, not ValueError
    door.c.publish("ref/door/door-office-101/request", b"[" * 200_000)
    wait_for(lambda: gw.access.decider.malformed == 1)
    assert door.ask("door-office-101", "04A1B2C3", "after-nested")["decision"] == "granted"


def test_a_raising_handler_does_not_end_the_network_thread(broker: Broker) -> None:
    from gateway.publish.client import OutClient
    from gateway.settings import MqttSettings

    seen: list[bytes] = []

    def handler(_topic: str, payload: bytes) -> None:
        seen.append(payload)
        if payload == b"boom":
            raise RuntimeError("handler bug")

    out = OutClient(
        MqttSettings(url=broker.url, client_id="out-raising"),
        "out-raising",
        ("t/out-raising/status", "offline"),
        subscriptions=("t/out-raising/in",),
        on_message=handler,
    )
    out.start()
    try:
        wait_for(out.connected.is_set)
        time.sleep(0.2)  # the subscription is in place
        out.client.publish("t/out-raising/in", b"boom", qos=1)
        wait_for(lambda: seen == [b"boom"])
        out.client.publish("t/out-raising/in", b"after", qos=1)
        wait_for(lambda: seen == [b"boom", b"after"])
        assert out.connected.is_set()
    finally:
        out.stop()
