"""Report figures from rollup totals: time used, occupancy, utilization and bands.

Definitions (SPEC section 4), over a window counted in the site's business hours:
- ``available_s``: business seconds in the window (the window is widened to whole bins);
- ``time_used_pct`` = occupied seconds / available seconds;
- ``coverage_pct`` = seconds with a known state / available seconds (how much was observed);
- ``avg_occupancy`` = person-seconds / available seconds (spaces with a people counter);
- ``peak_occupancy`` = the highest count; ``avg/peak_utilization_pct`` = those / capacity;
- ``band`` classifies the average utilization where a counter gives one, else time used %:
  ``under`` below ``band_under_pct``, ``target`` up to ``band_over_pct``, ``over`` above.
For a group (floor, type, site) seconds add up over its spaces; its peak occupancy is the
highest sum of its spaces' peaks over the same rollup bucket (bin or day) -- an upper bound
of the simultaneous headcount at the resolution the rollups keep.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.building import Space


@dataclass(slots=True)
class Totals:
    """Summed rollup figures of one space over a window."""

    occupied_s: float = 0.0
    known_s: float = 0.0
    counted_s: float = 0.0
    person_s: float = 0.0
    peak: int | None = None
    hist: dict[int, float] = field(default_factory=dict)

    def add(
        self,
        occupied_s: float,
        known_s: float,
        counted_s: float,
        person_s: float,
        peak: int | None,
    ) -> None:
        self.occupied_s += occupied_s or 0.0
        self.known_s += known_s or 0.0
        self.counted_s += counted_s or 0.0
        self.person_s += person_s or 0.0
        if peak is not None and (self.peak is None or peak > self.peak):
            self.peak = peak


def band(pct: float | None, under: float, over: float) -> str | None:
    if pct is None:
        return None
    if pct < under:
        return "under"
    return "target" if pct <= over else "over"


def _pct(num: float, den: float) -> float | None:
    return None if den <= 0 else round(100.0 * num / den, 2)


def figures(
    t: Totals,
    available_s: float,
    capacity: int,
    under: float,
    over: float,
    peak: int | None = None,
    row: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The report figures of one space or group from its totals, added to ``row`` if given."""
    counted = t.counted_s > 0
    avg_occ = t.person_s / available_s if counted and available_s > 0 else None
    peak = t.peak if peak is None else peak
    avg_util = None if avg_occ is None or capacity <= 0 else round(100 * avg_occ / capacity, 2)
    peak_util = None if peak is None or capacity <= 0 else round(100 * peak / capacity, 2)
    used = _pct(t.occupied_s, available_s)
    row = {} if row is None else row  # filled in place: a report builds a thousand of these
    row["available_s"] = available_s
    row["occupied_s"] = round(t.occupied_s, 3)
    row["time_used_pct"] = used
    row["coverage_pct"] = _pct(t.known_s, available_s)
    row["avg_occupancy"] = None if avg_occ is None else round(avg_occ, 4)
    row["peak_occupancy"] = peak
    row["avg_utilization_pct"] = avg_util
    row["peak_utilization_pct"] = peak_util
    row["band"] = band(avg_util if avg_util is not None else used, under, over)
    return row


def group_key(space: Space, group_by: str, site_id: str) -> str:
    if group_by == "floor":
        return space.floor
    if group_by == "type":
        return space.type
    if group_by == "site":
        return site_id
    return space.id


def group_totals(spaces: list[Space], totals: dict[str, Totals]) -> tuple[Totals, int, int]:
    """Summed totals of a group, its capacity, and the capacity of its counted spaces."""
    g = Totals()
    cap = counted_cap = 0
    for sp in spaces:
        cap += sp.capacity
        t = totals.get(sp.id)
        if t is None:
            continue
        g.add(t.occupied_s, t.known_s, t.counted_s, t.person_s, None)
        if t.counted_s > 0:
            counted_cap += sp.capacity
    return g, cap, counted_cap


def weighted_percentile(hist: dict[int, float], q: float) -> int | None:
    """The smallest headcount at or below which a share ``q`` of the seconds were spent."""
    total = sum(hist.values())
    if total <= 0:
        return None
    acc = 0.0
    for count in sorted(hist):
        acc += hist[count]
        if acc >= q * total - 1e-9:
            return count
    return max(hist)


def build_report(
    spaces: dict[str, Space],
    site_id: str,
    totals: dict[str, Totals],
    available_s: float,
    group_by: str,
    group_peaks: dict[str, int],
    under: float,
    over: float,
) -> list[dict[str, Any]]:
    """One row per space or per group, with the figures above."""
    if group_by == "space":
        none = Totals()
        return [
            figures(
                totals.get(sp.id, none),
                available_s,
                sp.capacity,
                under,
                over,
                row={
                    "id": sp.id,
                    "name": sp.name,
                    "type": sp.type,
                    "floor": sp.floor,
                    "capacity": sp.capacity,
                },
            )
            for sp in spaces.values()
        ]
    groups: dict[str, list[Space]] = {}
    for sp in spaces.values():
        groups.setdefault(group_key(sp, group_by, site_id), []).append(sp)
    rows = []
    for key, members in groups.items():
        g, cap, counted_cap = group_totals(members, totals)
        f = figures(g, available_s * len(members), counted_cap, under, over, group_peaks.get(key))
        if g.counted_s > 0 and available_s > 0:
            avg = g.person_s / available_s  # average simultaneous headcount of the group
            f["avg_occupancy"] = round(avg, 4)
            f["avg_utilization_pct"] = _pct(avg, counted_cap)
            f["band"] = band(f["avg_utilization_pct"], under, over)
        rows.append({"id": key, "spaces": len(members), "capacity": cap, **f})
    return rows
