"""A real ``gateway run`` on a real broker: print release commands and a ghost released live."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.services.conftest import BUILDING
from tests.support import Broker, GatewayProcess, Publisher, wait_for


class Commands:
    """Collects what the gateway publishes on the printers' command topics."""

    def __init__(self, port: int) -> None:
        self.got: list[tuple[str, dict[str, Any]]] = []
        self.ready = threading.Event()
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="cmd-watch")
        self.c.on_connect = lambda c, *_: (c.subscribe("ref/printer/+/cmd", 1), self.ready.set())
        self.c.on_message = lambda _c, _u, m: self.got.append((m.topic, json.loads(m.payload)))
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        assert self.ready.wait(5)
        time.sleep(0.2)  # the SUBACK

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


@pytest.fixture(scope="module")
def live(broker: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    g = GatewayProcess(
        broker.url,
        tmp_path_factory.mktemp("gw"),
        GATEWAY_BUILDING=str(BUILDING),
        GATEWAY_BOOKINGS__GRACE_S="2",
    ).start()
    yield g
    g.stop()


def job(pub: Publisher, job_id: str, event: str, owner: str = "m-42") -> None:
    pub.publish("ref/printer/printer-1/job", {"job": job_id, "event": event, "owner": owner})


def test_release_from_the_app_and_by_badge(live: GatewayProcess, broker: Broker) -> None:
    pub, cmds = Publisher(broker.port, "printer-sim"), Commands(broker.port)
    try:
        job(pub, "j-1", "submitted")
        job(pub, "j-1", "held")
        wait_for(lambda: live.http.get("/api/v1/print-jobs/j-1").json().get("status") == "held")

        url = "/api/v1/print-jobs/j-1/release"
        stranger = live.http.post(url, json={"member": "m-1"})
        assert stranger.status_code == 403 and "does not own" in stranger.json()["detail"]
        assert (
            live.http.post("/api/v1/print-jobs/nope/release", json={"member": "m-1"}).status_code
            == 404
        )
        r = live.http.post(url, json={"member": "m-42"})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "released"
        wait_for(lambda: cmds.got)
        assert cmds.got == [
            ("ref/printer/printer-1/cmd", {"action": "release", "job": "j-1", "member": "m-42"})
        ]
        assert live.http.post(url, json={"member": "m-42"}).status_code == 409

        job(pub, "j-1", "completed")
        wait_for(lambda: live.http.get("/api/v1/print-jobs/j-1").json()["status"] == "completed")
        history = [h["status"] for h in live.get("/api/v1/print-jobs/j-1")["history"]]
        assert history == ["submitted", "held", "released", "completed"]

        # a badge at the printer releases that member's held jobs, nobody else's
        job(pub, "j-2", "held")
        job(pub, "j-3", "held", owner="m-2")
        wait_for(lambda: live.get("/api/v1/print-jobs", params={"status": "held"})["total"] == 2)
        pub.publish("ref/printer/printer-1/badge", {"credential": "card:0042"})
        wait_for(lambda: len(cmds.got) == 2)
        assert cmds.got[1][1] == {"action": "release", "job": "j-2", "member": "m-42"}
        j2 = live.get("/api/v1/print-jobs/j-2")
        assert j2["status"] == "released" and j2["released_by"] == "badge:printer-1"
        assert live.get("/api/v1/print-jobs/j-3")["status"] == "held"
    finally:
        pub.close()
        cmds.close()


def test_ghost_booking_released_by_the_running_gateway(
    live: GatewayProcess, broker: Broker
) -> None:
    pub = Publisher(broker.port, "sensor-sim")
    try:
        pub.publish("ref/occupancy/pres-focus", {"presence": False})
        wait_for(lambda: live.get("/api/v1/spaces/focus")["state"] == "vacant")
        now = time.time()

        def at(t: float) -> str:
            return datetime.fromtimestamp(t, UTC).isoformat()

        body = {"space": "focus", "member": "m-7", "start": at(now + 1), "end": at(now + 3600)}
        r = live.http.post("/api/v1/bookings", json=body)
        assert r.status_code == 201, r.text
        bid = r.json()["id"]
        assert live.http.post("/api/v1/bookings", json={**body, "member": "m-8"}).status_code == 409
        done = wait_for(
            lambda: (b := live.get(f"/api/v1/bookings/{bid}"))["status"] == "released" and b,
            timeout=15,
        )
        assert done["outcome"] == "ghost"
        # released on time: within a second of start + grace (the ticker wakes at the
        # deadline and the saver hands the finding on at once)
        late = datetime.fromisoformat(done["released_at"]).timestamp() - (now + 1 + 2)
        assert 0 <= late < 1.0, late
        again = live.http.post("/api/v1/bookings", json={**body, "member": "m-8"})
        assert again.status_code == 201, again.text
        assert live.get("/api/v1/spaces/focus")["state"] == "vacant"
        rate = live.get("/api/v1/bookings/no-show-rate")
        assert (rate["required"], rate["released"]) == (1, 1)
    finally:
        pub.close()
