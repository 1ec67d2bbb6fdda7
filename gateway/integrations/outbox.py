"""The durable outbox of webhook deliveries: written with the finding, read by the sender.

A finding becomes one ``webhook_delivery`` row per subscription that wants it, written in one
small transaction on the thread that recorded the finding, right after its commit (see
``gateway.integrations.webhooks`` for why not inside it). Rows leave the queue in ``seq``
order per subscription: the sender only ever tries a subscription's oldest pending row, so a
receiver sees its findings in the order they happened, each with a stable delivery id.

**Bounded.** A subscription holds at most ``webhooks.outbox_max`` pending rows; past that the
*oldest* pending row is dropped to make room (the newest news is the one worth keeping when a
receiver was away that long), counted in the subscription's ``dropped`` and in /metrics,
and logged -- never silently. Delivered rows are kept ``keep_delivered_s`` to be looked at.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine

from gateway.facility.rows import page
from gateway.store.outbox_tables import DELIVERIES, SUBSCRIPTIONS
from gateway.webhook_settings import WebhookSettings

log = logging.getLogger(__name__)

D, S = DELIVERIES.c, SUBSCRIPTIONS.c
ERROR_CHARS = 500


def backoff_s(attempts: int, settings: WebhookSettings, rand: Callable[[], float]) -> float:
    """Wait before the next attempt after ``attempts`` failed ones: exponential from
    ``retry_min_s`` to ``retry_max_s``, with "equal jitter" (half fixed, half random) so
    retries of many subscriptions do not fall in step."""
    cap = min(settings.retry_max_s, settings.retry_min_s * 2 ** min(attempts - 1, 30))
    return float(cap / 2 + rand() * cap / 2)


class Outbox:
    """The site's outbox: enqueue, the sender's reads and verdicts, the API's pages."""

    def __init__(
        self,
        db: Engine,
        site: str,
        settings: WebhookSettings,
        clock: Callable[[], float],
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.db, self.site, self.settings, self.clock, self.rand = db, site, settings, clock, rand
        self._lock = threading.Lock()  # the pending counts: enqueuers and the sender
        self.pending: dict[str, int] = self._count_pending()
        self.wake = threading.Event()  # set on enqueue: the sender need not poll

    def _count_pending(self) -> dict[str, int]:
        with self.db.connect() as conn:
            rows = conn.execute(
                select(D.subscription, func.count())
                .where(D.site == self.site, D.status == "pending")
                .group_by(D.subscription)
            ).all()
        return {str(r[0]): int(r[1]) for r in rows}

    # -- writing ------------------------------------------------------------------------------
    def put(self, items: Sequence[tuple[str, str, str, str]], now: float) -> int:
        """Queue ``(subscription, delivery id, kind, body)`` rows in one transaction; how many
        older pending rows the cap dropped to make room."""
        if not items:
            return 0
        cap, dropped = self.settings.outbox_max, 0
        with self._lock, self.db.begin() as conn:
            for sub, did, kind, body in items:
                if self.pending.get(sub, 0) >= cap:
                    oldest = conn.execute(
                        select(func.min(D.seq)).where(
                            D.site == self.site, D.subscription == sub, D.status == "pending"
                        )
                    ).scalar_one()
                    if oldest is not None:
                        conn.execute(delete(DELIVERIES).where(D.seq == oldest))
                        conn.execute(
                            update(SUBSCRIPTIONS)
                            .where(S.site == self.site, S.id == sub)
                            .values(dropped=S.dropped + 1)
                        )
                        self.pending[sub] -= 1
                        dropped += 1
                row = {
                    "site": self.site,
                    "subscription": sub,
                    "delivery_id": did,
                    "kind": kind,
                    "created_at": now,
                    "body": body,
                    "status": "pending",
                    "attempts": 0,
                    "next_at": 0.0,
                }
                conn.execute(insert(DELIVERIES), [row])
                self.pending[sub] = self.pending.get(sub, 0) + 1
        if dropped:
            log.warning(
                "webhook outbox full (%d pending per subscription): %d oldest dropped", cap, dropped
            )
        self.wake.set()
        return dropped

    # -- the sender ---------------------------------------------------------------------------
    def heads(self, sub: str, limit: int = 50) -> list[dict[str, Any]]:
        """A subscription's oldest pending rows, in order."""
        with self.db.connect() as conn:
            rows = conn.execute(
                select(DELIVERIES)
                .where(D.site == self.site, D.subscription == sub, D.status == "pending")
                .order_by(D.seq)
                .limit(limit)
            ).all()
        return [dict(r._mapping) for r in rows]

    def delivered(
        self, rows: Sequence[tuple[dict[str, Any], int, float]], was_failing: bool
    ) -> None:
        """Mark ``(row, HTTP status, when)`` delivered, in one transaction for the run."""
        if not rows:
            return
        sub = rows[0][0]["subscription"]
        with self._lock, self.db.begin() as conn:
            for row, status, at in rows:
                conn.execute(
                    update(DELIVERIES)
                    .where(D.seq == row["seq"])
                    .values(
                        status="delivered",
                        delivered_at=at,
                        attempts=D.attempts + 1,
                        last_status=status,
                        last_error=None,
                    )
                )
            values: dict[str, Any] = {"delivered": S.delivered + len(rows)}
            if was_failing:
                values["failures_in_row"] = 0
            conn.execute(
                update(SUBSCRIPTIONS).where(S.site == self.site, S.id == sub).values(**values)
            )
            self.pending[sub] = max(0, self.pending.get(sub, len(rows)) - len(rows))

    def failed(
        self, row: dict[str, Any], status: int | None, error: str, now: float
    ) -> tuple[int, float]:
        """Count a failed attempt and put the row off; (failures in a row, retry at)."""
        attempts = int(row["attempts"]) + 1
        retry_at = now + backoff_s(attempts, self.settings, self.rand)
        with self.db.begin() as conn:
            conn.execute(
                update(DELIVERIES)
                .where(D.seq == row["seq"])
                .values(
                    attempts=attempts,
                    next_at=retry_at,
                    last_status=status,
                    last_error=error[:ERROR_CHARS],
                )
            )
            where = (S.site == self.site, S.id == row["subscription"])
            conn.execute(
                update(SUBSCRIPTIONS)
                .where(*where)
                .values(failures=S.failures + 1, failures_in_row=S.failures_in_row + 1)
            )
            in_row = conn.execute(select(S.failures_in_row).where(*where)).scalar_one()
        return int(in_row), retry_at

    def prune(self, now: float) -> int:
        """Delete delivered rows older than ``keep_delivered_s``; how many."""
        with self.db.begin() as conn:
            return int(
                conn.execute(
                    delete(DELIVERIES).where(
                        D.site == self.site,
                        D.status == "delivered",
                        D.delivered_at < now - self.settings.keep_delivered_s,
                    )
                ).rowcount
            )

    def forget(self, sub: str) -> None:
        """A subscription's rows go with it."""
        with self._lock, self.db.begin() as conn:
            conn.execute(delete(DELIVERIES).where(D.site == self.site, D.subscription == sub))
            self.pending.pop(sub, None)

    def retry_now(self, sub: str) -> None:
        """A resumed subscription's head is tried at once, not at the end of its backoff."""
        with self.db.begin() as conn:
            conn.execute(
                update(DELIVERIES)
                .where(D.site == self.site, D.subscription == sub, D.status == "pending")
                .values(next_at=0.0)
            )
        self.wake.set()

    # -- reading ------------------------------------------------------------------------------
    def page(
        self, sub: str, status: str | None, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        """A subscription's deliveries, newest first."""
        conds = [D.site == self.site, D.subscription == sub]
        if status is not None:
            conds.append(D.status == status)
        return page(self.db, DELIVERIES, conds, (D.seq.desc(),), limit, offset)

    def oldest_pending_at(self) -> dict[str, float]:
        """Per subscription, when its oldest pending row was queued (for /metrics)."""
        with self.db.connect() as conn:
            rows = conn.execute(
                select(D.subscription, func.min(D.created_at))
                .where(D.site == self.site, D.status == "pending")
                .group_by(D.subscription)
            ).all()
        return {str(r[0]): float(r[1]) for r in rows}


def new_id() -> str:
    """A delivery id: random, so two gateways or a restored store never reuse one."""
    return uuid.uuid4().hex
