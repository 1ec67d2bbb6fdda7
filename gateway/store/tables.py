"""SQLModel tables: site, floors, spaces, devices, events, dead letters; rows carry their site."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


class Site(SQLModel, table=True):
    """The building this gateway serves."""

    id: str = Field(primary_key=True, max_length=64)
    name: str
    timezone: str
    # {"week": [[[open, close] minutes, ...] x 7 days from Monday]}, for reports across sites
    business_hours: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )


class Floor(SQLModel, table=True):
    """A floor of the site."""

    site: str = Field(primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=64)
    name: str
    position: int = 0


class Space(SQLModel, table=True):
    """A bookable or open space on a floor."""

    site: str = Field(primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=64)
    floor: str = Field(max_length=64)
    name: str
    type: str = Field(max_length=32)
    capacity: int
    bookable: bool = False


class Device(SQLModel, table=True):
    """A device: bound in the building file, or discovered because it published."""

    site: str = Field(primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=128)
    profile: str = Field(max_length=64)
    space: str | None = Field(default=None, max_length=64)
    bound: bool = True
    online: bool | None = None
    first_seen: float | None = None
    last_seen: float | None = None
    readings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class EventSeries(SQLModel, table=True):
    """What events of one stream share -- site, device, space, kind, quantity and unit --
    stored once and named by a small integer key (the dictionary the event rows point into;
    the writer keeps it in memory). No space or unit is stored as ''."""

    __tablename__ = "event_series"
    __table_args__ = (
        UniqueConstraint("site", "device", "space", "kind", "quantity", "unit",
                         name="uq_event_series"),
    )  # fmt: skip

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=64)
    device: str = Field(max_length=128)
    space: str = Field(default="", max_length=64)
    kind: str = Field(max_length=16)
    quantity: str = Field(max_length=32)
    unit: str = Field(default="", max_length=16)


class EventData(SQLModel, table=True):
    """One normalized event (SPEC section 3) as stored: its series key, its time, when it
    was received (milliseconds after ``ts``) and its value, split by type so SQL can
    aggregate. About 70 bytes on SQLite with its two indexes: (series, ts) serves every query
    that names a space, device, quantity or kind; (ts) serves time windows, exports and the
    retention pass. Read it through the ``event`` view (:class:`Event`)."""

    __tablename__ = "event_data"
    __table_args__ = (
        Index("ix_event_data_series_ts", "series", "ts"),
        Index("ix_event_data_ts", "ts"),
    )

    id: int | None = Field(default=None, primary_key=True)
    series: int
    ts: float
    lag_ms: int = Field(sa_column=Column(BigInteger, nullable=False))
    value_num: float | None = None
    value_text: str | None = Field(default=None, max_length=64)
    attrs: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class Event(SQLModel, table=True):
    """One normalized event as readers see it: the ``event`` view joining each stored row
    to its series (the columns events had before they were stored compactly). Not a table:
    it is left out of the metadata, and ``gateway.store.event_view`` creates it."""

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=64)
    device: str = Field(max_length=128)
    space: str | None = Field(default=None, max_length=64)
    ts: float
    received_at: float
    kind: str = Field(max_length=16)
    quantity: str = Field(max_length=32)
    value_num: float | None = None
    value_text: str | None = Field(default=None, max_length=64)
    unit: str | None = Field(default=None, max_length=16)
    attrs: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


SQLModel.metadata.remove(Event.__table__)  # type: ignore[attr-defined]  # a view, not a table


class DeadLetter(SQLModel, table=True):
    """A message the gateway could not turn into events, kept with the reason."""

    __table_args__ = (Index("ix_deadletter_received", "received_at"),)

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=64)
    topic: str
    payload: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    reason: str
    profile: str | None = Field(default=None, max_length=64)
    device: str | None = Field(default=None, max_length=128)
    received_at: float


class IngestRecord(SQLModel, table=True):
    """One committed batch's record against writing it twice: its id (``batch``), and the
    QoS 1 messages it held as (packet id, digest of topic and payload) pairs packed into
    ``fingerprints`` (10 bytes each, see ``gateway.store.redelivery``).

    Written in the same transaction as the batch, so a redelivery of a message whose PUBACK
    never reached the broker is recognised after a crash, and a retried write finds that its
    batch landed; pruned to the last few thousand messages.
    """

    __tablename__ = "ingest_record"
    # several gateways may share one store and one MQTT client id: records are per site
    __table_args__ = (Index("ix_ingest_record_batch", "site", "client", "batch"),)

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(default="", max_length=64)
    client: str = Field(max_length=128)
    batch: int = Field(sa_column=Column(BigInteger, nullable=False))
    messages: int = 0
    fingerprints: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class DeadLetterPruned(SQLModel, table=True):
    """How many dead letters each site has pruned, so the total ever rejected stays known."""

    __tablename__ = "dead_letter_pruned"

    site: str = Field(primary_key=True, max_length=64)
    pruned: int = 0
    last_pruned_at: float | None = None


class DeviceBindingOverride(SQLModel, table=True):
    """A device bound through the API (a discovered device staff assigned to a space)."""

    site: str = Field(primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=128)
    profile: str = Field(max_length=64)
    space: str | None = Field(default=None, max_length=64)
    bound_at: float
