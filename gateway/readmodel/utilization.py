"""The utilization report of one site: window -> open seconds -> space totals -> figures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from gateway.building import Space
from gateway.occupancy.calendar import Calendar
from gateway.readmodel.figures import build_report, group_key
from gateway.readmodel.totals import read_totals
from gateway.readmodel.window import Progress, day_pieces, split_window


@dataclass(frozen=True, slots=True)
class Bands:
    """The utilization bands: under below ``under`` %, target up to ``over`` %, over above."""

    under: float
    over: float


@dataclass(frozen=True, slots=True)
class Report:
    """Figures per space or group over ``[start, end)`` (the window widened to whole bins)."""

    start: float
    end: float
    group_by: str
    available_s: float
    rows: list[dict[str, Any]]


def report(
    db: Engine,
    site: str,
    spaces: dict[str, Space],
    cal: Calendar,
    window: tuple[float, float],
    group_by: str,
    bands: Bands,
    *,
    by_ids: bool = False,
    progress: Progress | None = None,
) -> Report:
    """Per space (or floor, type, site) figures of ``spaces`` over ``window``.

    With ``by_ids`` the rows of ``spaces`` are read by key (cheaper for a chosen few than the
    site's whole range, of which only ``spaces`` are kept anyway). With ``progress`` the
    window is read a local day at a time, telling the share done after each; the days are
    disjoint, so their totals add up exactly.
    """
    w = split_window(cal, *window)
    pieces = (
        [w]
        if progress is None
        else [split_window(cal, *p) for p in day_pieces(cal, w.start, w.end)]
    )
    group_of = None
    if group_by != "space":
        group_of = {sid: group_key(sp, group_by, site) for sid, sp in spaces.items()}
    ids = list(spaces) if by_ids else None
    totals, peaks = read_totals(db, site, pieces, ids, group_of, progress)
    available = cal.open_seconds(w.start, w.end)
    rows = build_report(spaces, site, totals, available, group_by, peaks, bands.under, bands.over)
    return Report(w.start, w.end, group_by, available, rows)
