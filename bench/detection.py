"""Benchmark: the occupancy engine's findings against the simulator's ground truth.

A day (``--hours`` from 07:30 site time) of the bench building (bench/detection_building.yaml)
is played on a fast clock (``--speed`` x real time) by the simulator, through a hermetic
Mosquitto, into a real in-process gateway whose injected clock is the simulated clock, with
the API served by uvicorn. Devices: zigbee2mqtt PIRs that re-report while people move, go
quiet while people sit still (less than the motion timeout) and say ``occupancy: false`` 90 s
after the last motion (zigbee2mqtt ``occupancy_timeout``, zigbee2mqtt.io
docs/devices/RTCGQ11LM.md); Tuya and Aqara mmWave radars; a Milesight VS121 counter through
ChirpStack and a reference counter; reference desk sensors; every zigbee2mqtt device
announcing ``{"state": "online"}`` on ``zigbee2mqtt/<name>/availability`` at start
(zigbee2mqtt.io guide/configuration/device-availability); a PIR that dies while its room is
empty (announced offline after the bridge's passive timeout), a desk sensor that just goes
quiet, a radar router unplugged (announced offline) while a booking is made for its room.
Bookings are made through the API: shows, early arrivals, late arrivals (after the grace),
arrivals just inside the grace, no-shows. Tunables are shortened through the Settings object
(motion timeout, idle_after, grace, sensor_stale_s; see ``Tunables``).

``/api/v1/spaces`` is sampled every ``--sample`` wall seconds and the bookings read at the
end. Printed against the truth (bench/detection_score.py; tolerance windows from the tunables
and the devices' report delays only): state agreement % outside the windows, idle precision
and recall, samples of a truly occupied room shown idle, share of the time a room with no live
sensor is shown anything but ``unknown``, ghost-release precision and recall, release latency
against start + grace, truth-to-gateway latency (median, p95). All times are simulated
seconds; a wall-clock delay inside the gateway counts ``--speed`` times. Ends with one line
holding a JSON object.

    .venv/bin/python bench/detection.py [--seeds 1,2,3] [--speed 60] [--hours 4]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from detection_score import Allow, score  # noqa: E402
from detection_script import Planned, Tunables, plan  # noqa: E402

from gateway.building import load_building  # noqa: E402
from gateway.simulate import Simulator  # noqa: E402
from gateway.simulate.core import Behaviour  # noqa: E402
from gateway.simulate.sensors import DEBOUNCE_S, FIRST_MOTION_S, SETTLE_S  # noqa: E402
from tests.support import Broker, free_port, wait_for  # noqa: E402

BUILDING = ROOT / "bench" / "detection_building.yaml"
TOKEN = "detection-bench-token"
TRANSPORT_WALL_S = 0.25  # publish round, batch, commit, apply: wall seconds allowed


class SimClock:
    """Simulated epoch seconds: frozen at ``base`` until ``go``, then ``speed`` x real time."""

    def __init__(self, base: float, speed: float) -> None:
        self.base, self.speed = base, speed
        self.t0: float | None = None

    def go(self) -> None:
        self.t0 = time.monotonic()

    def __call__(self) -> float:
        if self.t0 is None:
            return self.base
        return self.base + (time.monotonic() - self.t0) * self.speed


def _kinds(building: Any) -> dict[str, str]:
    """Each space's occupancy sensor kind: pir, presence or counter."""
    out: dict[str, str] = {}
    for d in building.devices.values():
        label = f"{d.model or ''} {d.id}".lower()
        if d.profile in ("ref-counter", "chirpstack"):
            out[d.space] = "counter"
        elif any(w in label for w in ("mmwave", "fp1", "zy-m100", "desk", "presence")):
            out[d.space] = "presence"
        elif "rtcgq" in label or "motion" in label:
            out[d.space] = "pir"
    return out


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts).astimezone().isoformat()


def _ts(text: str | None) -> float | None:
    return None if text is None else datetime.fromisoformat(text).timestamp()


def run_once(seed: int, speed: float, hours: float, sample_s: float, quiet: bool) -> dict[str, Any]:
    """Play one seeded day; the figures."""
    import uvicorn

    from gateway.app import create_app
    from gateway.runtime import Gateway
    from gateway.settings import load_settings

    tu = Tunables()
    building = load_building(BUILDING)
    tz = building.site.tz
    day = datetime.now(tz).date()
    start = datetime(day.year, day.month, day.day, 7, 30, tzinfo=tz)
    t0 = start.timestamp()
    t1 = t0 + hours * 3600
    transport_s = 1.0 + TRANSPORT_WALL_S * speed
    allows = {
        "pir": Allow(FIRST_MOTION_S[1], tu.motion_timeout_s),
        "presence": Allow(SETTLE_S[1], SETTLE_S[1]),
        "counter": Allow(DEBOUNCE_S[1], DEBOUNCE_S[1]),
    }
    scripted = plan(seed, t0, t1, tu, {k: a.report_s + transport_s for k, a in allows.items()})
    clock = SimClock(t0, speed)

    work = Path(tempfile.mkdtemp(prefix="detection-"))
    cwd = Path.cwd()
    os.chdir(work)  # the gateway's .gateway/ files go there
    broker = Broker(work).start()
    port = free_port()
    settings = load_settings(
        database_url=f"sqlite:///{work}/g.db",
        building=str(BUILDING),
        admin_token=TOKEN,
        mqtt={"url": broker.url, "embedded": False},
        api={"host": "127.0.0.1", "port": port},
        publish={"enabled": False},
        occupancy={
            "motion_timeout_s": tu.motion_timeout_s,
            "idle_after_s": tu.idle_after_s,
            "sensor_stale_s": tu.stale_s,
            # the ticker's waits are wall seconds: keep them within 0.1 simulated second
            "tick_s": 0.1 / speed,
        },
        bookings={"grace_s": tu.grace_s},
        access={"key_dir": str(work / "keys")},
    )
    gw = Gateway(settings, clock=clock)
    server = uvicorn.Server(
        uvicorn.Config(create_app(gw), host="127.0.0.1", port=port, log_level="warning")
    )
    api_thread = threading.Thread(target=server.run, name="bench-api", daemon=True)
    api_thread.start()
    api = httpx.Client(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    samples: list[tuple[float, list[dict[str, Any]]]] = []
    try:
        wait_for(lambda: _up(api), timeout=30)
        gw.transport.connected.wait(10)

        def book(p: Planned) -> None:
            r = api.post(
                "/api/v1/bookings",
                json={
                    "space": p.space,
                    "member": p.member,
                    "start": _iso(p.start),
                    "end": _iso(p.end),
                },
            )
            if r.status_code != 201:
                raise RuntimeError(f"booking {p}: {r.status_code} {r.text}")
            p.id = r.json()["id"]

        for p in scripted.bookings:
            if p.make_at is None:
                book(p)
        later = sorted((p for p in scripted.bookings if p.make_at is not None),
                       key=lambda p: p.make_at or 0.0)  # fmt: skip
        behaviour = Behaviour(still_share=0.25, still_max_s=0.8 * tu.motion_timeout_s)
        truth_path = work / "truth.json"
        sim = Simulator(
            building,
            broker.url,
            speed=speed,
            seed=seed,
            start=start,
            clock=clock,
            behaviour=behaviour,
            script=scripted.script,
            truth=str(truth_path),
        )
        stop = threading.Event()
        sim_thread = threading.Thread(
            target=sim.run, args=(stop,), kwargs={"duration_s": (t1 - t0) / speed}, daemon=True
        )
        sim_thread.start()
        sim._connected.wait(10)  # the day starts once the devices' bridge is connected
        clock.go()
        while sim_thread.is_alive():
            now = clock()
            while later and (later[0].make_at or 0.0) <= now:
                book(later.pop(0))
            r = api.get("/api/v1/spaces")
            stamp = (now + clock()) / 2
            data = r.json()["data"]
            for sp in data:
                sp["since_ts"] = _ts(sp["since"])
            samples.append((stamp, data))
            time.sleep(sample_s)
        time.sleep(0.5)
        rows = api.get("/api/v1/bookings", params={"limit": 1000}).json()["data"]
        health = api.get("/api/v1/health").json()
    finally:
        server.should_exit = True
        api_thread.join(timeout=20)  # the app's lifespan stops the gateway
        broker.stop()
        api.close()
        os.chdir(cwd)
    by_id = {r["id"]: r for r in rows}
    booked = []
    for p in scripted.bookings:
        r = by_id[p.id or ""]
        booked.append({**r, "kind": p.kind, "start_ts": p.start,
                       "released_at_ts": _ts(r["released_at"])})  # fmt: skip
    from gateway.simulate.truth import load

    truth = load(truth_path)
    figures = score(truth, samples, booked, _kinds(building), allows, tu, transport_s)
    figures.update(seed=seed, speed=speed, hours=hours, health=health.get("status"),
                   transport_allow_s=transport_s, published=sim.published)  # fmt: skip
    if not quiet:
        for b in booked:
            print(f"  booking {b['space']:<10} {b['kind']:<7} -> {b['status']:<10} {b['outcome']}")
    return figures


def _up(api: httpx.Client) -> bool:
    try:
        return api.get("/api/v1/health").status_code == 200
    except httpx.HTTPError:
        return False


GOALS = {
    "idle_precision": (">=", 0.999),
    "occupied_shown_idle": ("==", 0),
    "idle_recall": (">=", 0.98),
    "blind_shown_idle": ("==", 0),
    "blind_shown_known_share": ("==", 0.0),
    "ghost_precision": (">=", 1.0),
    "ghost_recall": (">=", 0.98),
    "release_late_max_s": ("<=", 1.0),
    "agreement_pct": (">=", 99.0),
}


def _met(v: Any, op: str, goal: float) -> bool:
    if v is None:
        return False
    return {">=": v >= goal, "<=": v <= goal, "==": v == goal}[op]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seeds", help="several seeds, comma separated (overrides --seed)")
    ap.add_argument("--speed", type=float, default=60.0, help="simulated seconds per second")
    ap.add_argument("--hours", type=float, default=4.0, help="simulated hours from 07:30")
    ap.add_argument("--sample", type=float, default=0.1, help="wall seconds between samples")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else [args.seed]
    runs = []
    for seed in seeds:
        print(f"seed {seed}: {args.hours:g} h at {args.speed:g}x", flush=True)
        f = run_once(seed, args.speed, args.hours, args.sample, quiet=False)
        runs.append(f)
        for k, v in f.items():
            if k not in ("disagreements", "release_wrong"):
                print(f"  {k:<38} {v:.4g}" if isinstance(v, float) else f"  {k:<38} {v}")
        for k in ("disagreements", "release_wrong"):
            if f[k]:
                print(f"  {k}: {f[k]}")
    summary: dict[str, Any] = {"seeds": seeds, "speed": args.speed, "hours": args.hours}
    for key, (op, goal) in GOALS.items():
        vals = [r[key] for r in runs]
        ok = all(_met(v, op, goal) for v in vals)
        summary[key] = vals
        summary[f"{key}_goal_met"] = ok
        print(f"goal {key} {op} {goal}: {'met' if ok else 'MISSED'} {vals}")
    for key in ("latency_median_s", "latency_p95_s", "latency_departure_pir_p95_s",
                "blind_shown_known_share", "release_late_median_s"):  # fmt: skip
        summary[key] = [r[key] for r in runs]
    summary["agreement_pct_mean"] = statistics.mean(r["agreement_pct"] or 0 for r in runs)
    print(json.dumps(summary, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
