"""Settings of bookings coming in: room calendars (ICS feeds) and booking-platform webhooks.

Kept apart from ``gateway.settings`` (which only names these models) so ``gateway.integrations``
owns its knobs without a cycle: nothing here imports more than pydantic.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr


class CalendarSettings(BaseModel):
    """Room calendars: the ``calendar:`` of a bookable space in the building file is polled."""

    poll_s: float = Field(default=300.0, gt=0, allow_inf_nan=False)  # each feed this often
    timeout_s: float = Field(default=10.0, gt=0, allow_inf_nan=False)  # each connect, and each read
    # occurrences that ended up to this many days ago are looked at (kept, not re-booked)
    past_days: float = Field(default=1.0, ge=0, allow_inf_nan=False)
    # occurrences starting up to this many days ahead are kept as bookings
    horizon_days: float = Field(default=14.0, gt=0, le=366, allow_inf_nan=False)
    # a feed larger than this is refused unparsed (a counted error)
    max_bytes: int = Field(default=5_000_000, gt=0)
    # a feed with more components (events, time zones, alarms) is refused unparsed
    max_components: int = Field(default=20_000, gt=0)
    # occurrences taken per feed inside the window; past it the feed is marked truncated
    max_occurrences: int = Field(default=2_000, gt=0)


class BookingIntegration(BaseModel):
    """One booking platform allowed to post bookings: its bookings' source is ``platform:<id>``."""

    secret: SecretStr  # the HMAC-SHA256 key of the ``X-Gateway-Signature`` header


class BookingHookSettings(BaseModel):
    """``POST /api/v1/integrations/bookings``: signed, timestamped, size-limited."""

    # integration id -> its secret; none: the endpoint answers 404
    integrations: dict[str, BookingIntegration] = Field(default_factory=dict)
    tolerance_s: float = Field(default=300.0, gt=0, allow_inf_nan=False)  # |now - t| allowed
    max_body_bytes: int = Field(default=65_536, gt=0)  # larger bodies: 413, unread
    remember: int = Field(default=10_000, gt=0)  # signatures kept to refuse a replay
