"""A dead bridge raises one alert and one work order, not one per device it takes with it.

The access test building has four zigbee2mqtt devices, all behind the implicit bridge
``zigbee2mqtt``, fed through the real pipeline, member services and API. Payload shapes:

- ``zigbee2mqtt/bridge/state``: ``{"state": "online"}`` / ``{"state": "offline"}``, retained,
  and the bridge's MQTT last will
  (https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html#zigbee2mqtt-bridge-state;
  Koenkk/zigbee2mqtt lib/mqtt.ts, ``will: {topic: <base>/bridge/state, ...}``).
- ``zigbee2mqtt/<friendly_name>/availability``: ``{"state": "online"}`` / ``{"state":
  "offline"}`` (same page, "zigbee2mqtt/FRIENDLY_NAME/availability").
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.services.conftest import Site, make_site

BUILDING = Path(__file__).resolve().parent / "building.yaml"
STATE = "zigbee2mqtt/bridge/state"
Z2M = ("z-orion-motion", "z-focus-motion", "z-booth-1-presence", "z-office-101-temp")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    yield from make_site(tmp_path, building=BUILDING, access={"key_dir": str(tmp_path / "k")})


def alerts(site: Site, kind: str, state: str = "active") -> list[dict[str, Any]]:
    r = site.client.get("/api/v1/alerts", params={"state": state, "kind": kind})
    assert r.status_code == 200, r.text
    return [a for a in r.json()["data"] if a["kind"] == kind]


def orders(site: Site, kind: str) -> list[dict[str, Any]]:
    r = site.client.get("/api/v1/work-orders", params={"kind": kind})
    assert r.status_code == 200, r.text
    return [o for o in r.json()["data"] if o["kind"] == kind]


def up(site: Site) -> None:
    for dev in Z2M:
        site.send(f"zigbee2mqtt/{dev}/availability", {"state": "online"})
    site.send(STATE, {"state": "online"})  # the retained state found at start
    assert alerts(site, "device_offline") == [] and alerts(site, "bridge_offline") == []


def tick(site: Site) -> None:
    """Past the availability check's period: ``check_devices`` runs again."""
    site.advance(site.clock.t + 3 * site.gw.settings.alerts.check_s, step=1.0)


def test_a_dead_bridge_is_one_alert_and_one_work_order(site: Site) -> None:
    up(site)
    site.send(STATE, {"state": "offline"})
    assert all(site.gw.devices[d].online is False for d in Z2M)
    tick(site)
    (bridge,) = alerts(site, "bridge_offline")
    assert bridge["subject"] == "zigbee2mqtt"
    assert "zigbee2mqtt" in bridge["message"] and "4 devices" in bridge["message"]
    assert alerts(site, "device_offline") == []
    (order,) = orders(site, "bridge_offline")
    assert order["subject"] == "zigbee2mqtt" and bridge["work_order"] == order["id"]
    assert "zigbee2mqtt" in order["title"] and "4 devices" in order["description"]
    assert orders(site, "device_offline") == []

    # what a held device says meanwhile (a retained reading replayed) changes nothing
    site.send("zigbee2mqtt/z-orion-motion", {"occupancy": True, "linkquality": 120})
    site.send(STATE, {"state": "offline"})  # its last will replayed
    tick(site)
    assert len(alerts(site, "bridge_offline")) == 1 and alerts(site, "device_offline") == []

    site.send(STATE, {"state": "online"})
    assert alerts(site, "bridge_offline") == []
    (cleared,) = alerts(site, "bridge_offline", "cleared")
    assert cleared["id"] == bridge["id"]
    tick(site)
    assert alerts(site, "bridge_offline") == [] and alerts(site, "device_offline") == []
    assert len(orders(site, "bridge_offline")) == 1


def test_a_device_offline_of_its_own_keeps_its_alert_through_the_bridge(site: Site) -> None:
    up(site)
    site.send("zigbee2mqtt/z-focus-motion/availability", {"state": "offline"})
    tick(site)
    assert [a["subject"] for a in alerts(site, "device_offline")] == ["z-focus-motion"]
    site.send(STATE, {"state": "offline"})
    tick(site)
    assert [a["subject"] for a in alerts(site, "device_offline")] == ["z-focus-motion"]
    assert len(alerts(site, "bridge_offline")) == 1
    site.send(STATE, {"state": "online"})
    tick(site)
    assert alerts(site, "bridge_offline") == []
    assert [a["subject"] for a in alerts(site, "device_offline")] == ["z-focus-motion"]
    site.send("zigbee2mqtt/z-focus-motion/availability", {"state": "online"})
    tick(site)
    assert alerts(site, "device_offline") == []


def test_a_silent_device_keeps_its_one_alert_through_the_bridge(site: Site) -> None:
    for dev in Z2M[:3]:
        site.send(f"zigbee2mqtt/{dev}/availability", {"state": "online"})
    site.send(STATE, {"state": "online"})
    # the temperature sensor never says its availability: its silence judges it
    site.send("zigbee2mqtt/z-office-101-temp", {"temperature": 21.5, "linkquality": 90})
    silence = site.gw.device_silence_s("z-office-101-temp")
    site.advance(site.clock.t + silence + 60, step=3600)
    (silent,) = alerts(site, "device_offline")
    assert silent["subject"] == "z-office-101-temp"
    site.send(STATE, {"state": "offline"})
    tick(site)
    assert [a["id"] for a in alerts(site, "device_offline")] == [silent["id"]]
    assert len(alerts(site, "bridge_offline")) == 1
    site.send(STATE, {"state": "online"})
    tick(site)
    assert alerts(site, "bridge_offline") == []
    assert [a["id"] for a in alerts(site, "device_offline")] == [silent["id"]]  # never cleared
    assert alerts(site, "device_offline", "cleared") == []
    site.send("zigbee2mqtt/z-office-101-temp", {"temperature": 21.0, "linkquality": 90})
    assert alerts(site, "device_offline") == []  # it speaks again
