"""The series dictionary: the small integer key each stored event carries instead of its
site, device, space, kind, quantity and unit (``event_series``).

The writer keeps the keys it has used in memory, so a batch of known streams costs one dict
lookup per event. A stream seen for the first time is added inside the batch's transaction
(``INSERT .. ON CONFLICT DO NOTHING``, then read back: another gateway sharing the store may
have added it first); its key is kept only once that transaction commits.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from gateway.store.refusals import StoreDataError
from gateway.store.tables import EventSeries

SERIES: Table = EventSeries.__table__  # type: ignore[attr-defined]
Key = tuple[str, str, str, str, str, str]  # site, device, space, kind, quantity, unit
DATA_COLUMNS = ("series", "ts", "lag_ms", "value_num", "value_text", "attrs")
_LAG_MS_MAX = 1 << 62  # a received time absurdly far from the event's is kept clamped


def data_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    """An ``event_data`` row as the Core insert takes it (its attrs decoded for the JSON
    column)."""
    out = dict(zip(DATA_COLUMNS, row, strict=True))
    out["attrs"] = json.loads(out["attrs"]) if out["attrs"] else None
    return out


def site_series(site: str) -> Any:
    """The keys of ``site``'s series, as a subquery."""
    return select(SERIES.c.id).where(SERIES.c.site == site).scalar_subquery()


class SeriesKeys:
    """The series keys this writer knows, and the event rows made with them."""

    def __init__(self) -> None:
        self._ids: dict[Key, int] = {}

    def data_rows(
        self, conn: Connection, events: list[tuple[Any, ...]]
    ) -> tuple[list[tuple[Any, ...]], dict[Key, int]]:
        """``events`` (in ``EVENT_COLUMNS`` order) as ``event_data`` rows, adding the series
        not stored yet; and the keys added, to ``keep`` once the transaction commits."""
        ids = self._ids
        rows: list[Any] = []
        later: list[tuple[int, Key]] = []  # rows whose series is not known yet
        for e in events:
            k = (e[0], e[1], e[2] or "", e[5], e[6], e[9] or "")
            sid = ids.get(k)
            if sid is None:
                later.append((len(rows), k))
            try:
                lag = round((e[4] - e[3]) * 1000)
            except (ValueError, OverflowError) as err:  # a time that is not a number
                raise StoreDataError(f"event time not storable: {e[3]!r}, {e[4]!r}") from err
            if not -_LAG_MS_MAX < lag < _LAG_MS_MAX:
                lag = _LAG_MS_MAX if lag > 0 else -_LAG_MS_MAX
            rows.append((sid, e[3], lag, e[7], e[8], e[10]))
        added: dict[Key, int] = {}
        if later:
            added = self._add(conn, {k for _, k in later})
            for i, k in later:
                rows[i] = (added[k], *rows[i][1:])
        return rows, added

    def keep(self, added: dict[Key, int]) -> None:
        """Remember keys whose rows committed."""
        self._ids.update(added)

    def _add(self, conn: Connection, missing: set[Key]) -> dict[Key, int]:
        names = ("site", "device", "space", "kind", "quantity", "unit")
        rows = [dict(zip(names, k, strict=True)) for k in missing]
        ins: Any = (
            postgresql.insert(SERIES)
            if conn.dialect.name == "postgresql"
            else sqlite.insert(SERIES)
        )
        conn.execute(ins.on_conflict_do_nothing(), rows)
        c = SERIES.c
        found: dict[Key, int] = {}
        sites, devices = list({k[0] for k in missing}), list({k[1] for k in missing})
        for i in range(0, len(devices), 500):
            for r in conn.execute(
                select(c.id, c.site, c.device, c.space, c.kind, c.quantity, c.unit).where(
                    c.site.in_(sites), c.device.in_(devices[i : i + 500])
                )
            ):
                key = (r.site, r.device, r.space, r.kind, r.quantity, r.unit)
                if key in missing:
                    found[key] = int(r.id)
        lost = missing - found.keys()
        if lost:  # cannot be: inserted or found above, in this transaction
            raise RuntimeError(f"series not stored: {list(lost)[:3]}")
        return found
