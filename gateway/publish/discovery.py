"""Home Assistant MQTT discovery: an occupancy binary sensor and a people sensor per space.

Each space becomes one Home Assistant device (identifiers from the site and space id) in the
area named after the space (``suggested_area``: areas are rooms in Home Assistant; the floor
stays an attribute), with two entities reading the space's retained state topic:

- ``binary_sensor`` with ``device_class: occupancy``: ``ON`` when occupied, ``OFF`` when
  vacant, unknown (the template renders ``None``) when the gateway cannot tell;
- ``sensor`` with the people count (``state_class: measurement``), unknown when the space has
  no counter reporting.

Both are unavailable while the gateway's status topic says ``offline`` (its last will), and
carry the whole state payload (``floor``, ``since``, ``idle``, ...) as attributes. Home
Assistant drops the attribute keys ``name`` and ``state`` (``MQTT_ATTRIBUTES_BLOCKED`` in
home-assistant/core homeassistant/components/mqtt/mixins.py; newer releases block
``friendly_name`` instead of ``name``, ``state`` in all), so the attributes template renames
them ``space_name`` and ``space_state``; the state topic itself keeps its documented keys.
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
# the state payload's keys (``publisher.state_payload``), renamed where HA would drop them
STATE_KEYS = ("id", "name", "type", "floor", "capacity", "state", "occupancy", "since", "idle")
ATTRIBUTE_RENAMES = {"name": "space_name", "state": "space_state"}


def jinja_string(text: str) -> str:
    """``text`` as a Jinja string literal (Jinja unescapes it like a Python literal)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def attributes_template(floor_name: str) -> str:
    """The state payload as attributes, renamed where HA drops keys, with the floor's name."""
    pairs = [f"'{ATTRIBUTE_RENAMES.get(k, k)}': value_json.{k}" for k in STATE_KEYS]
    pairs.append(f"'floor_name': {jinja_string(floor_name)}")
    return "{{ {" + ", ".join(pairs) + "} | tojson }}"


def _device(topics: Topics, space: Space) -> dict[str, Any]:
    return {
        "identifiers": [f"{topics.node_id}_{space.id}"],
        "name": space.name,
        "manufacturer": "gateway",
        "model": space.type.replace("_", " "),
        "suggested_area": space.name,
    }


def _common(topics: Topics, space: Space, floor_name: str) -> dict[str, Any]:
    state = topics.state(space.id)
    return {
        "state_topic": state,
        "json_attributes_topic": state,
        "json_attributes_template": attributes_template(floor_name),
        "availability_topic": topics.status,
        "payload_available": "online",
        "payload_not_available": "offline",
        "qos": 1,
        "device": _device(topics, space),
        "origin": ORIGIN,
    }


def space_configs(
    topics: Topics, space: Space, floor_name: str
) -> list[tuple[str, dict[str, Any]]]:
    """The discovery (topic, config) pairs of one space (on the floor named ``floor_name``)."""
    base = f"{topics.node_id}_{space.id}"
    occupancy = {
        "name": "Occupancy",
        "unique_id": f"{base}_occupancy",
        "device_class": "occupancy",
        "value_template": BINARY_SENSOR_TEMPLATE,
        "payload_on": "ON",
        "payload_off": "OFF",
        **_common(topics, space, floor_name),
    }
    people = {
        "name": "People",
        "unique_id": f"{base}_people",
        "state_class": "measurement",
        "unit_of_measurement": "people",
        "icon": "mdi:account-multiple",
        "value_template": PEOPLE_TEMPLATE,
        **_common(topics, space, floor_name),
    }
    return [
        (topics.discovery("binary_sensor", f"{space.id}_occupancy"), occupancy),
        (topics.discovery("sensor", f"{space.id}_people"), people),
    ]


def discovery_configs(building: Building, topics: Topics) -> dict[str, dict[str, Any]]:
    """Every space's discovery configs, by topic."""
    floors = {f.id: f.name for f in building.floors}
    out: dict[str, dict[str, Any]] = {}
    for space in building.spaces.values():
        out.update(space_configs(topics, space, floors.get(space.floor, space.floor)))
    return out
