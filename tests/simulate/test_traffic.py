"""The simulated traffic, without a broker: shapes, rates and behaviour over a whole day."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.building import Building, load_building
from gateway.simulate import Traffic
from gateway.simulate.core import Message
from gateway.simulate.traffic import zigbee_kind
from tests.simulate.shapes import check

ROOT = Path(__file__).resolve().parents[2]
SPEED = 60.0


@pytest.fixture(scope="module")
def building() -> Building:
    return load_building(ROOT / "examples" / "building.yaml")


def run_day(building: Building, seed: int = 1, minutes: int = 13 * 60 + 30) -> list[Message]:
    """A Wednesday from 07:30 (to 21:00), with the report rate limits of speed 60."""
    start = datetime(2026, 3, 4, 7, 30, tzinfo=building.site.tz).timestamp()
    traffic = Traffic(building, seed=seed, start=start, min_gap=SPEED * 0.5)
    out = traffic.advance(start)
    for step in range(1, minutes + 1):
        out += traffic.advance(start + step * 60)
    out += traffic.end()
    return out


@pytest.fixture(scope="module")
def day(building: Building) -> list[Message]:
    return run_day(building)


def hour(building: Building, ts: float) -> float:
    local = datetime.fromtimestamp(ts, building.site.tz)
    return local.hour + local.minute / 60


def bodies(day: list[Message], topic: str) -> list[tuple[float, dict[str, Any]]]:
    return [(m.ts, json.loads(m.payload)) for m in day if m.topic == topic]


def test_every_message_has_its_documented_shape(building: Building, day: list[Message]) -> None:
    families = Counter(check(building, m.topic, m.payload.encode()) for m in day)
    assert set(families) == {
        "ref-door",
        "ref-printer",
        "ref-occupancy",
        "ref-counter",
        "ref-environment",
        "zigbee2mqtt",
        "zigbee2mqtt-availability",
    }
    assert [m.ts for m in day] == sorted(m.ts for m in day)
    silent = set(building.devices) - {
        m.topic.split("/")[1 if m.topic[0] == "z" else 2] for m in day
    }
    assert not silent


def test_rate_at_speed_60_is_sane(building: Building, day: list[Message]) -> None:
    per_hour = Counter(int(hour(building, m.ts)) for m in day)
    for h in range(9, 18):
        assert 5 * 60 <= per_hour[h] <= 50 * 60, (h, per_hour[h])


def test_deterministic(building: Building) -> None:
    once = run_day(building, minutes=120)
    assert run_day(building, minutes=120) == once
    assert run_day(building, seed=2, minutes=120) != once


def test_pir_repeats_while_occupied_and_times_out(building: Building, day: list[Message]) -> None:
    reports = bodies(day, "ref/occupancy/f1-101-pir")
    trues = [ts for ts, b in reports if b.get("motion") is True]
    falses = [ts for ts, b in reports if b.get("motion") is False]
    assert len(trues) > 100 and len(falses) >= 2
    gaps = [b - a for a, b in zip(trues, trues[1:], strict=False)]
    assert min(gaps) >= 30
    for ts in falses[1:]:  # the first is the initial state
        last = max(t for t in trues if t < ts)
        assert ts - last >= 90


def test_zigbee_pir_payload(building: Building, day: list[Message]) -> None:
    reports = bodies(day, "zigbee2mqtt/z-f1-booth-1-motion")
    assert {b["occupancy"] for _, b in reports} == {True, False}
    assert all({"battery", "illuminance", "linkquality"} <= set(b) for _, b in reports)
    avail = [m.payload for m in day if m.topic == "zigbee2mqtt/z-f1-booth-1-motion/availability"]
    assert avail == ['{"state":"online"}', '{"state":"offline"}']


def test_meetings_raise_co2_and_rooms_empty_later(building: Building, day: list[Message]) -> None:
    env = bodies(day, "ref/env/f1-vega-env")
    counts = bodies(day, "ref/counter/f1-vega-pc")
    assert max(b["co2"] for _, b in env) > 800
    assert min(b["co2"] for ts, b in env if hour(building, ts) > 19.5) < 600
    busy = Counter(
        int(hour(building, ts)) < 14
        for sid, space in building.spaces.items()
        if space.type == "meeting_room"
        for ts, b in bodies(day, f"ref/counter/{sid}-pc")
        if b["count"]
    )
    assert busy[True] > busy[False]
    assert max(b["count"] for _, b in counts) >= 4


def test_lounge_busy_at_lunch(building: Building, day: list[Message]) -> None:
    counts = bodies(day, "ref/counter/f1-lounge-pc")
    lunch = max(b["count"] for ts, b in counts if 12 <= hour(building, ts) < 13.5)
    morning = max(b["count"] for ts, b in counts if 9 <= hour(building, ts) < 11.5)
    assert lunch > 2 * morning


def test_printer_jams_and_jobs_flow(building: Building, day: list[Message]) -> None:
    statuses = [
        b for p in ("f1-printer", "f2-printer") for _, b in bodies(day, f"ref/printer/{p}/status")
    ]
    assert any(b["jam"] is True and b["state"] == "error" for b in statuses)
    jammed = [b["jam"] for b in statuses]
    assert jammed[-1] is False or statuses[-1]["state"] == "offline"
    jobs: dict[object, list[object]] = defaultdict(list)
    for _, b in bodies(day, "ref/printer/f1-printer/job"):
        jobs[b["job"]].append(b["event"])
    assert len(jobs) > 20
    done = [events for events in jobs.values() if "completed" in events]
    assert done and all(e == ["submitted", "held", "released", "completed"] for e in done)


def test_doors_grant_mostly_and_deny_sometimes(building: Building, day: list[Message]) -> None:
    events = Counter(json.loads(m.payload)["event"] for m in day if m.topic.endswith("/event"))
    assert events["granted"] > 10 * events["denied"] > 0
    assert events["opened"] >= events["granted"]
    assert abs(events["opened"] - events["closed"]) <= 5


def test_zigbee_kinds(building: Building) -> None:
    kinds = Counter(zigbee_kind(d) for d in building.devices.values() if d.profile == "zigbee2mqtt")
    assert set(kinds) == {"motion", "presence", "contact", "airq", "temphum"}
