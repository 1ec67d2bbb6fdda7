"""The documented payload shape of every simulated topic (docs/reference-devices.md)."""

from __future__ import annotations

import json
from typing import Any

from gateway.building import Building
from gateway.events import DOOR_EVENTS, PRINT_JOB_EVENTS, PRINTER_STATES

ENV_KEYS = {"temperature", "humidity", "co2", "pm25", "pm10", "tvoc", "noise", "lux"}
Z2M_KEYS = {
    "occupancy": bool,
    "presence": bool,
    "contact": bool,
    "temperature": float,
    "humidity": float,
    "co2": float,
    "voc": float,
    "pm25": float,
    "battery": float,
    "illuminance": float,
    "linkquality": float,
}


def _num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _obj(payload: bytes) -> dict[str, Any]:
    body = json.loads(payload)
    assert isinstance(body, dict), payload
    assert "ts" not in body, "simulated payloads carry no ts"
    return body


def check(building: Building, topic: str, payload: bytes) -> str:
    """Assert ``payload`` has the documented shape for ``topic``; return its family."""
    parts = topic.split("/")
    device = building.devices.get(parts[1] if parts[0] == "zigbee2mqtt" else parts[2])
    assert device is not None, topic
    if parts[0] == "zigbee2mqtt":
        assert device.profile == "zigbee2mqtt"
        if len(parts) == 3 and parts[2] == "availability":
            text = payload.decode()
            state = text if text in ("online", "offline") else _obj(payload)["state"]
            assert state in ("online", "offline"), payload
            return "zigbee2mqtt-availability"
        assert len(parts) == 2, topic
        body = _obj(payload)
        assert set(body) <= set(Z2M_KEYS), body
        assert set(body) & {"occupancy", "presence", "contact", "temperature", "co2"}, body
        for key, value in body.items():
            assert isinstance(value, bool) if Z2M_KEYS[key] is bool else _num(value), body
        return "zigbee2mqtt"
    assert parts[0] == "ref", topic
    body = _obj(payload)
    family = f"{parts[0]}-{parts[1]}"
    profile = {"ref-env": "ref-environment"}.get(family, family)
    assert device.profile == profile, (topic, device.profile)
    if topic.endswith("/event"):
        assert body["event"] in DOOR_EVENTS and set(body) <= {"event", "credential", "member"}
        assert ("credential" in body) == ("member" in body), body
    elif parts[1] == "door":
        assert topic.endswith("/status") and set(body) == {"online"}
        assert isinstance(body["online"], bool)
    elif topic.endswith("/job"):
        assert set(body) == {"job", "event", "owner", "pages"}, body
        assert body["event"] in PRINT_JOB_EVENTS and body["pages"] >= 1
    elif parts[1] == "printer":
        assert topic.endswith("/status") and set(body) == {"state", "paper_pct", "toner_pct", "jam"}
        assert body["state"] in PRINTER_STATES and isinstance(body["jam"], bool)
        assert 0 <= body["paper_pct"] <= 100 and 0 <= body["toner_pct"] <= 100
    elif parts[1] == "occupancy":
        assert len(parts) == 3 and body and set(body) <= {"motion", "presence", "battery"}, body
        assert all(isinstance(body[k], bool) for k in ("motion", "presence") if k in body)
    elif parts[1] == "counter":
        assert len(parts) == 3 and set(body) == {"count"}
        assert isinstance(body["count"], int) and body["count"] >= 0
    else:
        assert parts[1] == "env" and len(parts) == 3 and body and set(body) <= ENV_KEYS, body
        assert all(_num(v) for v in body.values()), body
        assert 300 < body["co2"] < 5000 and 10 < body["temperature"] < 35
    return profile
