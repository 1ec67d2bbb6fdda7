"""The ACL plan follows the door request topic and topic prefix the settings name."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.building import load_building
from gateway.deploy.acl import door_request_topic, plan_acl, render_acl, request_acl_topic
from gateway.errors import ConfigError
from gateway.profiles import ProfileRegistry
from gateway.settings import Settings
from tests.deploy.test_broker_acl import BUILDING
from tests.support import ROOT


def test_request_topic_becomes_the_doors_own_pattern() -> None:
    assert request_acl_topic("ref/door/+/request") == "ref/door/%u/request"
    assert request_acl_topic("site/+/door/+/req") == "site/+/door/%u/req"  # the last + is the door
    assert request_acl_topic("doors/{device}/ask") == "doors/%u/ask"
    with pytest.raises(ConfigError):
        request_acl_topic("doors/ask")


def test_custom_request_topic_and_prefix_reach_the_acl(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text(BUILDING)
    building = load_building(tmp_path / "b.yaml")
    registry = ProfileRegistry.load(ROOT / "device_profiles")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        access={"request_topic": "acme/+/ask"},
        publish={"topic_prefix": "acme/hq"},
    )
    plan = plan_acl(building, registry, settings)
    assert "acme/+/ask" in plan.gateway_read
    assert plan.doors == ("door-a", "door-b")  # the counter is no door
    assert plan.door_write == ("acme/door-a/ask", "acme/door-b/ask")
    assert plan.door_read == ("acme/hq/access/revocations",)
    text = render_acl(plan)
    assert "topic readwrite acme/hq/#" in text.split("user gateway")[1].split("\nuser ")[0]
    assert "user door-a\ntopic write acme/door-a/ask\ntopic read acme/hq/access/revocations" in text
    assert "user cnt-a" not in text


def test_request_topics_are_granted_per_door_never_by_pattern(tmp_path: Path) -> None:
    """A pattern applies to every user: ``pattern write ref/door/%u/request`` let a counter
    (or any device) ask for door decisions on its own id."""
    (tmp_path / "b.yaml").write_text(BUILDING)
    building = load_building(tmp_path / "b.yaml")
    registry = ProfileRegistry.load(ROOT / "device_profiles")
    plan = plan_acl(building, registry, Settings(_env_file=None))  # type: ignore[call-arg]
    assert not [t for t in plan.device_write if t.endswith("/request")]
    assert plan.door_write == ("ref/door/door-a/request", "ref/door/door-b/request")
    text = render_acl(plan)
    assert "request" not in "\n".join(ln for ln in text.splitlines() if ln.startswith("pattern"))
    sections = {s.split("\n", 1)[0]: s for s in text.split("\nuser ")[1:]}
    assert "topic write ref/door/door-a/request" in sections["door-a"]
    assert "door-b/request" not in sections["door-a"]
    assert "topic write ref/door/door-b/request" in sections["door-b"]
    assert door_request_topic("site/+/door/+/req", "d-1") == "site/+/door/d-1/req"
    assert door_request_topic("doors/{device}/ask", "d-1") == "doors/d-1/ask"
