"""The audit trail: who did what to which door, space, booking or job, with what result and why.

Every access decision, grant, booking release and print release writes one row. Rows are only
ever appended; ``record`` takes a connection so callers can write them in their own
transaction (a decision and its audit commit together).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import JSON, Column, Index, Table, insert
from sqlalchemy.engine import Connection
from sqlmodel import Field, SQLModel


class AuditEntry(SQLModel, table=True):
    """One audited action."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_site_ts", "site", "ts"),
        Index("ix_audit_site_action_ts", "site", "action", "ts"),
    )

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=64)
    ts: float
    actor: str = Field(max_length=128)  # a token name, a member id, or "gateway"
    action: str = Field(max_length=32)  # e.g. door_decision, grant_issued, booking_released
    subject: str = Field(max_length=128)  # the door, space, booking or job acted on
    member: str | None = Field(default=None, max_length=64)
    credential: str | None = Field(default=None, max_length=128)  # a hash or masked form only
    result: str = Field(max_length=16)  # e.g. granted, denied, ok, released
    reason: str = ""
    detail: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


AUDIT: Table = AuditEntry.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Audit:
    """An audit row before it is written."""

    site: str
    ts: float
    actor: str
    action: str
    subject: str
    result: str
    reason: str = ""
    member: str | None = None
    credential: str | None = None
    detail: dict[str, Any] | None = field(default=None)


def record(conn: Connection, entries: Iterable[Audit]) -> int:
    """Append ``entries`` inside the caller's transaction; returns how many were written."""
    rows = [asdict(e) for e in entries]
    if rows:
        conn.execute(insert(AUDIT), rows)
    return len(rows)
