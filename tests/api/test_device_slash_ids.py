"""The device API fetches and binds devices whose ids hold '/', through the real app.

zigbee2mqtt friendly names may group devices with '/' (``floor1/room2/pir``; zigbee2mqtt.io
guide/configuration/devices-groups), and the device id is the friendly name. The payload is
an Aqara RTCGQ11LM motion sensor's state (Koenkk/zigbee2mqtt.io docs/devices/RTCGQ11LM.md),
as in tests/building/test_bridged_names.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.ingest import RawMessage
from gateway.runtime import Gateway
from gateway.settings import load_settings
from tests.building.test_bridged_names import BUILDING

T0 = 1_764_320_400.0
TOKEN = "device-slash-ids-test-token"
RTCGQ11LM = {"battery": 100, "illuminance_lux": 15, "linkquality": 120, "occupancy": True}


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[Gateway, TestClient]]:
    path = tmp_path / "building.yaml"
    path.write_text(BUILDING, encoding="utf-8")
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path}/g.db",
        building=path,
        admin_token=TOKEN,
        access={"key_dir": str(tmp_path / "keys")},
    )
    gw = Gateway(settings, clock=Clock(T0))
    client = TestClient(create_app(gw, manage=False))
    client.headers["Authorization"] = f"Bearer {TOKEN}"
    yield gw, client
    gw.db.dispose()


def send(gw: Gateway, topic: str, payload: object, mid: int) -> None:
    data = json.dumps(payload).encode()
    gw.pipeline.process([RawMessage(topic, data, T0, qos=1, mid=mid)])


def test_a_grouped_name_is_fetched_whole_and_apart_from_its_prefix(
    api: tuple[Gateway, TestClient],
) -> None:
    gw, client = api
    send(gw, "zigbee2mqtt/floor1/room2/pir", RTCGQ11LM, 1)
    for url in ("/api/v1/devices/floor1/room2/pir", "/api/v1/devices/floor1%2Froom2%2Fpir"):
        r = client.get(url)
        assert r.status_code == 200, (url, r.text)
        body = r.json()
        assert (body["id"], body["space"], body["bound"]) == ("floor1/room2/pir", "room2", True)
        assert body["readings"]["motion"]["value"] is True
    shorter = client.get("/api/v1/devices/floor1/room2")  # another device, bound, not heard
    assert shorter.status_code == 200 and shorter.json()["id"] == "floor1/room2"
    assert shorter.json()["readings"] == {}
    spaced = client.get("/api/v1/devices/Czujnik CO2 75")
    assert spaced.status_code == 200 and spaced.json()["id"] == "Czujnik CO2 75"
    missing = client.get("/api/v1/devices/floor1/room2/pir/extra")
    assert missing.status_code == 404 and "floor1/room2/pir/extra" in missing.json()["detail"]


def test_the_binding_route_takes_a_grouped_name(api: tuple[Gateway, TestClient]) -> None:
    gw, client = api
    # a device the building does not bind: discovered, then bound through the API
    send(gw, "zigbee2mqtt/floor3/hall/pir", RTCGQ11LM, 1)
    found = client.get("/api/v1/devices/floor3/hall/pir")
    assert found.status_code == 200 and found.json()["bound"] is False
    r = client.put("/api/v1/devices/floor3/hall/pir/binding", json={"space": "lab"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["id"], body["space"], body["bound"]) == ("floor3/hall/pir", "lab", True)
    assert client.get("/api/v1/devices/floor3/hall/pir").json()["space"] == "lab"
    # the building file's own binding is not the API's to change, whatever the name holds
    kept = client.put("/api/v1/devices/floor1/room2/pir/binding", json={"space": "lab"})
    assert kept.status_code == 409, kept.text
    assert client.get("/api/v1/devices/floor1/room2/pir").json()["space"] == "room2"
    # a single-level id still works on both routes
    assert client.get("/api/v1/devices/octoPrint").json()["id"] == "octoPrint"
    assert client.put("/api/v1/devices/octoPrint/binding", json={"space": "lab"}).status_code == 409
