"""Topic patterns: MQTT wildcard semantics, named captures, subscription filters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.profiles.topic_index import TopicIndex
from gateway.profiles.topics import compile_topic


@pytest.mark.parametrize(
    ("pattern", "topic", "captures"),
    [
        ("zigbee2mqtt/{device}", "zigbee2mqtt/hall_pir", {"device": "hall_pir"}),
        ("zigbee2mqtt/{device}", "zigbee2mqtt/hall_pir/availability", None),
        ("zigbee2mqtt/{device}", "zigbee2mqtt/", None),  # a capture is never empty
        ("ref/door/{device}/event", "ref/door/d-1/event", {"device": "d-1"}),
        ("ref/+/{device}", "ref//x", {"device": "x"}),  # '+' matches an empty level, as in MQTT
        ("a/#", "a", {}),  # 'a/#' matches its parent too
        ("a/#", "a/b/c", {}),
        ("a/#", "ab", None),
        ("#", "anything/at/all", {}),
        (
            "app/{app}/device/{device}/up",
            "app/7/device/a84041/up",
            {"app": "7", "device": "a84041"},
        ),
        ("a.b/{device}", "aXb/x", None),  # literal levels are literal
        ("tele/{device}/SENSOR", "tele/x\ny/SENSOR", {"device": "x\ny"}),
    ],
)
def test_matching(pattern: str, topic: str, captures: dict[str, str] | None) -> None:
    assert compile_topic(pattern).match(topic) == captures


@pytest.mark.parametrize(
    ("pattern", "filter_", "first"),
    [
        ("zigbee2mqtt/{device}", "zigbee2mqtt/+", "zigbee2mqtt"),
        ("{device}/state", "+/state", None),
        ("a/#", "a/#", "a"),
        ("+/x/{device}", "+/x/+", None),
    ],
)
def test_filter_and_first_level(pattern: str, filter_: str, first: str | None) -> None:
    compiled = compile_topic(pattern)
    assert (compiled.filter, compiled.first) == (filter_, first)


@pytest.mark.parametrize("bad", ["", "a/#/b", "a/b#", "a/{dev ice}", "a/x{device}", "{a}/{a}"])
def test_bad_patterns(bad: str) -> None:
    with pytest.raises(ValueError):
        compile_topic(bad)


PATTERNS = [
    "zigbee2mqtt/{device}",
    "zigbee2mqtt/{device}/availability",
    "zigbee2mqtt/bridge/#",
    "ref/door/{device}/event",
    "ref/+/{device}",
    "+/door/{device}",
    "{site}/{device}",
    "#",
    "a",
    "a/#",
    "$SYS/#",
    "ref/door/x/#",
    "ref//{device}",
]
LEVELS = ["zigbee2mqtt", "bridge", "ref", "door", "x", "a", "", "$SYS", "event", "availability"]


@given(st.lists(st.sampled_from(LEVELS), min_size=1, max_size=4))
def test_index_lookup_never_misses_a_match(levels: list[str]) -> None:
    topic = "/".join(levels)
    compiled = [compile_topic(p) for p in PATTERNS]
    index = TopicIndex([(c, c.pattern) for c in compiled])
    found = index.lookup(topic)
    matching = [c.pattern for c in compiled if c.match(topic) is not None]
    if topic.startswith("$"):  # wildcards do not match $-topics (MQTT 4.7.2)
        matching = [p for p in matching if p.startswith("$")]
    assert [p for p in found if p in matching] == matching
