"""SQLModel tables the occupancy engine fills: rollup bins, days, weeks, idle episodes, findings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary
from sqlmodel import Field, SQLModel

REPORT_SUMS = ("occupied_s", "known_s", "counted_s", "person_s", "peak")


class RollupBin(SQLModel, table=True):
    """Business-hour totals of one space over one fixed bin; upserted under its key."""

    __tablename__ = "rollup_bin"
    __table_args__ = (Index("ix_rollup_bin_site_start", "site", "start"),)

    site: str = Field(primary_key=True, max_length=64)
    space: str = Field(primary_key=True, max_length=64)
    start: float = Field(primary_key=True)  # epoch seconds, a multiple of length
    length: float
    day: str = Field(max_length=10)  # local ISO date of the bin's start
    occupied_s: float = 0.0
    known_s: float = 0.0
    counted_s: float = 0.0
    person_s: float = 0.0
    peak: int | None = None
    hist: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class RollupDay(SQLModel, table=True):
    """The sums of one space's closed bins over one local day, for long reports."""

    __tablename__ = "rollup_day"
    __table_args__ = (
        Index("ix_rollup_day_site_start", "site", "start"),
        # covers a report's read: its day rows come in space order, summed without a sort
        Index("ix_rollup_day_report", "site", "space", "start", *REPORT_SUMS),
    )

    site: str = Field(primary_key=True, max_length=64)
    space: str = Field(primary_key=True, max_length=64)
    day: str = Field(primary_key=True, max_length=10)
    start: float  # epoch of local midnight
    occupied_s: float = 0.0
    known_s: float = 0.0
    counted_s: float = 0.0
    person_s: float = 0.0
    peak: int | None = None


class RollupWeek(SQLModel, table=True):
    """The sums of one space's day rows over one local week (Monday first), for long reports."""

    __tablename__ = "rollup_week"
    __table_args__ = (
        # covers a report's read, as ix_rollup_day_report does for days
        Index("ix_rollup_week_report", "site", "space", "start", *REPORT_SUMS),
    )

    site: str = Field(primary_key=True, max_length=64)
    space: str = Field(primary_key=True, max_length=64)
    week: str = Field(primary_key=True, max_length=10)  # local ISO date of the Monday
    start: float  # epoch of the first local midnight with a day row in the week
    occupied_s: float = 0.0
    known_s: float = 0.0
    counted_s: float = 0.0
    person_s: float = 0.0
    peak: int | None = None


class IdleEpisodeRow(SQLModel, table=True):
    """A vacant stretch inside business hours of at least idle_after; open while end is null."""

    __tablename__ = "idle_episode"
    __table_args__ = (Index("ix_idle_episode_site_start", "site", "start"),)

    site: str = Field(primary_key=True, max_length=64)
    space: str = Field(primary_key=True, max_length=64)
    start: float = Field(primary_key=True)
    opened_at: float
    end: float | None = None


class FindingRow(SQLModel, table=True):
    """A finding to act on: a ghost booking to release, an unverifiable booking."""

    __tablename__ = "finding"

    site: str = Field(primary_key=True, max_length=64)
    kind: str = Field(primary_key=True, max_length=32)
    ref: str = Field(primary_key=True, max_length=128)
    space: str = Field(max_length=64)
    start: float
    end: float
    detected_at: float
    details: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class EngineSnapshot(SQLModel, table=True):
    """The engine's last saved state (one row per site)."""

    __tablename__ = "engine_snapshot"

    site: str = Field(primary_key=True, max_length=64)
    taken_at: float
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
