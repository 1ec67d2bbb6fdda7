"""Scoring a detection bench run: the gateway's samples against the simulator's ground truth.

Tolerance windows come from the tunables and the simulated devices' own reporting delays,
never from the engine: after someone walks in, the sensor's report delay plus transport;
after the last one leaves, the motion timeout (PIR rooms) or the report delay; after a
sensor dies, the time until anyone can know (zigbee2mqtt's availability timeout, or
``sensor_stale_s`` for a device without availability); idle may start up to that lag after
``idle_after``.
"""

from __future__ import annotations

import bisect
import statistics
from dataclasses import dataclass
from typing import Any

from gateway.simulate.truth import Timeline

Window = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Allow:
    """Per room kind: report delay, lag of vacancy after the last person left."""

    report_s: float
    vacate_s: float


def pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


class SpaceTruth:
    """One space's truth: head count, when it could be observed, and its tolerance windows."""

    def __init__(self, sid: str, data: dict[str, Any], kind: str, allow: Allow, tu: Any,
                 transport_s: float) -> None:  # fmt: skip
        self.sid, self.kind = sid, kind
        self.line = Timeline.of(data["spaces"][sid])
        t0 = float(data["start"])
        devices = {d for d, s in data["devices"].items() if s == sid}
        self.down: list[tuple[float, float]] = []
        self.windows: list[Window] = [(t0, t0 + allow.report_s + transport_s)]
        for o in data["outages"]:
            if o["device"] not in devices:
                continue
            end = float("inf") if o["end"] is None else float(o["end"])
            self.down.append((float(o["start"]), end))
            know = o["announce_s"] if o["announce_s"] is not None else tu.stale_s
            self.windows.append((o["start"], o["start"] + know + transport_s))
            if o["end"] is not None:
                self.windows.append((end, end + allow.report_s + transport_s))
        # vacancy starts (for idle) and the windows around each change of state
        self.vacant_from: list[float] = []  # instants a truly observable vacancy began
        prev = self.line.initial
        if prev == 0:
            self.vacant_from.append(t0)
        for ts, n in zip(self.line.times, self.line.counts, strict=True):
            if prev == 0 and n > 0:
                self.windows.append((ts, ts + allow.report_s + transport_s))
            elif prev > 0 and n == 0:
                self.windows.append((ts, ts + allow.vacate_s + transport_s))
                self.vacant_from.append(ts)
            prev = n
        for _s, e in self.down:
            if e != float("inf"):
                self.vacant_from.append(e)
        self.vacant_from.sort()
        lag = allow.vacate_s + transport_s
        for v in list(self.vacant_from):
            self.windows.append((v + tu.idle_after_s, v + tu.idle_after_s + lag))
        self.windows.sort()
        self.idle_after = tu.idle_after_s

    def observable(self, t: float) -> bool:
        return not any(s <= t < e for s, e in self.down)

    def state(self, t: float) -> str:
        if not self.observable(t):
            return "unknown"
        return "occupied" if self.line.count_at(t) > 0 else "vacant"

    def idle(self, t: float) -> bool:
        if self.state(t) != "vacant":
            return False
        i = bisect.bisect_right(self.vacant_from, t)
        if i == 0:
            return False
        since = self.vacant_from[i - 1]
        # observable and vacant all the way since then
        return t - since >= self.idle_after

    def in_window(self, t: float) -> bool:
        return any(a <= t < b for a, b in self.windows)

    def occupied_during(self, a: float, b: float) -> bool:
        if self.line.count_at(a) > 0:
            return True
        i = bisect.bisect_right(self.line.times, a)
        while i < len(self.line.times) and self.line.times[i] <= b:
            if self.line.counts[i] > 0:
                return True
            i += 1
        return False

    def departed_during(self, a: float, b: float) -> bool:
        return any(a <= v <= b for v in self.line.times if self.line.count_at(v) == 0)


def score(
    data: dict[str, Any],
    samples: list[tuple[float, list[dict[str, Any]]]],
    bookings: list[dict[str, Any]],
    kinds: dict[str, str],
    allows: dict[str, Allow],
    tu: Any,
    transport_s: float,
) -> dict[str, Any]:
    """The figures of one run."""
    truths = {
        sid: SpaceTruth(sid, data, kinds[sid], allows[kinds[sid]], tu, transport_s) for sid in kinds
    }
    agree = total = 0
    tp = fp = fn = 0
    occ_idle_out = occ_idle_in = 0
    blind = blind_not_unknown = blind_idle = blind_idle_in = 0
    wrong: dict[str, int] = {}
    series: dict[str, list[tuple[float, str, float]]] = {sid: [] for sid in truths}
    for t, spaces in samples:
        for sp in spaces:
            st = truths.get(sp["id"])
            if st is None:
                continue
            series[sp["id"]].append((t, sp["state"], sp["since_ts"]))
            truth_state, gw_idle = st.state(t), bool(sp["idle"])
            inside = st.in_window(t)
            if truth_state == "occupied" and gw_idle:
                if inside:
                    occ_idle_in += 1
                else:
                    occ_idle_out += 1
            if truth_state == "unknown" and gw_idle:
                if inside:
                    blind_idle_in += 1  # nobody can know yet: the bridge has not said so
                else:
                    blind_idle += 1
            if inside:
                continue
            total += 1
            if truth_state == sp["state"]:
                agree += 1
            else:
                key = f"{sp['id']}:{truth_state}->{sp['state']}"
                wrong[key] = wrong.get(key, 0) + 1
            if truth_state == "unknown":
                blind += 1
                blind_not_unknown += sp["state"] != "unknown"
            ti = st.idle(t)
            tp += ti and gw_idle
            fp += gw_idle and not ti
            fn += ti and not gw_idle
    lat = latencies(truths, series)
    rel = releases(truths, bookings, tu, allows, kinds, transport_s)
    return {
        "samples": total,
        "agreement_pct": 100.0 * agree / total if total else None,
        "idle_precision": tp / (tp + fp) if tp + fp else None,
        "idle_recall": tp / (tp + fn) if tp + fn else None,
        "idle_samples": tp + fp,
        "occupied_shown_idle": occ_idle_out,
        "occupied_shown_idle_in_windows": occ_idle_in,
        "blind_samples": blind,
        "blind_shown_known_share": blind_not_unknown / blind if blind else None,
        "blind_shown_idle": blind_idle,
        "blind_shown_idle_in_windows": blind_idle_in,
        **lat,
        **rel,
        "disagreements": dict(sorted(wrong.items(), key=lambda kv: -kv[1])[:8]),
    }


def latencies(
    truths: dict[str, SpaceTruth], series: dict[str, list[tuple[float, str, float]]]
) -> dict[str, Any]:
    """Truth change -> the gateway's ``since`` of the matching state (simulated seconds)."""
    out: dict[str, list[float]] = {"arrival": [], "departure_pir": [], "departure": [],
                                   "unobservable": []}  # fmt: skip
    for sid, st in truths.items():
        ser = series[sid]
        times = [s[0] for s in ser]
        changes: list[tuple[float, str, str]] = []
        prev = st.line.initial
        for ts, n in zip(st.line.times, st.line.counts, strict=True):
            if (prev > 0) != (n > 0) and st.observable(ts):
                kind = (
                    "arrival" if n > 0 else ("departure_pir" if st.kind == "pir" else "departure")
                )
                changes.append((ts, "occupied" if n > 0 else "vacant", kind))
            prev = n
        changes += [(s, "unknown", "unobservable") for s, _e in st.down]
        for ts, want, kind in changes:
            i = bisect.bisect_left(times, ts)
            for _t, state, since in ser[i : i + 400]:
                if state == want:
                    if since >= ts - 1.0:
                        out[kind].append(max(0.0, since - ts))
                    break
    res: dict[str, Any] = {}
    for kind, xs in out.items():
        res[f"latency_{kind}_median_s"] = statistics.median(xs) if xs else None
        res[f"latency_{kind}_p95_s"] = pct(xs, 0.95)
    every = out["arrival"] + out["departure"]
    res["latency_median_s"] = statistics.median(every) if every else None
    res["latency_p95_s"] = pct(every, 0.95)
    return res


def releases(
    truths: dict[str, SpaceTruth],
    bookings: list[dict[str, Any]],
    tu: Any,
    allows: dict[str, Allow],
    kinds: dict[str, str],
    transport_s: float,
) -> dict[str, Any]:
    """Ghost-release precision and recall, unverified bookings, release latency."""
    tp = fp = fn = ambiguous = 0
    unverified_ok = unverified_due = 0
    late: list[float] = []
    wrong: list[str] = []
    for b in bookings:
        st = truths[b["space"]]
        allow = allows[kinds[b["space"]]]
        s, g = b["start_ts"], tu.grace_s
        released = b["status"] == "released"
        if released and b["released_at_ts"] is not None:
            late.append(b["released_at_ts"] - (s + g))
        blind = any(d0 < s + g and d1 > s for d0, d1 in st.down)
        if blind:
            unverified_due += 1
            unverified_ok += b["outcome"] == "unverified"
            if released:
                fp += 1
                wrong.append(f"{b['id']} {b['space']} released while unobservable")
            continue
        edge = s + g - allow.report_s - transport_s
        present = st.occupied_during(s, edge)
        carried = st.departed_during(s - allow.vacate_s - transport_s, s)
        if not present and (st.occupied_during(s, s + g) or carried):
            ambiguous += 1
            continue
        if present and released:
            fp += 1
            wrong.append(f"{b['id']} {b['space']} released though occupied in the grace")
        elif not present and released:
            tp += 1
        elif not present:
            fn += 1
            wrong.append(f"{b['id']} {b['space']} ghost not released ({b['outcome']})")
    return {
        "bookings": len(bookings),
        "ghosts_true": tp + fn,
        "ghost_precision": tp / (tp + fp) if tp + fp else None,
        "ghost_recall": tp / (tp + fn) if tp + fn else None,
        "bookings_ambiguous": ambiguous,
        "unverified_expected": unverified_due,
        "unverified_marked": unverified_ok,
        "release_late_median_s": statistics.median(late) if late else None,
        "release_late_max_s": max(late) if late else None,
        "release_wrong": wrong,
    }
