"""Engine state snapshot and restore, so a restart (even after ``kill -9``) resumes it.

The snapshot holds each space's evidence, state, since-when, open bin, open
idle episode and watched bookings. The service writes it in the same transaction as the bins,
day rows, episodes and findings drained with it, so the store never holds a closed bin that
the snapshot does not know was closed, nor a snapshot counting seconds that the rollups lack.

On restore:
- the time between the snapshot and the restart was not observed: nothing is accounted for
  it (each space's stretch restarts at ``now``), and an idle episode open at the snapshot is
  closed at the snapshot's time;
- every space is recomputed at ``now``: evidence that went stale meanwhile makes it
  ``unknown``, an expired motion timeout makes it vacant; a state that still holds keeps its
  ``since``;
- open bins are kept under their keys and close at the next tick, so a bin interrupted by a
  crash is written once with what was observed, neither lost nor counted twice.
"""

from __future__ import annotations

import json
import math
from typing import Any

from gateway.occupancy.accumulate import Acc
from gateway.occupancy.bookings import Booking
from gateway.occupancy.engine import OccupancyEngine
from gateway.occupancy.fusion import EVIDENCE_FIELDS, UNKNOWN

VERSION = 2


def _num(x: float) -> float | None:
    return None if math.isinf(x) else x


def _unnum(x: float | None, default: float = -math.inf) -> float:
    return default if x is None else float(x)


def dump(engine: OccupancyEngine, now: float) -> bytes:
    """The engine's state as JSON bytes (open bins settled up to ``now`` first)."""
    engine.close_bins(now)
    for sid in engine._known:
        engine._settle(engine.spaces[sid], now)
    spaces: dict[str, Any] = {}
    for sid, sp in engine.spaces.items():
        if sp.state == UNKNOWN and not sp.sensors and sp.bin is None and not sp.bookings:
            continue
        sensors = {
            s.device: [
                _num(v) if isinstance(v, float) else v
                for v in (getattr(s, f) for f in EVIDENCE_FIELDS)
            ]
            for s in sp.sensors
        }
        spaces[sid] = {
            "state": sp.state,
            "occupancy": sp.occupancy,
            "since": sp.since,
            "sensors": sensors,
            "bin": None if sp.bin is None else sp.bin.dump(),
            "idle": None if sp.idle_start is None else [sp.idle_start, sp.idle_opened],
            "bookings": [b.dump() for b in sp.bookings or ()],
        }
    ns = engine.no_show
    data = {
        "version": VERSION,
        "taken_at": now,
        "cur_bin": engine._cur_bin,
        "bin_s": engine.bin_s,
        "no_show": [ns.required, ns.released, ns.checked_in, ns.unverified],
        "spaces": spaces,
    }
    return json.dumps(data, separators=(",", ":")).encode()


def restore(engine: OccupancyEngine, raw: bytes, now: float) -> int:
    """Load a snapshot into a fresh engine; the number of spaces restored (0 if unusable)."""
    data = json.loads(raw)
    if data.get("version") != VERSION or data.get("bin_s") != engine.bin_s:
        return 0
    taken_at = float(data["taken_at"])
    engine._cur_bin = min(int(data["cur_bin"]), engine._cur_bin)
    ns = engine.no_show
    ns.required, ns.released, ns.checked_in, ns.unverified = data["no_show"]
    restored = 0
    for sid, d in data["spaces"].items():
        sp = engine.spaces.get(sid)
        if sp is None:
            continue  # the space left the building file
        restored += 1
        for dev, vals in d["sensors"].items():
            s = engine.new_evidence(dev)
            for f, v in zip(EVIDENCE_FIELDS, vals, strict=True):
                if f.endswith("_ts") or f == "last_seen":
                    v = _unnum(v)
                setattr(s, f, v)
            sp.sensors.append(s)
        sp.state, sp.occupancy, sp.since = d["state"], d["occupancy"], float(d["since"])
        sp.seg_start = now
        if sp.state != UNKNOWN:
            engine._known.add(sid)
        if d["bin"] is not None:
            sp.bin = Acc.load(sid, d["bin"])
            engine._pending.add(sid)
        if d["idle"] is not None:
            sp.idle_start, sp.idle_opened = float(d["idle"][0]), float(d["idle"][1])
            engine._close_episode(sp, taken_at)
        sp.bookings = [Booking.load(b) for b in d["bookings"]] or None
    for sp in engine.spaces.values():
        engine._recompute(sp, now)
    engine.close_bins(now)
    return restored
