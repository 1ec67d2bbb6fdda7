"""The ``event`` view: events with the columns they had before they were stored compactly.

Events are stored as ``event_data`` rows pointing into the ``event_series`` dictionary
(``gateway.store.tables``). Readers -- the API, exports, an analyst's SQL -- query ``event``,
which joins the two back into one row per event: site, device, space, ts, received_at, kind,
quantity, value_num, value_text, unit, attrs. Both backends flatten the join, so a query
naming a space or device reads the series dictionary first and then the (series, ts) index.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

VIEW = "event"
VIEW_SQL = (
    "CREATE VIEW event AS SELECT d.id AS id, s.site AS site, s.device AS device, "
    "NULLIF(s.space, '') AS space, d.ts AS ts, "
    "d.ts + CAST(d.lag_ms AS DOUBLE PRECISION) / 1000 AS received_at, "
    "s.kind AS kind, s.quantity AS quantity, d.value_num AS value_num, "
    "d.value_text AS value_text, NULLIF(s.unit, '') AS unit, d.attrs AS attrs "
    "FROM event_data d JOIN event_series s ON s.id = d.series"
)


def create_view(conn: Connection) -> None:
    """Create the ``event`` view (its tables exist)."""
    conn.execute(text(VIEW_SQL))


def drop_view(conn: Connection) -> None:
    """Drop the ``event`` view if it is there."""
    conn.execute(text("DROP VIEW IF EXISTS event"))


def of_site(site_col: Any, site: str, *, narrowed: bool) -> Any:
    """The condition "the event is ``site``'s" for a query over the view. When the query
    names no space, device, quantity or kind (``narrowed`` False), the condition is written
    ``site || '' = :site``, which keeps the planner off the series dictionary's site index:
    that plan reads every event of the site into a sort before the first row, where the ts
    index yields the window in time order."""
    return site_col == site if narrowed else site_col.concat("") == site
