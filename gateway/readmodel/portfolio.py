"""The portfolio: utilization and idle spaces of every site the store holds, side by side.

Each gateway writes its own site's rows; a store shared by many sites (PostgreSQL) can then be
read across them. Everything here comes from the store alone -- the sites' spaces, their
business hours (kept with the site row), their rollups and their open idle episodes -- so any
one gateway, or the head office, can serve it without the other sites' building files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Table, func, select
from sqlalchemy.engine import Connection, Engine

from gateway.building import Space
from gateway.building.hours import BusinessHours
from gateway.occupancy.calendar import Calendar
from gateway.readmodel.utilization import Bands, report
from gateway.store.engine_tables import EngineSnapshot, IdleEpisodeRow
from gateway.store.tables import Site
from gateway.store.tables import Space as SpaceRow


def _t(model: type) -> Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


SITES, SPACES, EPISODES, SNAPSHOTS = _t(Site), _t(SpaceRow), _t(IdleEpisodeRow), _t(EngineSnapshot)


@dataclass(frozen=True, slots=True)
class StoredSite:
    """A site as the store knows it."""

    id: str
    name: str
    timezone: str
    hours: BusinessHours
    hours_known: bool  # False for a row written before sites kept their hours
    spaces: dict[str, Space]


def _hours(timezone: str, stored: dict[str, Any] | None) -> tuple[BusinessHours, bool]:
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    week = (stored or {}).get("week")
    if not isinstance(week, list) or len(week) != 7:
        return BusinessHours.always(tz), False
    spans = tuple(tuple((int(a), int(b)) for a, b in day) for day in week)
    return BusinessHours(tz, spans), True


def stored_sites(conn: Connection) -> list[StoredSite]:
    """Every site in the store with its spaces, by site id."""
    spaces: dict[str, dict[str, Space]] = {}
    for r in conn.execute(select(SPACES).order_by(SPACES.c.site, SPACES.c.floor, SPACES.c.id)):
        sp = Space(r.id, r.name, r.type, r.capacity, r.bookable, r.floor)
        spaces.setdefault(r.site, {})[r.id] = sp
    out = []
    for r in conn.execute(select(SITES).order_by(SITES.c.id)):
        hours, known = _hours(r.timezone, r.business_hours)
        out.append(StoredSite(r.id, r.name, r.timezone, hours, known, spaces.get(r.id, {})))
    return out


def idle_now(conn: Connection) -> dict[str, list[str]]:
    """Per site, the spaces with an open idle episode (as of that site's last engine save)."""
    c = EPISODES.c
    q = select(c.site, c.space).where(c.end.is_(None)).distinct().order_by(c.site, c.space)
    out: dict[str, list[str]] = {}
    for site, space in conn.execute(q):
        out.setdefault(site, []).append(space)
    return out


def portfolio(
    engine: Engine, t0: float, t1: float, bin_s: int, bands: Bands
) -> list[dict[str, Any]]:
    """One row per site: its utilization over ``[t0, t1)`` and its idle spaces now."""
    with engine.connect() as conn:
        sites = stored_sites(conn)
        idle = idle_now(conn)
        q = select(SNAPSHOTS.c.site, func.max(SNAPSHOTS.c.taken_at)).group_by(SNAPSHOTS.c.site)
        saved: dict[str, float] = {site: at for site, at in conn.execute(q)}
    rows = []
    for s in sites:
        cal = Calendar(s.hours, bin_s)
        rep = report(engine, s.id, s.spaces, cal, (t0, t1), "site", bands)
        figures: dict[str, Any] = rep.rows[0] if rep.rows else {}
        idle_ids = [sp for sp in idle.get(s.id, []) if sp in s.spaces]
        rows.append(
            {
                **figures,
                "id": s.id,
                "site": s.id,
                "name": s.name,
                "timezone": s.timezone,
                "hours_known": s.hours_known,
                "spaces": len(s.spaces),
                "capacity": sum(sp.capacity for sp in s.spaces.values()),
                "idle_spaces_now": len(idle_ids),
                "idle_now": idle_ids,
                "state_saved_at": saved.get(s.id),
            }
        )
    return rows
