"""SQLModel tables: site, floors, spaces, devices, events, dead letters; rows carry their site."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary
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


class Event(SQLModel, table=True):
    """One normalized event (SPEC section 3). Values are split by type so SQL can aggregate."""

    __table_args__ = (
        Index("ix_event_space_ts", "site", "space", "ts"),
        Index("ix_event_device_ts", "site", "device", "ts"),
        Index("ix_event_ts", "ts"),
    )

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


class IngestFingerprint(SQLModel, table=True):
    """A recently committed QoS 1 message (session, packet id, digest of topic and payload).

    Written in the same transaction as the batch, so a redelivery of a message whose PUBACK
    never reached the broker is recognised after a crash; pruned to the last few thousand.
    """

    # several gateways may share one store and one MQTT client id: records are per site
    __table_args__ = (Index("ix_fingerprint_site_client_mid", "site", "client", "mid"),)

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(default="", max_length=64)
    client: str = Field(max_length=128)
    mid: int
    digest: int = Field(sa_column=Column(BigInteger, nullable=False))


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
