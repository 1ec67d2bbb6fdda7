"""One field out of bounds refuses that reading only; the rest of the message is read."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from gateway.errors import DecodeError
from gateway.profiles import ProfileRegistry
from gateway.store.tables import DeadLetter
from tests.ingest.test_pipeline import Harness


def _decode(reg: ProfileRegistry, topic: str, payload: dict[str, object]) -> dict[str, object]:
    got = reg.decode(topic, json.dumps(payload).encode())
    assert got is not None
    return {r.quantity: r.value for r in got.readings}


def test_an_out_of_bounds_field_refuses_that_reading_only(shipped: ProfileRegistry) -> None:
    payload = {"co2": 830, "voc_index": 620, "linkquality": 94}
    got = shipped.decode("zigbee2mqtt/2f_meeting_a_air", json.dumps(payload).encode())
    assert got is not None
    assert {r.quantity: r.value for r in got.readings} == {"co2_ppm": 830.0}
    assert got.refused == ("field 'voc_index': voc_index 620 above bound 500",)


def test_voc_in_micrograms_is_read_beside_co2(shipped: ProfileRegistry) -> None:
    # the payload: `voc` is a concentration (µg/m³), 620 is a plausible office value
    got = _decode(shipped, "zigbee2mqtt/2f_meeting_a_air", {"co2": 830, "voc": 620})
    assert got == {"co2_ppm": 830.0, "voc_ugm3": 620.0}


def test_a_start_up_co2_value_does_not_lose_temperature_and_humidity(
    shipped: ProfileRegistry,
) -> None:
    payload = {"co2": 70000, "temperature": 22.1, "humidity": 41.0, "linkquality": 90}
    got = shipped.decode("zigbee2mqtt/2f_meeting_a_air", json.dumps(payload).encode())
    assert got is not None
    assert {r.quantity: r.value for r in got.readings} == {
        "temperature_c": 22.1,
        "humidity_pct": 41.0,
    }
    assert len(got.refused) == 1 and "co2_ppm 70000 above bound 10000" in got.refused[0]
    # a start-up co2 of 1 ppm is inside the physical range: everything is read
    low = _decode(shipped, "zigbee2mqtt/2f_meeting_a_air", {**payload, "co2": 1})
    assert low == {"co2_ppm": 1.0, "temperature_c": 22.1, "humidity_pct": 41.0}


def test_a_message_with_nothing_readable_is_refused_whole(shipped: ProfileRegistry) -> None:
    payload = {"co2": 70000, "humidity": 130, "linkquality": 90}
    try:
        shipped.decode("zigbee2mqtt/2f_meeting_a_air", json.dumps(payload).encode())
    except DecodeError as err:
        assert "co2_ppm 70000 above bound 10000" in err.reason
        assert "humidity_pct 130 above bound 100" in err.reason
    else:
        raise AssertionError("expected the message to be refused")


def test_the_pipeline_stores_the_good_readings_and_dead_letters_the_bad_field(
    tmp_path: Path,
) -> None:
    h = Harness(tmp_path)
    good = {"co2": 70000, "temperature": 21.4, "humidity": 38.5, "linkquality": 80}
    bad = {"co2": 70000, "linkquality": 80}
    h.pipeline.process(
        [
            h.msg("zigbee2mqtt/z-office-101-temp", good),
            h.msg("zigbee2mqtt/z-office-101-temp", bad),
        ]
    )
    assert [(e.quantity, e.value) for e in h.applied] == [
        ("temperature_c", 21.4),
        ("humidity_pct", 38.5),
    ]
    assert h.acked == [1, 2]
    with h.db.connect() as c:
        rows = c.execute(select(DeadLetter).order_by(DeadLetter.id)).all()
    assert len(rows) == 2
    field, whole = rows
    # the refused field: named, with its device and profile, the payload kept
    assert field.reason.startswith("reading refused: field 'co2'")
    assert "above bound 10000" in field.reason
    assert (field.device, field.profile) == ("z-office-101-temp", "zigbee2mqtt")
    # the message with nothing readable is dead-lettered whole, once
    assert "co2_ppm 70000 above bound 10000" in whole.reason
    assert not whole.reason.startswith("reading refused")
    d = h.devices["z-office-101-temp"]
    assert d.readings["temperature_c"]["value"] == 21.4 and "co2_ppm" not in d.readings
