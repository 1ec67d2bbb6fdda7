"""The read model the API, the CLI report, the uplink and the portfolio ask: one per store.

Every figure comes from the store's rollups through the same steps (:mod:`.utilization`):
the window widened to bins and split into weeks, days and edges, the open seconds of the
site's business hours over it, the spaces' totals, then the report's figures or the
recommendations. The heatmap and the portfolio read the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from gateway.building import Building
from gateway.occupancy.calendar import Calendar
from gateway.readmodel import heatmap as heat
from gateway.readmodel.portfolio import portfolio
from gateway.readmodel.recommend import finding_items, recommend
from gateway.readmodel.totals import space_totals
from gateway.readmodel.utilization import Bands, Report, report
from gateway.readmodel.window import Progress, Window, split_window, widen
from gateway.settings import OccupancySettings


@dataclass(frozen=True, slots=True)
class Recommendations:
    """Recommendations over ``[start, end)``, the last ``days`` days."""

    start: float
    end: float
    days: int
    data: list[dict[str, Any]]


class ReadModel:
    """Utilization, recommendations, heatmap and portfolio, read from the store.

    ``building`` gives the building in force (a reload swaps it); ``calendar`` is the one
    the rollups were accounted with (the engine's), else one of the building's hours.
    """

    def __init__(
        self,
        db: Engine,
        settings: OccupancySettings,
        building: Callable[[], Building],
        calendar: Calendar | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.bin_s = int(settings.bin_s)
        self.bands = Bands(settings.band_under_pct, settings.band_over_pct)
        self._building = building
        self.calendar = calendar or Calendar(building().site.business_hours, self.bin_s)

    @property
    def building(self) -> Building:
        return self._building()

    def utilization(
        self,
        t0: float,
        t1: float,
        group_by: str = "space",
        space_ids: list[str] | None = None,
        progress: Progress | None = None,
    ) -> Report:
        """Per space (or floor, type, site) figures over ``[t0, t1)`` widened to whole bins;
        ``space_ids`` chooses spaces (KeyError for an unknown one)."""
        b = self.building
        spaces = b.spaces if space_ids is None else {s: b.spaces[s] for s in space_ids}
        return report(
            self.db,
            b.site.id,
            spaces,
            self.calendar,
            (t0, t1),
            group_by,
            self.bands,
            by_ids=space_ids is not None,
            progress=progress,
        )

    def underuse(self, now: float, days: int) -> tuple[Window, list[dict[str, Any]]]:
        """Chronic underuse and right-sizing over the last ``days`` days to ``now``."""
        b, occ = self.building, self.settings
        w = split_window(self.calendar, now - days * 86_400, now)
        available = self.calendar.open_seconds(w.start, w.end)
        totals = space_totals(self.db, b.site.id, w, hist=True)
        recs = recommend(b.spaces, totals, available, days, occ.underuse_pct, occ.rightsize_ratio)
        return w, recs

    def recommendations(self, now: float, days: int | None = None) -> Recommendations:
        """Underuse and right-sizing, then the bookings to release found since the window's
        start (newest first); ``days`` defaults to the lookback setting."""
        n = days or self.settings.lookback_days
        w, data = self.underuse(now, n)
        data += finding_items(self.db, self.building, w.start)
        return Recommendations(w.start, w.end, n, data)

    def heatmap(
        self,
        t0: float,
        t1: float,
        by: heat.HeatBy = "space",
        progress: Progress | None = None,
        grouped: bool = True,
    ) -> heat.Heatmap:
        """Time used % by space, floor or type x open local hour over ``[t0, t1)``."""
        return heat.heatmap(self.db, self.building, self.bin_s, t0, t1, by, progress, grouped)

    def portfolio(self, t0: float, t1: float) -> tuple[float, float, list[dict[str, Any]]]:
        """Every site in the store: (start, end of the window widened to bins, one row each)."""
        rows = portfolio(self.db, t0, t1, self.bin_s, self.bands)
        return (*widen(t0, t1, self.bin_s), rows)
