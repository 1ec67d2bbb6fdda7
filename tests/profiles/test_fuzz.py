"""Property tests: whatever bytes arrive on a profile's topics, decode raises only DecodeError."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.errors import DecodeError
from gateway.profiles import Decoded, ProfileRegistry
from tests.profiles.conftest import PROFILES_DIR

REGISTRY = ProfileRegistry.load(PROFILES_DIR)
SAMPLES = [s for p in REGISTRY.profiles.values() for s in p.samples]
TOPICS = sorted({s.topic for s in SAMPLES}) + ["nobody/knows", "$SYS/x", "", "/", "#", "+/+"]
OBJECTS: list[dict[str, Any]] = []
for s in SAMPLES:
    try:
        obj = json.loads(s.payload)
    except ValueError:
        continue
    if isinstance(obj, dict):
        OBJECTS.append(obj)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(topic: str, payload: bytes) -> None:
    try:
        got = REGISTRY.decode(topic, payload)
    except DecodeError as err:
        assert isinstance(err.reason, str) and err.reason
        assert not err.reason.startswith("cannot decode payload"), err.reason  # no safety net
        return
    assert got is None or (isinstance(got, Decoded) and got.device)
    if got is not None and not got.readings:  # only a rule that says `on_empty: seen`
        assert any(r.seen_empty for r in REGISTRY.profiles[got.profile].rules)


@FAST
@given(topic=st.sampled_from(TOPICS), payload=st.binary(max_size=200))
def test_random_bytes(topic: str, payload: bytes) -> None:
    check(topic, payload)


@FAST
@given(
    topic=st.sampled_from(TOPICS),
    base=st.sampled_from(OBJECTS),
    changes=st.dictionaries(st.text(max_size=12), json_values, max_size=4),
    replace=st.lists(st.integers(min_value=0, max_value=20), max_size=4),
    drop=st.lists(st.integers(min_value=0, max_value=20), max_size=3),
    new_value=json_values,
)
def test_mutated_json(
    topic: str,
    base: dict[str, Any],
    changes: dict[str, Any],
    replace: list[int],
    drop: list[int],
    new_value: Any,
) -> None:
    obj = dict(base)
    keys = list(obj)
    for i in replace:
        if keys:
            obj[keys[i % len(keys)]] = new_value
    for i in drop:
        if keys:
            obj.pop(keys[i % len(keys)], None)
    obj.update(changes)
    check(topic, json.dumps(obj).encode())


@FAST
@given(topic=st.text(max_size=40), payload=st.sampled_from([s.payload for s in SAMPLES]))
def test_random_topics(topic: str, payload: bytes) -> None:
    check(topic, payload)


@FAST
@given(value=json_values, topic=st.sampled_from(TOPICS))
def test_any_json_document(value: Any, topic: str) -> None:
    check(topic, json.dumps(value).encode())
