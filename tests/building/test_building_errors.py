"""Building file errors name the file, the line, the field path and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.building import load_building
from gateway.errors import BuildingError, ConfigError

GOOD = """\
site:
  id: ams-01
  name: Amsterdam Noord
  timezone: Europe/Amsterdam
  business_hours:
    mon-fri: "08:00-20:00"
floors:
  - id: f1
    name: Ground floor
    spaces:
      - {id: orion, name: Orion, type: meeting_room, capacity: 8, bookable: true}
      - {id: booth-1, name: Booth, type: phone_booth, capacity: 1}
  - id: f2
    name: First floor
    spaces:
      - id: office-201
        name: Office 201
        type: private_office
        capacity: 4
devices:
  - {id: orion-pc, profile: ref-counter, space: orion}
  - {id: printer-1, profile: ref-printer}
"""


def load(tmp_path: Path, text: str) -> str:
    """Load ``text`` and return the BuildingError message, with the file name replaced."""
    path = tmp_path / "building.yaml"
    path.write_text(text)
    with pytest.raises(BuildingError) as info:
        load_building(path)
    assert isinstance(info.value, ConfigError)
    return str(info.value).replace(str(path), "FILE")


def test_good_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "building.yaml"
    path.write_text(GOOD)
    b = load_building(path)
    assert list(b.spaces) == ["orion", "booth-1", "office-201"]
    assert b.spaces["office-201"].floor == "f2"
    assert b.devices["printer-1"].space is None
    assert [d.id for d in b.devices_in("orion")] == ["orion-pc"]


def test_bad_capacity(tmp_path: Path) -> None:
    msg = load(tmp_path, GOOD.replace("capacity: 4", "capacity: ten"))
    assert msg == ("FILE:19: floors[1].spaces[0].capacity: expected an integer >= 1, got 'ten'")
    msg = load(tmp_path, GOOD.replace("capacity: 1}", "capacity: 0}"))
    assert msg == "FILE:12: floors[0].spaces[1].capacity: expected an integer >= 1, got 0"
    msg = load(tmp_path, GOOD.replace("capacity: 1}", "capacity: true}"))
    assert msg.endswith("got true")


def test_missing_capacity(tmp_path: Path) -> None:
    msg = load(tmp_path, GOOD.replace("        capacity: 4\n", ""))
    assert msg.startswith("FILE:16: floors[1].spaces[0]: missing key 'capacity'")


def test_duplicate_space_id(tmp_path: Path) -> None:
    msg = load(tmp_path, GOOD.replace("id: office-201", "id: orion"))
    assert msg == (
        "FILE:16: floors[1].spaces[0].id: duplicate space id 'orion' "
        "(already at floors[0].spaces[0])"
    )


def test_duplicate_device_id(tmp_path: Path) -> None:
    msg = load(tmp_path, GOOD.replace("id: printer-1", "id: orion-pc"))
    assert msg == "FILE:22: devices[1].id: duplicate device id 'orion-pc'"


def test_device_bound_to_unknown_space(tmp_path: Path) -> None:
    msg = load(tmp_path, GOOD.replace("space: orion}", "space: lyra}"))
    assert msg == "FILE:21: devices[0].space: expected the id of a space, got 'lyra'"


def test_bad_timezone(tmp_path: Path) -> None:
    msg = load(tmp_path, GOOD.replace("Europe/Amsterdam", "Europe/Atlantis"))
    assert msg.startswith("FILE:4: site.timezone: expected an IANA time zone name")
    assert msg.endswith("got 'Europe/Atlantis'")


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        ("20:00-08:00", "expected the start before the end"),
        ("08:00-25:00", "expected times between 00:00 and 24:00"),
        ("8am-5pm", "expected a span 'HH:MM-HH:MM'"),
        ("08:00-08:00", "expected the start before the end"),
    ],
)
def test_bad_span(tmp_path: Path, span: str, expected: str) -> None:
    msg = load(tmp_path, GOOD.replace("08:00-20:00", span))
    assert msg.startswith(f"FILE:6: site.business_hours.mon-fri: {expected}")
    assert msg.endswith(f"got {span!r}")


def test_bad_day_and_overlaps(tmp_path: Path) -> None:
    msg = load(tmp_path, GOOD.replace("mon-fri:", "monday-fri:"))
    assert msg.startswith("FILE:6: site.business_hours.monday-fri: expected a day (mon..sun)")
    twice = GOOD.replace('"08:00-20:00"\n', '"08:00-20:00"\n    fri: "09:00-10:00"\n')
    assert "day 'fri' is already given by 'mon-fri'" in load(tmp_path, twice)
    overlap = GOOD.replace('"08:00-20:00"', '["08:00-12:00", "11:00-14:00"]')
    assert "expected spans that do not overlap on mon" in load(tmp_path, overlap)
    item = GOOD.replace('"08:00-20:00"', '["08:00-12:00", 13]')
    assert load(tmp_path, item) == (
        "FILE:6: site.business_hours.mon-fri[1]: expected a span 'HH:MM-HH:MM', got 13"
    )


def test_unknown_key(tmp_path: Path) -> None:
    msg = load(
        tmp_path,
        GOOD.replace("        capacity: 4\n", "        capacity: 4\n        colour: red\n"),
    )
    assert msg == (
        "FILE:20: floors[1].spaces[0].colour: unknown key "
        "(expected one of id, name, type, capacity, bookable, calendar)"
    )
    msg = load(tmp_path, GOOD + "owner: someone\n")
    assert msg.startswith("FILE:23: owner: unknown key")


def test_bad_type_and_bookable(tmp_path: Path) -> None:
    msg = load(tmp_path, GOOD.replace("type: phone_booth", "type: booth"))
    assert msg.startswith("FILE:12: floors[0].spaces[1].type: expected one of private_office,")
    assert msg.endswith("got 'booth'")
    msg = load(tmp_path, GOOD.replace("bookable: true", "bookable: maybe"))
    assert msg == "FILE:11: floors[0].spaces[0].bookable: expected true or false, got 'maybe'"


def test_bad_ids(tmp_path: Path) -> None:
    msg = load(tmp_path, GOOD.replace("id: printer-1", "id: printers/1"))
    assert msg.startswith("FILE:22: devices[1].id: expected an id without '/'")
    msg = load(tmp_path, GOOD.replace("{id: printer-1, profile: ref-printer}", "{id: printer-1}"))
    assert msg == "FILE:22: devices[1]: missing key 'profile' (expected a profile name)"


def test_not_a_mapping(tmp_path: Path) -> None:
    msg = load(tmp_path, "- site\n- floors\n")
    assert (
        msg == "FILE:1: expected a mapping with keys schema_version, site, floors, devices, plans, "
        "members, bridges, got a list"
    )
    assert load(tmp_path, "") == "FILE:1: the building file is empty (expected site, floors)"
    assert load(tmp_path, "site: {id: s, timezone: UTC}\n") == "FILE:1: missing key 'floors'"
    msg = load(tmp_path, "site: {id: s, timezone: UTC}\nfloors: 3\n")
    assert msg == "FILE:2: floors: expected a list, got 3"


def test_yaml_syntax_error(tmp_path: Path) -> None:
    msg = load(tmp_path, GOOD.replace("name: Ground floor", "name: [Ground floor"))
    assert msg.startswith("FILE:10: YAML syntax error: ")
    msg = load(tmp_path, GOOD.replace("  name: Amsterdam Noord", "  name: a\n  name: b"))
    assert msg == "FILE:4: duplicate key 'name'"


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(BuildingError, match="cannot read the building file"):
        load_building(tmp_path / "missing.yaml")
