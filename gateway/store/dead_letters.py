"""Dead letters stay bounded: the oldest beyond a maximum are pruned, and the count is kept."""

from __future__ import annotations

import logging
import time

from sqlalchemy import Table, func, select, update
from sqlalchemy.engine import Engine

from gateway.logtext import clean
from gateway.store.tables import DeadLetter, DeadLetterPruned

log = logging.getLogger(__name__)

DEFAULT_MAX_ROWS = 100_000

PRUNED: Table = DeadLetterPruned.__table__  # type: ignore[attr-defined]
_DL = DeadLetter.__table__  # type: ignore[attr-defined]


def prune_dead_letters(
    db: Engine, site: str, max_rows: int = DEFAULT_MAX_ROWS, clock: float | None = None
) -> int:
    """Delete ``site``'s oldest dead letters beyond ``max_rows``; returns how many went.

    Cheap when nothing is due (one indexed count). Call it after a commit that added dead
    letters, or from a periodic task; it runs in its own transaction.
    """
    if max_rows < 0:
        raise ValueError("max_rows must be 0 or more")
    with db.begin() as conn:
        held = conn.execute(select(func.count()).select_from(_DL).where(_DL.c.site == site))
        excess = int(held.scalar_one()) - max_rows
        if excess <= 0:
            return 0
        cutoff = conn.execute(
            select(_DL.c.id)
            .where(_DL.c.site == site)
            .order_by(_DL.c.id)
            .offset(excess - 1)
            .limit(1)
        ).scalar_one()
        gone = conn.execute(_DL.delete().where(_DL.c.site == site, _DL.c.id <= cutoff)).rowcount
        now = time.time() if clock is None else clock
        done = conn.execute(
            update(PRUNED)
            .where(PRUNED.c.site == site)
            .values(pruned=PRUNED.c.pruned + gone, last_pruned_at=now)
        ).rowcount
        if not done:
            conn.execute(PRUNED.insert().values(site=site, pruned=gone, last_pruned_at=now))
    log.info("pruned %d oldest dead letters of site %s (keeping %d)", gone, clean(site), max_rows)
    return int(gone)


def pruned_count(db: Engine, site: str) -> int:
    """How many dead letters of ``site`` were pruned so far."""
    with db.connect() as conn:
        found = conn.execute(select(PRUNED.c.pruned).where(PRUNED.c.site == site)).scalar()
    return int(found or 0)
