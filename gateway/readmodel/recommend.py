"""Recommendations over the last N days: chronic underuse and right-sizing from rollup totals,
bookings to release (and ones no sensor could verify) from the engine's findings.

- **chronic underuse**: time used % below ``underuse_pct`` over the window. Only spaces whose
  state was known for at least half the business time are judged: a space whose sensors were
  offline is not "unused", it is unobserved.
- **right-sizing** (meeting rooms with a people counter): the 90th percentile of the headcount
  while occupied, weighted by time (from the per-bin headcount histograms, summed per day),
  below ``rightsize_ratio`` of the capacity; the recommendation names that typical group size.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from gateway.building import Building, Space
from gateway.readmodel.figures import Totals, weighted_percentile
from gateway.store.engine_tables import FindingRow
from gateway.timefmt import iso

MIN_COVERAGE = 0.5
FINDINGS = FindingRow.__table__  # type: ignore[attr-defined]


def recommend(
    spaces: dict[str, Space],
    totals: dict[str, Totals],
    available_s: float,
    days: int,
    underuse_pct: float,
    rightsize_ratio: float,
) -> list[dict[str, Any]]:
    """Recommendations, each with the figures that justify it."""
    out: list[dict[str, Any]] = []
    if available_s <= 0:
        return out
    for sid, sp in spaces.items():
        t = totals.get(sid)
        if t is None or t.known_s < MIN_COVERAGE * available_s:
            continue
        used = 100.0 * t.occupied_s / available_s
        base = {"space": sid, "name": sp.name, "type": sp.type, "floor": sp.floor}
        if used < underuse_pct:
            out.append(
                {
                    **base,
                    "kind": "chronic_underuse",
                    "suggestion": "share it, offer it as a day pass, or convert it",
                    "figures": {
                        "days": days,
                        "time_used_pct": round(used, 2),
                        "threshold_pct": underuse_pct,
                        "occupied_h": round(t.occupied_s / 3600, 2),
                        "available_h": round(available_s / 3600, 2),
                        "coverage_pct": round(100.0 * t.known_s / available_s, 2),
                    },
                }
            )
        if sp.type == "meeting_room" and t.hist:
            p90 = weighted_percentile(t.hist, 0.9)
            if p90 is not None and p90 < rightsize_ratio * sp.capacity:
                seats = max(p90, 1)
                out.append(
                    {
                        **base,
                        "kind": "right_size",
                        "suggestion": (
                            f"typical group is {p90} of {sp.capacity} seats: offer a room "
                            f"for {seats}-{math.ceil(seats * 1.5)} or split it"
                        ),
                        "figures": {
                            "days": days,
                            "p90_headcount": p90,
                            "capacity": sp.capacity,
                            "ratio_threshold": rightsize_ratio,
                            "occupied_with_count_h": round(sum(t.hist.values()) / 3600, 2),
                            "peak_occupancy": t.peak,
                        },
                    }
                )
    return out


def finding_items(db: Engine, building: Building, since: float) -> list[dict[str, Any]]:
    """The engine's findings detected since ``since``, newest first, as recommendations."""
    c = FINDINGS.c
    q = (
        select(FINDINGS)
        .where(c.site == building.site.id, c.detected_at >= since)
        .order_by(c.detected_at.desc())
    )
    with db.connect() as conn:
        rows = conn.execute(q).all()
    out = []
    for f in rows:
        sp = building.spaces.get(f.space)
        ghost = f.kind == "ghost_booking"
        out.append(
            {
                "space": f.space,
                "name": sp.name if sp else f.space,
                "type": sp.type if sp else None,
                "floor": sp.floor if sp else None,
                "kind": "release_booking" if ghost else f.kind,
                "suggestion": (
                    "nobody came: release the booking and offer the room"
                    if ghost
                    else "no working sensor during the grace period: check the room"
                ),
                "figures": {
                    "booking": f.ref,
                    "start": iso(f.start),
                    "end": iso(f.end),
                    "detected_at": iso(f.detected_at),
                    **(f.details or {}),
                },
            }
        )
    return out
