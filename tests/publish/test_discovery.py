"""Home Assistant discovery configs: the keys HA needs, consistent topics, working templates."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from gateway.building import Building, load_building
from gateway.publish.discovery import discovery_configs
from gateway.publish.topics import Topics, ha_id, segment
from tests.support import FIXTURES

HA_ID = re.compile(r"^[a-zA-Z0-9_-]+$")


@pytest.fixture(scope="module")
def building() -> Building:
    return load_building(FIXTURES / "building-small.yaml")


@pytest.fixture(scope="module")
def topics(building: Building) -> Topics:
    return Topics.for_site(building.site.id, None, "homeassistant")


def test_default_prefix_is_gateway_site(topics: Topics) -> None:
    assert topics.prefix == "gateway/test-site"
    assert topics.status == "gateway/test-site/status"
    assert topics.state("orion") == "gateway/test-site/space/orion/state"
    assert topics.command("orion") == "gateway/test-site/space/orion/command"


def test_two_configs_per_space_with_the_keys_home_assistant_needs(
    building: Building, topics: Topics
) -> None:
    configs = discovery_configs(building, topics)
    assert len(configs) == 2 * len(building.spaces)
    unique_ids = [c["unique_id"] for c in configs.values()]
    assert len(set(unique_ids)) == len(unique_ids)
    floors = {f.id: f.name for f in building.floors}
    for topic, cfg in configs.items():
        prefix, component, node_id, object_id, last = topic.split("/")
        assert (prefix, last) == ("homeassistant", "config")
        assert component in ("binary_sensor", "sensor")
        assert HA_ID.match(node_id) and HA_ID.match(object_id), topic
        json.dumps(cfg)  # serialisable
        space_id = cfg["device"]["identifiers"][0].removeprefix(f"{node_id}_")
        space = building.spaces[space_id]
        assert cfg["state_topic"] == topics.state(space_id) == cfg["json_attributes_topic"]
        assert cfg["availability_topic"] == topics.status
        assert (cfg["payload_available"], cfg["payload_not_available"]) == ("online", "offline")
        assert "availability" not in cfg  # HA: not together with availability_topic
        dev = cfg["device"]
        assert dev["name"] == space.name
        assert dev["suggested_area"] == space.name  # HA areas are rooms
        assert f"'floor_name': '{floors[space.floor]}'" in cfg["json_attributes_template"]
        assert dev["manufacturer"] and dev["model"]
        assert cfg["qos"] == 1 and cfg["value_template"]
        if component == "binary_sensor":
            assert cfg["device_class"] == "occupancy"
            assert (cfg["payload_on"], cfg["payload_off"]) == ("ON", "OFF")
        else:
            assert cfg["state_class"] == "measurement"


def _render(template: str, payload: dict[str, Any]) -> str:
    jinja2 = pytest.importorskip("jinja2")
    return str(jinja2.Environment().from_string(template).render(value_json=payload))


@pytest.mark.parametrize(
    ("state", "occupancy", "binary", "people"),
    [
        ("occupied", 3, "ON", "3"),
        ("vacant", 0, "OFF", "0"),
        ("occupied", None, "ON", "None"),
        ("unknown", None, "None", "None"),  # HA reads the rendered "None" as unknown
    ],
)
def test_value_templates_render_what_home_assistant_expects(
    building: Building,
    topics: Topics,
    state: str,
    occupancy: int | None,
    binary: str,
    people: str,
) -> None:
    configs = discovery_configs(building, topics)
    payload = {"state": state, "occupancy": occupancy, "idle": False}
    rendered = {
        t.split("/")[1]: _render(c["value_template"], payload)
        for t, c in configs.items()
        if "/orion_" in t
    }
    assert rendered == {"binary_sensor": binary, "sensor": people}


def test_ids_are_cleaned_without_collisions() -> None:
    assert ha_id("desk-area_1") == "desk-area_1"
    assert ha_id("a.b") != ha_id("a_b")
    assert HA_ID.match(ha_id("ground floor/desk #3"))
    assert segment("orion") == "orion"
    assert "/" not in segment("a/b") and "+" not in segment("a+") and "#" not in segment("#")
    assert segment("a/b") != segment("a_b")
