"""Loader errors: a bad profile file gives a ProfileError naming file, field and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.errors import ProfileError
from gateway.profiles import ProfileRegistry, load_profile
from tests.profiles.conftest import WriteProfile

HEAD = "schema_version: 1\ndescription: d\nsource: s\n"
RULE = "rules:\n  - topic: acme/{device}\n    fields:\n"


def field(spec: str) -> str:
    return HEAD + RULE + f"      temperature: {spec}\n"


BAD = [
    # (yaml text, field path in the message, problem substring)
    (
        field("{quantity: temperature_c, scale: hot}"),
        "rules[0].fields.temperature.scale",
        "expected a number",
    ),
    (
        field("{quantity: temperature}"),
        "rules[0].fields.temperature.quantity",
        "unknown quantity 'temperature'",
    ),
    (field("temp_c"), "rules[0].fields.temperature.quantity", "unknown quantity 'temp_c'"),
    (
        field("{quantity: temperature_c, unit: F}"),
        "rules[0].fields.temperature.unit",
        "reported in '°C'",
    ),
    (
        field("{quantity: temperature_c, scael: 2}"),
        "rules[0].fields.temperature.scael",
        "unknown key",
    ),
    (
        field("{quantity: temperature_c, scale: 0}"),
        "rules[0].fields.temperature.scale",
        "must not be 0",
    ),
    (
        field("{quantity: temperature_c, map: {a: 1}, scale: 2}"),
        "rules[0].fields.temperature.scale",
        "does not apply together with map",
    ),
    (
        field("{quantity: temperature_c, type: boolean}"),
        "rules[0].fields.temperature.type",
        "cannot become temperature_c",
    ),
    (
        field("{quantity: contact_open, map: {open: yes}}"),
        "rules[0].fields.temperature.map.open",
        "takes bool values",
    ),
    (
        field("{quantity: door, map: {x: exploded}}"),
        "rules[0].fields.temperature.map.x",
        "not a door value",
    ),
    (
        field("{quantity: motion, min: 0}"),
        "rules[0].fields.temperature.min",
        "only numeric quantities",
    ),
    (
        field("{quantity: motion, required: maybe}"),
        "rules[0].fields.temperature.required",
        "expected true or false",
    ),
    (
        "schema_version: 3\ndescription: d\nsource: s\nrules: []\n",
        "schema_version",
        "unsupported version 3",
    ),
    (
        "schema_version: '1'\ndescription: d\nsource: s\nrules: []\n",
        "schema_version",
        "unsupported version '1'",
    ),
    ("description: d\nsource: s\nrules: []\n", "schema_version", "is missing"),
    (HEAD.replace("source: s\n", "") + RULE + "      t: temperature_c\n", "source", "is missing"),
    (HEAD + "rules: []\n", "rules", "at least one rule"),
    (HEAD + "rules: {}\n", "rules", "expected a list"),
    (HEAD + "rulez: []\n", "rulez", "unknown key"),
    (
        HEAD + "rules:\n  - topic: acme/+/x\n    fields: {t: temperature_c}\n",
        "rules[0].topic",
        "needs a {device} capture",
    ),
    (
        HEAD + "rules:\n  - topic: acme/#/{device}\n    fields: {t: temperature_c}\n",
        "rules[0].topic",
        "must be the last level",
    ),
    (
        HEAD + "rules:\n  - topic: acme/dev-{device}\n    fields: {t: temperature_c}\n",
        "rules[0].topic",
        "whole level",
    ),
    (
        HEAD + "rules:\n  - topic: a/{device}/{device}\n    fields: {t: temperature_c}\n",
        "rules[0].topic",
        "appears twice",
    ),
    (HEAD + "rules:\n  - topic: acme/{device}\n", "rules[0].fields", "is missing"),
    (
        HEAD + "rules:\n  - topic: acme/{device}\n    fields: {}\n",
        "rules[0].fields",
        "at least one field",
    ),
    (
        HEAD
        + "rules:\n  - topic: acme/{device}\n    format: xml\n    fields: {t: temperature_c}\n",
        "rules[0].format",
        "expected one of json, text",
    ),
    (
        HEAD + "rules:\n  - topic: acme/{device}\n    format: text\n    fields: {t: online}\n",
        "rules[0].fields",
        "does not apply to a text rule",
    ),
    (
        HEAD + "rules:\n  - topic: acme/{device}\n    when: [{key: a, exists: true, equals: 1}]\n"
        "    fields: {t: temperature_c}\n",
        "rules[0].when[0]",
        "give one of exists, equals, in",
    ),
    (
        HEAD + "rules:\n  - topic: acme/{device}\n    timestamp: {key: ts, format: unix}\n"
        "    fields: {t: temperature_c}\n",
        "rules[0].timestamp.format",
        "expected one of auto",
    ),
    (
        HEAD
        + "rules:\n  - topic: acme/{device}\n    fields: {t: temperature_c, t: humidity_pct}\n",
        "",
        "duplicate key 't'",
    ),
    (HEAD + "ignore: [a/#/b]\n" + RULE + "      t: temperature_c\n", "ignore[0]", "last level"),
    (
        HEAD + RULE + "      t: temperature_c\nsamples:\n  - topic: acme/x\n    payload: {}\n",
        "samples[0]",
        "exactly one of expect",
    ),
    (
        HEAD + RULE + "      t: temperature_c\nsamples:\n  - topic: acme/x\n    payload: {}\n"
        "    expect: [{quantity: warmth, value: 1}]\n",
        "samples[0].expect[0].quantity",
        "unknown quantity",
    ),
    ("rules: [unclosed\n", "", "not valid YAML"),
    ("- just\n- a list\n", "", "expected a mapping"),
]


@pytest.mark.parametrize(("text", "where", "problem"), BAD, ids=[b[2] for b in BAD])
def test_bad_profile_names_file_field_and_problem(
    write_profile: WriteProfile, text: str, where: str, problem: str
) -> None:
    path = write_profile("acme", text)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    message = str(info.value)
    assert message.startswith(str(path))
    assert f": {where}:" in message if where else True
    assert problem in message


def test_registry_load_fails_on_a_bad_file(write_profile: WriteProfile, tmp_path: Path) -> None:
    write_profile("good", field("temperature_c"))
    write_profile("bad", field("{quantity: nope}"))
    with pytest.raises(ProfileError, match=r"bad\.yaml: rules\[0\]\.fields\.temperature\.quantity"):
        ProfileRegistry.load(tmp_path)


def test_same_name_twice(write_profile: WriteProfile, tmp_path: Path) -> None:
    write_profile("acme", field("temperature_c"))
    (tmp_path / "acme.yml").write_text(field("temperature_c"))
    with pytest.raises(ProfileError, match="also defined by"):
        ProfileRegistry.load(tmp_path)


def test_bad_file_name(write_profile: WriteProfile) -> None:
    path = write_profile("-acme", field("temperature_c"))
    with pytest.raises(ProfileError, match="file stem"):
        load_profile(path)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="not a directory"):
        ProfileRegistry.load(tmp_path / "absent")


def test_yaml_12_booleans_and_times_stay_text(write_profile: WriteProfile) -> None:
    path = write_profile(
        "acme",
        HEAD
        + RULE.replace(
            "fields:\n",
            "fields:\n      s: {quantity: online, map: {on: true, off: false, yes: true}}\n",
        )
        + "samples:\n"
        "  - topic: acme/x\n    payload: {s: on, ts: 2026-11-28T09:15:02Z}\n"
        "    expect: [{quantity: online, value: true}]\n",
    )
    profile = load_profile(path)
    spec = profile.rules[0].fields[0]
    assert spec.mapping == {(False, "on"): True, (False, "off"): False, (False, "yes"): True}
    assert b'"ts": "2026-11-28T09:15:02Z"' in profile.samples[0].payload


def test_shipped_profiles_load(shipped: ProfileRegistry) -> None:
    assert shipped.names == sorted(shipped.names)
    assert {"ref-door", "zigbee2mqtt"} <= set(shipped.names)
