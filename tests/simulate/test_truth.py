"""The simulator's ground truth, scripted visits and outages, and the sensor behaviours."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from gateway.building import Building, load_building
from gateway.profiles import ProfileRegistry
from gateway.simulate import Traffic
from gateway.simulate.core import Behaviour, Message
from gateway.simulate.script import Outage, Script
from gateway.simulate.truth import Timeline, load
from tests.support import Broker

ROOT = Path(__file__).resolve().parents[2]
BUILDING = ROOT / "bench" / "detection_building.yaml"


def building() -> Building:
    return load_building(BUILDING)


def start_of(b: Building) -> float:
    return datetime(2026, 3, 4, 7, 30, tzinfo=b.site.tz).timestamp()


def test_truth_follows_every_head_count_change() -> None:
    b = building()
    t0 = start_of(b)
    traffic = Traffic(b, seed=3, start=t0, min_gap=30.0, truth=True)
    traffic.advance(t0)
    seen: dict[str, list[tuple[float, int]]] = {sid: [] for sid in b.spaces}
    for step in range(1, 6 * 60):  # six hours, a look every minute
        traffic.advance(t0 + step * 60)
        for sid, live in traffic.world.spaces.items():
            seen[sid].append((traffic.now, live.count))
    assert traffic.truth is not None
    data = json.loads(json.dumps(traffic.truth.dump(traffic.now)))
    changed = 0
    for sid, space in data["spaces"].items():
        line = Timeline.of(space)
        assert all(line.count_at(ts) == n for ts, n in seen[sid]), sid
        moves = space["changes"]
        changed += len(moves)
        # people in and out add up to the count
        assert space["initial"] + sum(c[2] - c[3] for c in moves) == seen[sid][-1][1]
        assert [c[0] for c in moves] == sorted(c[0] for c in moves)
    assert changed > 50
    per_s = dict(Timeline.of(data["spaces"]["lounge"]).per_second(t0, t0 + 6 * 3600))
    assert len(per_s) == 6 * 3600 and max(per_s.values()) > 0


def test_scripted_visits_and_an_outage_are_played_and_recorded() -> None:
    b = building()
    t0 = start_of(b)
    pir = "z-dies-a-motion"
    script = Script(
        visits={"dies-a": [(t0 + 100, t0 + 400), (t0 + 200, t0 + 300), (t0 + 900, t0 + 1000)]},
        outages=[Outage(pir, t0 + 600, t0 + 1200, announce_s=60.0)],
    )
    traffic = Traffic(b, seed=1, start=t0, min_gap=1.0, script=script, truth=True)
    out = traffic.advance(t0) + traffic.advance(t0 + 1800)
    assert traffic.truth is not None
    truth = traffic.truth.dump(traffic.now)
    changes = [c[:2] for c in truth["spaces"]["dies-a"]["changes"]]
    assert changes == [[t0 + 100, 1], [t0 + 200, 2], [t0 + 300, 1], [t0 + 400, 0]] + [
        [t0 + 900, 1],
        [t0 + 1000, 0],
    ]
    assert truth["outages"] == [
        {"device": pir, "start": t0 + 600, "end": t0 + 1200, "announce_s": 60.0}
    ]
    said = [m for m in out if m.topic == f"zigbee2mqtt/{pir}"]
    assert said and not [m for m in said if t0 + 600 <= m.ts < t0 + 1200]  # dead: silent
    assert any(json.loads(m.payload)["occupancy"] for m in said if m.ts < t0 + 400)
    avail = [
        (m.ts, json.loads(m.payload)["state"])
        for m in out
        if m.topic.endswith(pir + "/availability")
    ]
    assert avail == [(t0, "online"), (t0 + 660, "offline"), (t0 + 1200, "online")]
    assert [m for m in said if m.ts >= t0 + 1200]  # back: it reports its state again


def pir_reports(out: list[Message], device: str) -> list[tuple[float, bool]]:
    return [
        (m.ts, json.loads(m.payload)["occupancy"])
        for m in out
        if m.topic == f"zigbee2mqtt/{device}"
    ]


def test_pir_repeats_sits_still_and_clears_after_its_occupancy_timeout() -> None:
    b = building()
    t0 = start_of(b)
    pir = "z-pir-a-motion"
    still = Behaviour(
        pir_repeat_s=(30.0, 60.0), pir_clear_s=90.0, still_share=0.5, still_max_s=110.0
    )
    script = Script(visits={"pir-a": [(t0 + 60, t0 + 3660)]})
    traffic = Traffic(b, seed=2, start=t0, min_gap=1.0, behaviour=still, script=script)
    reports = pir_reports(traffic.advance(t0) + traffic.advance(t0 + 4000), pir)
    motion = [ts for ts, occ in reports if occ]
    assert t0 + 60 < motion[0] <= t0 + 70  # seen within seconds of walking in
    gaps = [b - a for a, b in zip(motion, motion[1:], strict=False)]
    assert max(gaps) <= 110.0 and min(gaps) >= 30.0
    assert any(g > 90.0 for g in gaps)  # sat still longer than the occupancy timeout ...
    cleared = [ts for ts, occ in reports if not occ and t0 + 60 < ts < t0 + 3660]
    assert cleared  # ... so zigbee2mqtt said "no occupancy" with people still there
    last = max(motion)
    assert reports[-1] == (last + 90.0, False)  # and 90 s after they left for good
    assert last <= t0 + 3660


def test_vs121_uplink_decodes_to_a_people_count() -> None:
    b = building()
    t0 = start_of(b)
    script = Script(visits={"open-1": [(t0 + 10, t0 + 500), (t0 + 20, t0 + 400)]})
    traffic = Traffic(b, seed=1, start=t0, min_gap=1.0, script=script)
    out = traffic.advance(t0) + traffic.advance(t0 + 600)
    ups = [m for m in out if m.topic.endswith("/device/24e124535b312345/event/up")]
    registry = ProfileRegistry.load(ROOT / "device_profiles")
    counts = []
    for m in ups:
        got = registry.decode(m.topic, m.payload.encode())
        assert got is not None and got.device == "24e124535b312345"
        counts += [r.value for r in got.readings if r.quantity == "people_count"]
    assert counts[:4] == [0, 1, 2, 1] and counts[-1] == 0


def test_simulate_command_writes_the_truth(broker: Broker, tmp_path: Path) -> None:
    path = tmp_path / "truth.json"
    run = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "simulate", "--broker", broker.url,
         "--building", str(BUILDING), "--speed", "600", "--duration", "2",
         "--truth", str(path)],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    data = load(path)
    assert set(data["spaces"]) == set(building().spaces)
    assert data["end"] - data["start"] >= 600  # two wall seconds at 600x
