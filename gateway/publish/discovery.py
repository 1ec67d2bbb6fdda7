"""Home Assistant MQTT discovery: an occupancy binary sensor and a people sensor per space.

Each space becomes one Home Assistant device (identifiers from the site and space id, the
floor as its suggested area) with two entities reading the space's retained state topic:

- ``binary_sensor`` with ``device_class: occupancy``: ``ON`` when occupied, ``OFF`` when
  vacant, unknown (the template renders ``None``) when the gateway cannot tell;
- ``sensor`` with the people count (``state_class: measurement``), unknown when the space has
  no counter reporting.

Both are unavailable while the gateway's status topic says ``offline`` (its last will), and
carry the whole state payload (``since``, ``idle``, ...) as attributes.
"""

from __future__ import annotations

from typing import Any

from gateway import __version__
from gateway.building import Building, Space
from gateway.publish.topics import Topics

BINARY_SENSOR_TEMPLATE = (
    "{{ 'ON' if value_json.state == 'occupied' else "
    "('OFF' if value_json.state == 'vacant' else 'None') }}"
)
PEOPLE_TEMPLATE = "{{ value_json.occupancy if value_json.occupancy is number else 'None' }}"
ORIGIN = {"name": "gateway", "sw_version": __version__}


def _device(building: Building, topics: Topics, space: Space) -> dict[str, Any]:
    floors = {f.id: f.name for f in building.floors}
    return {
        "identifiers": [f"{topics.node_id}_{space.id}"],
        "name": space.name,
        "manufacturer": "gateway",
        "model": space.type.replace("_", " "),
        "suggested_area": floors.get(space.floor, space.floor),
    }


def _common(building: Building, topics: Topics, space: Space) -> dict[str, Any]:
    state = topics.state(space.id)
    return {
        "state_topic": state,
        "json_attributes_topic": state,
        "availability_topic": topics.status,
        "payload_available": "online",
        "payload_not_available": "offline",
        "qos": 1,
        "device": _device(building, topics, space),
        "origin": ORIGIN,
    }


def space_configs(
    building: Building, topics: Topics, space: Space
) -> list[tuple[str, dict[str, Any]]]:
    """The discovery (topic, config) pairs of one space."""
    base = f"{topics.node_id}_{space.id}"
    occupancy = {
        "name": "Occupancy",
        "unique_id": f"{base}_occupancy",
        "device_class": "occupancy",
        "value_template": BINARY_SENSOR_TEMPLATE,
        "payload_on": "ON",
        "payload_off": "OFF",
        **_common(building, topics, space),
    }
    people = {
        "name": "People",
        "unique_id": f"{base}_people",
        "state_class": "measurement",
        "unit_of_measurement": "people",
        "icon": "mdi:account-multiple",
        "value_template": PEOPLE_TEMPLATE,
        **_common(building, topics, space),
    }
    return [
        (topics.discovery("binary_sensor", f"{space.id}_occupancy"), occupancy),
        (topics.discovery("sensor", f"{space.id}_people"), people),
    ]


def discovery_configs(building: Building, topics: Topics) -> dict[str, dict[str, Any]]:
    """Every space's discovery configs, by topic."""
    out: dict[str, dict[str, Any]] = {}
    for space in building.spaces.values():
        out.update(space_configs(building, topics, space))
    return out
