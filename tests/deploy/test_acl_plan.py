"""The ACL plan follows the door request topic and topic prefix the settings name."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.building import load_building
from gateway.deploy.acl import plan_acl, render_acl, request_acl_topic
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
    assert "acme/%u/ask" in plan.device_write and "acme/+/ask" in plan.gateway_read
    assert plan.doors == ("door-a", "door-b")  # the counter is no door
    assert plan.door_read == ("acme/hq/access/revocations",)
    text = render_acl(plan)
    assert "topic readwrite acme/hq/#" in text.split("user gateway")[1].split("\nuser ")[0]
    assert "user door-a\ntopic read acme/hq/access/revocations" in text
    assert "user cnt-a" not in text
