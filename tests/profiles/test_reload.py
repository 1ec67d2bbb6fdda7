"""Reload of profiles and building in a real `gateway run`: SIGHUP and the admin API call."""

from __future__ import annotations

import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.profiles.conftest import FIXTURES_DIR, PROFILES_DIR
from tests.support import Broker, GatewayProcess, Publisher, wait_for

ACME = """\
schema_version: 2
description: a site-specific sensor added while the gateway runs
source: test
rules:
  - topic: acme/{device}/state
    fields: {t: {quantity: temperature_c, unit: "°F"}}
samples:
  - topic: acme/a/state
    payload: {t: 212}
    expect: [{quantity: temperature_c, value: 100}]
"""


@pytest.fixture(scope="module")
def setup(
    broker: Broker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[GatewayProcess, Path, Path]]:
    work = tmp_path_factory.mktemp("reload")
    profiles = work / "profiles"
    shutil.copytree(PROFILES_DIR, profiles)
    building = work / "building.yaml"
    shutil.copy(FIXTURES_DIR / "building-small.yaml", building)
    gw = GatewayProcess(
        broker.url,
        work,
        GATEWAY_PROFILES_DIR=str(profiles),
        GATEWAY_BUILDING=str(building),
    ).start()
    yield gw, profiles, building
    gw.stop()


def test_reload_needs_the_token(setup: tuple[GatewayProcess, Path, Path]) -> None:
    gw, _, _ = setup
    r = httpx.post(f"http://127.0.0.1:{gw.port}/api/v1/admin/reload")
    assert r.status_code == 401


def test_a_broken_profile_is_refused_and_the_old_set_stays(
    setup: tuple[GatewayProcess, Path, Path], broker: Broker
) -> None:
    gw, profiles, _ = setup
    broken = profiles / "zz-broken.yaml"
    broken.write_text("schema_version: 2\ndescription: d\nsource: s\nrules: []\n")
    try:
        r = gw.http.post("/api/v1/admin/reload")
        assert r.status_code == 422
        assert "zz-broken.yaml" in r.json()["detail"] and "at least one rule" in r.json()["detail"]
    finally:
        broken.unlink()
    pub = Publisher(broker.port, client_id="reload-broken")
    try:
        pub.publish("zigbee2mqtt/z-office-101-temp", {"temperature": 21.5})
        wait_for(
            lambda: (
                gw.get("/api/v1/devices/z-office-101-temp")["readings"]
                .get("temperature_c", {})
                .get("value")
                == 21.5
            )
        )
    finally:
        pub.close()


def test_sighup_loads_a_new_profile_and_binding(
    setup: tuple[GatewayProcess, Path, Path], broker: Broker
) -> None:
    gw, profiles, building = setup
    (profiles / "acme.yaml").write_text(ACME)
    text = building.read_text()
    building.write_text(
        text.replace("devices:\n", "devices:\n  - {id: acme-1, profile: acme, space: lounge}\n")
    )
    assert gw.proc is not None
    gw.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "reloaded:" in gw.read_log(), timeout=10)
    pub = Publisher(broker.port, client_id="reload-acme")
    try:
        pub.publish("acme/acme-1/state", {"t": 212})
        dev = wait_for(
            lambda: (
                (d := gw.http.get("/api/v1/devices/acme-1")).status_code == 200
                and d.json().get("readings")
                and d.json()
            )
        )
    finally:
        pub.close()
    assert dev["bound"] is True and dev["space"] == "lounge" and dev["profile"] == "acme"
    assert dev["readings"]["temperature_c"]["value"] == pytest.approx(100.0)
    r = gw.http.post("/api/v1/admin/reload")
    assert r.status_code == 200 and "acme" in r.json()["profiles"]


def test_reload_adds_a_space_and_refuses_removing_one(
    setup: tuple[GatewayProcess, Path, Path], broker: Broker
) -> None:
    gw, _profiles, building = setup
    text = building.read_text()
    grown = text.replace(
        "      - {id: unwired,",
        "      - {id: quiet-2, name: Quiet room, type: phone_booth, capacity: 1}\n"
        "      - {id: unwired,",
    ).replace(
        "devices:\n", "devices:\n  - {id: pc-quiet-2, profile: ref-counter, space: quiet-2}\n"
    )
    building.write_text(grown)
    r = gw.http.post("/api/v1/admin/reload")
    assert r.status_code == 200, r.text
    assert gw.get("/api/v1/spaces/quiet-2")["state"] == "unknown"
    pub = Publisher(broker.port, client_id="reload-quiet")
    try:
        pub.publish("ref/counter/pc-quiet-2", {"count": 1})
        wait_for(lambda: gw.get("/api/v1/spaces/quiet-2")["occupancy"] == 1)
    finally:
        pub.close()
    building.write_text(
        text.replace(
            "      - {id: unwired, name: Store room, type: private_office, capacity: 2}\n", ""
        )
    )
    r = gw.http.post("/api/v1/admin/reload")
    assert r.status_code == 422 and "unwired" in r.json()["detail"]
    assert gw.http.get("/api/v1/spaces/unwired").status_code == 200  # the old building stays
    building.write_text(text)
