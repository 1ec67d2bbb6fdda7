"""A run of printer events' job rows, changed in memory and then written in two statements.

A print job's status never moves backwards: ``rank`` orders the stages, every final status
(completed, failed, cancelled) ranks last.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.engine import Connection

from gateway.store.member_tables import PRINT_JOBS

J = PRINT_JOBS.c
STATUSES = ("submitted", "held", "released", "printing", "completed", "failed", "cancelled")
RANK = {"submitted": 0, "held": 1, "released": 2, "printing": 3}  # the rest are final: 4
# what a printer event may change; the UPDATE's bind names must not be column names
MOVED = ("owner", "status", "submitted_at", "released_at", "finished_at", "updated_at", "history")
NEW_ROW = dict.fromkeys(("submitted_at", "released_at", "released_by", "finished_at"))
UPDATE_MOVED = (
    update(PRINT_JOBS)
    .where(J.site == bindparam("b_site"), J.id == bindparam("b_id"))
    .values({k: bindparam(f"v_{k}") for k in MOVED})
)


def rank(status: str) -> int:
    """How far along ``status`` is (final statuses: 4)."""
    return RANK.get(status, 4)


class JobRows:
    """A run's print job rows, changed in memory, then written: new ones, changed ones."""

    def __init__(self, loaded: list[dict[str, Any]]) -> None:
        self.by_id: dict[str, dict[str, Any]] = {}
        self.by_printer: dict[str, list[dict[str, Any]]] = {}
        self.new: dict[str, dict[str, Any]] = {}
        self.changed: dict[str, dict[str, Any]] = {}
        for row in loaded:
            self.add(row, new=False)

    def add(self, row: dict[str, Any], *, new: bool = True) -> None:
        if row["id"] in self.by_id:
            return  # loaded twice: a job the run names that is released, too
        self.by_id[row["id"]] = row
        self.by_printer.setdefault(row["printer"], []).append(row)
        if new:
            self.new[row["id"]] = row

    def move(self, row: dict[str, Any], step: dict[str, Any], now: float) -> None:
        status = step["status"]
        row.update(status=status, updated_at=now, **times(status, step["at"]))
        row["history"] = [*row["history"], step]
        if row["id"] not in self.new:
            self.changed[row["id"]] = row

    def write(self, conn: Connection, site: str) -> None:
        if self.new:
            conn.execute(insert(PRINT_JOBS), list(self.new.values()))
        if self.changed:
            params = [
                {"b_site": site, "b_id": r["id"], **{f"v_{k}": r[k] for k in MOVED}}
                for r in self.changed.values()
            ]
            conn.execute(UPDATE_MOVED, params)


def times(status: str, ts: float) -> dict[str, float]:
    """The time column a move to ``status`` at ``ts`` sets."""
    if status == "submitted":
        return {"submitted_at": ts}
    if status == "released":
        return {"released_at": ts}
    if rank(status) == 4:
        return {"finished_at": ts}
    return {}
