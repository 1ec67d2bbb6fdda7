"""Format v2: units, bounds, selects, capture predicates, fragments, models, commands, trial."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert, select

from gateway.errors import DecodeError, ProfileError
from gateway.profiles import CommandError, ProfileRegistry, load_profile
from gateway.profiles.trial import try_payload
from gateway.store import create_db_engine, init_db
from gateway.store.dead_letters import prune_dead_letters, pruned_count
from gateway.store.tables import DeadLetter
from tests.profiles.conftest import WriteProfile

HEAD = "schema_version: 2\ndescription: d\nsource: s\n"


def registry(write_profile: WriteProfile, body: str, name: str = "acme") -> ProfileRegistry:
    return ProfileRegistry([load_profile(write_profile(name, HEAD + body))])


def test_units_convert_and_bounds_apply_in_canonical_units(write_profile: WriteProfile) -> None:
    reg = registry(
        write_profile,
        """
rules:
  - topic: acme/{device}
    fields:
      tf: {quantity: temperature_c, unit: "°F"}
      rh: {quantity: humidity_pct, unit: fraction}
      co2: co2_ppm
""",
    )
    got = reg.decode("acme/x", b'{"tf": 212, "rh": 0.41}')
    assert got is not None
    values = {r.quantity: r.value for r in got.readings}
    assert values["temperature_c"] == pytest.approx(100.0)
    assert values["humidity_pct"] == pytest.approx(41.0)
    with pytest.raises(DecodeError, match="temperature_c 100.556 above bound 100"):
        reg.decode("acme/x", b'{"tf": 213}')
    with pytest.raises(DecodeError, match="field 'co2': co2_ppm 70000 above bound 10000"):
        reg.decode("acme/x", b'{"co2": 70000}')


def test_select_capture_predicates_and_list_paths(write_profile: WriteProfile) -> None:
    reg = registry(
        write_profile,
        """
rules:
  - topic: acme/{device}/{kind}
    format: text
    when: [{capture: kind, in: [t, h]}]
    select: kind
    fields: {t: temperature_c, h: humidity_pct}
  - topic: acme/{device}/json
    model: info.model
    fields:
      readings[1].v: {quantity: co2_ppm, timestamp: "readings[1].at"}
""",
    )
    got = reg.decode("acme/x/h", b"40.5")
    assert got is not None and got.readings[0].quantity == "humidity_pct"
    with pytest.raises(DecodeError, match="needs topic level 'kind'"):
        reg.decode("acme/x/p", b"1013")
    got = reg.decode(
        "acme/x/json",
        b'{"info": {"model": "AM319"}, "readings": [{"v": 1}, {"v": 612, "at": 1795857302}]}',
    )
    assert got is not None and got.model == "AM319"
    assert (got.readings[0].value, got.readings[0].ts) == (612.0, 1795857302.0)


def test_fragments_compose_and_the_rule_wins(write_profile: WriteProfile, tmp_path: Path) -> None:
    (tmp_path / "_fragments").mkdir()
    (tmp_path / "_fragments" / "climate.yaml").write_text(
        "schema_version: 2\ndescription: d\n"
        "fields: {temperature: temperature_c, humidity: humidity_pct}\n"
    )
    reg = registry(
        write_profile,
        """
rules:
  - topic: acme/{device}
    extend: [{fragment: climate, under: data}]
    fields:
      data.humidity: {quantity: humidity_pct, unit: fraction}
""",
    )
    got = reg.decode("acme/x", b'{"data": {"temperature": 21, "humidity": 0.5}}')
    assert got is not None
    assert {r.quantity: r.value for r in got.readings} == {
        "temperature_c": 21.0,
        "humidity_pct": 50.0,
    }
    path = write_profile("bad", HEAD + "rules:\n  - topic: a/{device}\n    extend: [nope]\n")
    with pytest.raises(ProfileError, match="no fragment 'nope'"):
        load_profile(path)


def test_version_1_files_load_and_refuse_version_2_keys(write_profile: WriteProfile) -> None:
    v1 = "schema_version: 1\ndescription: d\nsource: s\nrules:\n  - topic: a/{device}\n"
    assert (
        load_profile(write_profile("old", v1 + "    fields: {t: temperature_c}\n")).schema_version
        == 1
    )
    with pytest.raises(ProfileError, match=r"rules\[0\].extend: needs schema_version: 2"):
        load_profile(write_profile("old2", v1 + "    extend: [climate]\n"))


def test_commands_and_silence_timeouts_of_shipped_profiles(shipped: ProfileRegistry) -> None:
    topic, payload = shipped.render_command(
        "ref-printer", "p-2f", "release_job", {"job": "j-1", "member": "m-1"}
    )
    assert topic == "ref/printer/p-2f/cmd"
    assert payload == b'{"action": "release", "job": "j-1", "member": "m-1"}'
    topic, payload = shipped.render_command(
        "shelly-gen2", "shellyplus1-a1", "switch_set", {"on": False}
    )
    assert topic == "shellyplus1-a1/rpc" and b'"on": false' in payload and b'"id": 0' in payload
    with pytest.raises(CommandError, match="missing parameter"):
        shipped.render_command("ref-door", "d", "access_decision", {"request": "r"})
    with pytest.raises(CommandError, match="has no command 'explode'"):
        shipped.render_command("ref-door", "d", "explode")
    with pytest.raises(CommandError, match="cannot be one topic level"):
        shipped.render_command("esphome", "n", "switch", {"switch": "a/#", "state": "ON"})
    assert shipped.silence_timeout("zigbee2mqtt") == 90000
    assert shipped.silence_timeout("shelly-gen2", "shellyplusht-b8d61a8b17cc") == 90000
    assert shipped.silence_timeout("shelly-gen2", "shellyplus1-a8032ab12345") == 900
    assert shipped.silence_timeout("chirpstack", "Milesight VS121") == 3600
    assert shipped.silence_timeout("ref-counter") is None


def test_try_explains_a_rejection(shipped: ProfileRegistry) -> None:
    trial = try_payload(shipped.profiles["tasmota"], b'{"SCD30": {"CarbonDioxide": 612}}')
    assert trial.topic == "tele/device/SENSOR" and trial.ok
    assert "co2_ppm = 612.0 ppm" in "\n".join(trial.lines)
    trial = try_payload(shipped.profiles["esphome"], b"nan", "n/sensor/co2/state")
    assert not trial.ok and "expected a number, got 'nan'" in trial.lines[0]


def test_dead_letters_are_pruned_oldest_first_and_counted(tmp_path: Path) -> None:
    db = create_db_engine(f"sqlite:///{tmp_path}/dl.db")
    init_db(db)
    table = DeadLetter.__table__  # type: ignore[attr-defined]
    rows = [
        {"site": s, "topic": f"t/{i}", "payload": b"x", "reason": "r", "received_at": float(i)}
        for i in range(10)
        for s in ("a", "b")
    ]
    with db.begin() as conn:
        conn.execute(insert(table), rows)
    assert prune_dead_letters(db, "a", max_rows=4) == 6
    assert prune_dead_letters(db, "a", max_rows=4) == 0
    with db.connect() as conn:
        left = conn.execute(select(table.c.topic).where(table.c.site == "a")).scalars().all()
        others = conn.execute(select(table.c.id).where(table.c.site == "b")).all()
    assert sorted(left) == ["t/6", "t/7", "t/8", "t/9"] and len(others) == 10
    assert pruned_count(db, "a") == 6 and pruned_count(db, "b") == 0
    db.dispose()
