"""Dead letters stay bounded: the oldest beyond a maximum are pruned, and the count is kept.
Those kept from before credentials of every type were masked are scrubbed where they lie."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from sqlalchemy import Table, func, select, update
from sqlalchemy.engine import Engine

from gateway.credential import is_credential_key
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


# a field's reason as profiles wrote it: "field 'cardNo': expected a string, got 87654321"
_FIELD_REASON = re.compile(r"field '([^']{1,200})': [^;]*")
WITHHELD = "a credential's value (not shown)"


def scrub_reason(reason: str) -> str:
    """``reason`` with what it says of a credential field's value withheld."""
    if "field '" not in reason:
        return reason

    def withheld(m: re.Match[str]) -> str:
        key = m.group(1)
        if is_credential_key(key) or is_credential_key(key.rsplit(".", 1)[-1]):
            return f"field {key!r}: {WITHHELD}"
        return m.group(0)

    return _FIELD_REASON.sub(withheld, reason)


def scrub_dead_letters(
    db: Engine, site: str, scrub: Callable[[bytes], bytes], after_id: int = 0, limit: int = 2000
) -> int:
    """Mask credentials in up to ``limit`` of ``site``'s dead letters after id ``after_id``
    (payload as :meth:`CredentialHasher.scrub` does, reasons with the value withheld); returns
    the last id looked at, to go on from there. Letters written before numbers, lists and
    unparsed payloads were masked keep card numbers; each is rewritten once."""
    with db.begin() as conn:
        rows = conn.execute(
            select(_DL.c.id, _DL.c.payload, _DL.c.reason)
            .where(_DL.c.site == site, _DL.c.id > after_id)
            .order_by(_DL.c.id)
            .limit(limit)
        ).all()
        changed = 0
        for row in rows:
            payload, reason = bytes(row.payload), row.reason
            clean, why = scrub(payload), scrub_reason(reason)
            if clean != payload or why != reason:
                conn.execute(
                    update(_DL).where(_DL.c.id == row.id).values(payload=clean, reason=why)
                )
                changed += 1
    if changed:
        log.info("masked credentials in %d dead letters kept from before", changed)
    return int(rows[-1].id) if rows else after_id
