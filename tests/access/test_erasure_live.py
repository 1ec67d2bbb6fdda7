"""An erasure at the console reaches a running gateway: ``gateway run`` with a real broker, a
door controller over MQTT, ``gateway members erase`` as its own process on the same store.

Before, the running process kept the member in memory until a restart: its badge still
opened the door and its member token still acted for it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.access.conftest import BUILDING
from tests.access.test_doors import Door
from tests.support import Broker, GatewayProcess, wait_for

CARD = "card-7001"


@pytest.fixture
def running(broker: Broker, tmp_path: Path) -> Iterator[GatewayProcess]:
    gw = GatewayProcess(
        broker.url,
        tmp_path,
        GATEWAY_MQTT__CLIENT_ID=f"gw-{tmp_path.name}",
        GATEWAY_BUILDING=str(BUILDING),
        GATEWAY_ACCESS__KEY_DIR=str(tmp_path / "keys"),
        GATEWAY_ACCESS__ERASURE_CHECK_S="0.5",
    ).start()
    yield gw
    gw.stop(sig="kill")


def test_a_console_erasure_reaches_the_running_gateway(
    running: GatewayProcess, broker: Broker
) -> None:
    gw, http = running, running.http
    r = http.post(
        "/api/v1/members",
        json={"id": "m-70", "name": "Quinn Private", "plan": "team-101", "credentials": [CARD]},
    )
    assert r.status_code == 201, r.text
    app = http.post("/api/v1/admin/tokens", json={"role": "app", "name": "member-app"})
    r = http.post(
        "/api/v1/member-tokens",
        json={"member": "m-70"},
        headers={"Authorization": f"Bearer {app.json()['token']}"},
    )
    mine = {"Authorization": f"Bearer {r.json()['token']}"}
    assert http.get("/api/v1/access/grants", headers=mine).status_code == 200
    door = Door(broker.port, name=f"door-{broker.port}-erasure")
    try:
        assert door.ask("door-office-101", CARD, "r-1")["decision"] == "granted"
        console = subprocess.run(
            [sys.executable, "-m", "gateway.cli", "members", "erase", "m-70"],
            cwd=gw.workdir,
            env=gw.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert console.returncode == 0, console.stderr
        assert "erased member m-70: now erased-" in console.stdout
        t0 = time.monotonic()
        wait_for(lambda: http.get("/api/v1/access/grants", headers=mine).status_code == 401,
                 timeout=15)  # fmt: skip
        took = time.monotonic() - t0
        assert door.ask("door-office-101", CARD, "r-2")["decision"] == "denied"
    finally:
        door.close()
    assert took < 10  # a check every half second, not a restart
    assert http.get("/api/v1/members/m-70").status_code == 404
    health = gw.get("/api/v1/health")
    assert health["loops"].get("erasures") == "running", health["loops"]
    assert "applied 1 erasure recorded in the store (1 member token ended)" in gw.read_log()
