"""What Home Assistant makes of a space: its area, and attributes HA does not drop."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.building import Building, load_building
from gateway.occupancy import SpaceView
from gateway.publish.discovery import attributes_template, discovery_configs
from gateway.publish.publisher import state_payload
from gateway.publish.topics import Topics
from tests.support import FIXTURES

# home-assistant/core homeassistant/components/mqtt/mixins.py MQTT_ATTRIBUTES_BLOCKED: the
# json_attributes keys HA filters out (the 2024 releases list "name"; later ones moved the
# list to entity.py and block "friendly_name" instead; "state" is blocked in both).
HA_BLOCKED = {
    "assumed_state",
    "available",
    "context_recent_time",
    "device_class",
    "device_info",
    "entity_category",
    "entity_picture",
    "entity_registry_enabled_default",
    "extra_state_attributes",
    "force_update",
    "friendly_name",
    "icon",
    "name",
    "should_poll",
    "state",
    "supported_features",
    "unique_id",
    "unit_of_measurement",
}


@pytest.fixture(scope="module")
def building() -> Building:
    return load_building(FIXTURES / "building-small.yaml")


def _attributes(template: str, payload: dict[str, Any]) -> dict[str, Any]:
    """What HA's MqttAttributesMixin keeps: the template rendered with ``value_json``, read
    as JSON, blocked keys filtered out (the same steps as ``_attributes_message_received``)."""
    jinja2 = pytest.importorskip("jinja2")
    rendered = jinja2.Environment().from_string(template).render(value_json=payload)
    attrs = json.loads(rendered)
    assert isinstance(attrs, dict)
    return {k: v for k, v in attrs.items() if k not in HA_BLOCKED}


def test_home_assistant_keeps_every_state_field_under_a_name_it_does_not_drop(
    building: Building,
) -> None:
    topics = Topics.for_site(building.site.id, None, "homeassistant")
    space = building.spaces["orion"]
    payload = state_payload(space, SpaceView("orion", "occupied", 3, 1_700_000_000.0, False))
    assert {"name", "state"} <= set(payload)  # the state topic keeps its documented keys
    configs = [c for t, c in discovery_configs(building, topics).items() if "/orion_" in t]
    assert len(configs) == 2
    for cfg in configs:
        attrs = _attributes(cfg["json_attributes_template"], payload)
        assert attrs["space_name"] == "Orion" and attrs["space_state"] == "occupied"
        assert attrs["floor"] == "1" and attrs["floor_name"] == "Ground floor"
        renamed = {"name": "space_name", "state": "space_state"}
        for key, value in payload.items():  # nothing of the state payload is lost
            assert attrs[renamed.get(key, key)] == value, key


def test_each_space_is_its_own_area_named_after_it(building: Building) -> None:
    topics = Topics.for_site(building.site.id, None, "homeassistant")
    for cfg in discovery_configs(building, topics).values():
        space_id = cfg["device"]["identifiers"][0].removeprefix(f"{topics.node_id}_")
        assert cfg["device"]["suggested_area"] == building.spaces[space_id].name


@pytest.mark.parametrize(
    "floor_name", ['Étage 2 — l\'aile "nord"', "back\\slash {{ x }} {% y %}", "🏢 roof\nterrace"]
)
def test_any_floor_name_reaches_the_attributes_unchanged(floor_name: str) -> None:
    payload = {k: None for k in ("id", "name", "type", "floor", "capacity")}
    payload |= {"state": "vacant", "occupancy": 0, "since": "2024-03-01T09:00:00.000Z"}
    payload["idle"] = True
    attrs = _attributes(attributes_template(floor_name), payload)
    assert attrs["floor_name"] == floor_name
    assert attrs["space_state"] == "vacant" and attrs["idle"] is True
