"""A scripted day (tests/occupancy/day.py) on a fake clock; every figure worked out by hand."""

from __future__ import annotations

import pytest

from gateway.occupancy import snapshot
from gateway.occupancy.accumulate import Acc, EngineOutput
from gateway.readmodel.figures import Totals, weighted_percentile
from gateway.readmodel.recommend import recommend
from tests.occupancy.day import BUSINESS_S, L, building, run


@pytest.fixture(scope="module")
def day() -> EngineOutput:
    out = EngineOutput()
    for _now, _eng, drained in run(L(19, 0)):
        out.merge(drained)
    return out


def day_totals(out: EngineOutput) -> dict[str, Acc]:
    """Each space's day: the sum of its closed bins (what the store's day rows hold)."""
    got: dict[str, Acc] = {}
    for a in out.bins:
        got.setdefault(a.space, Acc(a.space, 0)).merge(a)
    return got


def totals(out: EngineOutput) -> dict[str, Totals]:
    got: dict[str, Totals] = {}
    for sid, a in day_totals(out).items():
        t = got[sid] = Totals()
        t.add(a.occupied_s, a.known_s, a.counted_s, a.person_s, a.peak)
        t.hist = dict(a.hist or {})
    return got


def bins_of(out: EngineOutput, space: str) -> dict[float, Acc]:
    got: dict[float, Acc] = {}
    for a in out.bins:
        if a.space == space:
            assert a.key * 900 not in got, "a bin was emitted twice"
            got[a.key * 900] = a
    return got


def test_orion_counter_figures(day: EngineOutput) -> None:
    a = day_totals(day)["orion"]
    # occupied 09:00-10:00 and 12:00-12:30: 3600 + 1800 = 5400 s of 36,000 -> 15 % used
    assert a.occupied_s == 5400
    # the counter said something all business day (0 before 08:00 counts from 08:00)
    assert a.known_s == a.counted_s == BUSINESS_S
    # person-seconds: 2 x 2400 (09:00-09:40) + 3 x 1200 (09:40-10:00) + 2 x 1800 (lunch)
    #               = 4800 + 3600 + 3600 = 12,000; the late 09:50 "3" changed nothing
    assert a.person_s == 12_000
    assert a.peak == 3
    # headcount histogram while occupied: 2 people 2400 + 1800 = 4200 s, 3 people 1200 s
    assert a.hist == {2: 4200, 3: 1200}
    # p90 by time: 4200/5400 = 77.8 % at <= 2 people, so the 90th percentile is 3
    assert weighted_percentile(a.hist, 0.9) == 3


def test_orion_bins(day: EngineOutput) -> None:
    bins = bins_of(day, "orion")
    # a bin per 15 minutes of business hours: 40 bins, each keyed once
    assert len(bins) == 40
    assert min(bins) == L(8, 0) and max(bins) == L(17, 45)
    # 09:30 bin: 600 s at 2 people + 300 s at 3 -> 1200 + 900 = 2100 person-s, peak 3
    b = bins[L(9, 30)]
    assert (b.occupied_s, b.person_s, b.peak) == (900, 2100, 3)
    # 09:45 bin: 900 s at 3 -> 2700
    assert bins[L(9, 45)].person_s == 2700
    # 10:00 bin: empty but observed
    assert (bins[L(10, 0)].occupied_s, bins[L(10, 0)].known_s, bins[L(10, 0)].peak) == (0, 900, 0)
    # the day row is the sum of its bins
    assert sum(x.occupied_s for x in bins.values()) == 5400
    assert sum(x.person_s for x in bins.values()) == 12_000


def test_focus_motion_and_late_events(day: EngineOutput) -> None:
    row = day_totals(day)["focus"]
    # 11:00 .. 11:06 + 300 s timeout = 11:11 -> 660 s; the 14:00 motion arriving at 14:02
    # counts from 14:02 to its timeout 14:05 -> 180 s; the 15:00 motion arriving at 15:06
    # (past its timeout) adds nothing: 660 + 180 = 840 s
    assert row.occupied_s == 840
    assert row.known_s == BUSINESS_S  # "no motion" at 07:55 made it known (vacant)
    assert row.counted_s == 0 and row.peak is None


def test_booth_sensor_offline_mid_call(day: EngineOutput) -> None:
    row = day_totals(day)["booth"]
    # occupied 14:00-14:20 (1200 s); unknown 14:20-15:00 (2400 s) counts neither way
    assert row.occupied_s == 1200
    assert row.known_s == BUSINESS_S - 2400


def test_unknown_is_never_idle() -> None:
    for now, eng, _ in run(L(14, 40)):
        if now == L(14, 40):
            v = eng.view("booth", now)
            assert (v.state, v.idle) == ("unknown", False)
            assert "booth" not in {f.id for f in eng.free_now(now)}


def test_idle_episodes(day: EngineOutput) -> None:
    eps = sorted((e.space, e.start, e.end, e.opened_at) for e in day.episodes.values())
    assert eps == sorted(
        [
            # vacant since before opening: the stretch counts from 08:00, idle at 08:15
            ("orion", L(8), L(9), L(8, 15)),
            ("orion", L(10), L(12), L(10, 15)),
            # vacant from 12:30, idle 12:45, closed by the close of business at 18:00
            ("orion", L(12, 30), L(18), L(12, 45)),
            ("focus", L(8), L(11), L(8, 15)),
            ("focus", L(11, 11), L(14, 2), L(11, 26)),
            ("focus", L(14, 5), L(18), L(14, 20)),
            ("booth", L(8), L(14), L(8, 15)),
            ("booth", L(15), L(18), L(15, 15)),
        ]
    )


def test_free_now_with_since() -> None:
    for now, eng, _ in run(L(10, 20)):
        if now == L(10, 20):
            free = {v.id: v for v in eng.free_now(now)}
            assert free["orion"].since == L(10) and free["orion"].idle_since == L(10)
            # focus vacant since 07:55 but idle counted from opening
            assert free["focus"].idle_since == L(8)
    for now, eng, _ in run(L(10, 10)):
        if now == L(10, 10):
            v = eng.view("orion", now)
            assert (v.state, v.idle) == ("vacant", False)  # 10 min < idle_after


def test_ghost_booking_and_no_show(day: EngineOutput) -> None:
    found = {(f.kind, f.ref, f.detected_at) for f in day.findings}
    # focus booked 13:00, nobody by 13:10 (grace 600 s) -> release at 13:10;
    # booth booked 14:30 while its sensor was offline -> unverified, not released;
    # orion booked 09:00 and occupied at 09:00 -> checked in, no finding
    assert found == {
        ("ghost_booking", "b-focus", L(13, 10)),
        ("unverified_booking", "b-booth", L(14, 40)),
    }
    *_, (_, eng, _) = run(L(19, 0))
    # no-show rate = released / decided bookings that required check-in = 1 / 2
    ns = eng.no_show
    assert (ns.required, ns.released, ns.checked_in, ns.unverified) == (2, 1, 1, 1)
    assert ns.rate == 0.5


def test_recommendations(day: EngineOutput) -> None:
    b = building()
    recs = recommend(b.spaces, totals(day), BUSINESS_S, 1, 20.0, 0.5)
    kinds = {(r["space"], r["kind"]) for r in recs}
    # used: orion 15 %, focus 840/36000 = 2.33 %, booth 1200/36000 = 3.33 % -> all < 20 %;
    # orion p90 = 3 < 8 / 2 -> right-size
    assert kinds == {
        ("orion", "chronic_underuse"),
        ("focus", "chronic_underuse"),
        ("booth", "chronic_underuse"),
        ("orion", "right_size"),
    }
    by = {(r["space"], r["kind"]): r["figures"] for r in recs}
    assert by[("focus", "chronic_underuse")]["time_used_pct"] == 2.33
    assert by[("booth", "chronic_underuse")]["coverage_pct"] == round(100 * 33600 / 36000, 2)
    assert by[("orion", "right_size")]["p90_headcount"] == 3
    # at 5 % threshold only orion (15 %) is spared; with ratio 0.3 (2.4 seats) no right-size
    recs = recommend(b.spaces, totals(day), BUSINESS_S, 1, 5.0, 0.3)
    assert {(r["space"], r["kind"]) for r in recs} == {
        ("focus", "chronic_underuse"),
        ("booth", "chronic_underuse"),
    }


def test_restart_resumes_without_double_counting() -> None:
    """Snapshot at 09:50 mid-meeting, 'kill -9', restart at 09:52 and play the rest."""
    out = EngineOutput()
    snap = b""
    for now, eng, drained in run(L(9, 50)):
        out.merge(drained)
        if now == L(9, 50):
            snap = snapshot.dump(eng, now)
    # a fresh engine at 09:52 (the gateway was down 09:50-09:52)
    fresh = next(run(L(9, 52), start=L(9, 52)))[1]
    fresh = type(fresh)(building(), fresh.settings, L(9, 52), grace_s=600)
    assert snapshot.restore(fresh, snap, L(9, 52)) == 3
    v = fresh.view("orion", L(9, 52))
    assert (v.state, v.occupancy, v.since) == ("occupied", 3, L(9, 0))  # since kept
    for _now, _eng, drained in run(L(19, 0), engine=fresh, start=L(9, 52)):
        out.merge(drained)
    bins = bins_of(out, "orion")
    assert len(bins) == 40  # no bin lost
    # 09:45 bin: 09:45-09:50 observed (300 s), 09:50-09:52 down, 09:52-10:00 (480 s)
    assert bins[L(9, 45)].occupied_s == 300 + 480
    assert bins[L(9, 45)].person_s == 3 * 780
    assert day_totals(out)["orion"].occupied_s == 5400 - 120  # the two minutes down are not counted
    # the booking checked in before the crash is not decided twice
    assert fresh.no_show.checked_in == 1 and fresh.no_show.required == 2


def test_restart_with_stale_evidence_is_unknown() -> None:
    for now, eng, _ in run(L(9, 50)):
        if now == L(9, 50):
            snap = snapshot.dump(eng, now)
    settings = eng.settings.model_copy(update={"sensor_stale_s": 3600})
    later = L(12, 0)  # the counter last spoke at 09:40: over an hour ago
    fresh = type(eng)(building(), settings, later)
    snapshot.restore(fresh, snap, later)
    assert fresh.view("orion", later).state == "unknown"
    # the open 09:45 bin was closed with what was observed before the crash
    out = fresh.drain()
    (b,) = [a for a in out.bins if a.space == "orion"]
    assert (b.key * 900, b.occupied_s) == (L(9, 45), 300)
