"""Work orders for facility staff: open -> assigned -> in_progress -> done, who and when kept.

Orders come from staff (``POST /api/v1/work-orders``) and from raised alerts; an alert whose
fault (subject + kind) already has an order that is not done does not open a second one.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from gateway.facility.ports import Bus, SiteStore
from gateway.facility.rows import one, page, where
from gateway.facility.service_errors import Conflict, Invalid
from gateway.store.member_tables import WORK_ORDERS

W = WORK_ORDERS.c
STATUSES = ("open", "assigned", "in_progress", "done")
# assigned -> assigned hands the order to someone else
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("assigned",),
    "assigned": ("assigned", "in_progress"),
    "in_progress": ("done",),
    "done": (),
}


class WorkOrders:
    """The site's work orders in the store."""

    def __init__(self, store: SiteStore, bus: Bus) -> None:
        self.db, self.clock, self.site = store.db, store.clock, store.site
        self.bus = bus
        self._lock = threading.Lock()  # the dedupe check and the insert are one step

    def create(
        self,
        kind: str,
        subject: str,
        title: str,
        by: str,
        *,
        description: str = "",
        source: str = "staff",
        alert: int | None = None,
        conn: Connection | None = None,
    ) -> dict[str, Any]:
        """Open an order (in ``conn``'s transaction when given)."""
        now = self.clock()
        row: dict[str, Any] = {
            "site": self.site,
            "kind": kind,
            "subject": subject,
            "title": title,
            "description": description,
            "status": "open",
            "source": source,
            "alert": alert,
            "assignee": None,
            "created_at": now,
            "created_by": by,
            "updated_at": now,
            "history": [{"status": "open", "by": by, "at": now}],
        }
        if conn is None:
            with self.db.begin() as c:
                row["id"] = c.execute(insert(WORK_ORDERS).returning(W.id), [row]).scalar_one()
            # one opened with an alert is announced by the alert's notice, after its commit
            notice = {"type": "work_order_opened", **_public(row), "title": row["title"]}
            self.bus.publish("notices", notice, now)
        else:
            row["id"] = conn.execute(insert(WORK_ORDERS).returning(W.id), [row]).scalar_one()
        return row

    def open_for_fault(
        self,
        conn: Connection,
        kind: str,
        subject: str,
        title: str,
        alert: int,
        description: str = "",
    ) -> tuple[int, bool]:
        """The open order for this fault, or a new one (``description``: what the alert
        says): (order id, created)."""
        with self._lock:
            found = conn.execute(
                select(W.id).where(
                    W.site == self.site, W.kind == kind, W.subject == subject, W.status != "done"
                )
            ).first()
            if found is not None:
                return int(found.id), False
            row = self.create(
                kind,
                subject,
                title,
                "gateway",
                description=description,
                source="alert",
                alert=alert,
                conn=conn,
            )
            return int(row["id"]), True

    def move(
        self,
        order_id: int,
        status: str,
        by: str,
        *,
        assignee: str | None = None,
        note: str | None = None,
    ) -> dict[str, Any]:
        """Move an order along; Conflict for a move its status does not allow."""
        if status not in STATUSES:
            raise Invalid(f"must be one of {', '.join(STATUSES)}", ("body", "status"))
        if status == "assigned" and not assignee:
            raise Invalid("required to assign a work order", ("body", "assignee"))
        now = self.clock()
        with self._lock, self.db.begin() as conn:
            row = self._get(conn, order_id)
            if status not in TRANSITIONS[row["status"]]:
                allowed = ", ".join(TRANSITIONS[row["status"]]) or "nothing (it is done)"
                raise Conflict(
                    f"work order {order_id} is {row['status']}; it can move to {allowed}"
                )
            step: dict[str, Any] = {"status": status, "by": by, "at": now}
            if assignee:
                step["assignee"] = assignee
            if note:
                step["note"] = note
            values = {
                "status": status,
                "updated_at": now,
                "history": [*row["history"], step],
                "assignee": assignee or row["assignee"],
            }
            conn.execute(
                update(WORK_ORDERS).where(W.site == self.site, W.id == order_id).values(**values)
            )
            row.update(values)
        self.bus.publish("notices", {"type": "work_order", **_public(row)}, now)
        return row

    def get(self, order_id: int) -> dict[str, Any]:
        with self.db.connect() as conn:
            return self._get(conn, order_id)

    def query(
        self,
        *,
        status: str | None = None,
        kind: str | None = None,
        subject: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        """Orders, newest first."""
        conds = where(WORK_ORDERS, self.site, status=status, kind=kind, subject=subject)
        return page(self.db, WORK_ORDERS, conds, (W.id.desc(),), limit, offset)

    def _get(self, conn: Connection, order_id: int) -> dict[str, Any]:
        return one(conn, WORK_ORDERS, self.site, order_id, f"no work order {order_id}")


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("id", "kind", "subject", "status", "assignee", "updated_at")}
