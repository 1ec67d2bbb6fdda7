"""Time as the gateway shows it: epoch seconds inside, aware UTC datetimes and ISO text outside."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(ts: float | None) -> datetime | None:
    """An aware UTC datetime from epoch seconds (None stays None); the API's time fields."""
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def iso_z(ts: float) -> str:
    """ISO 8601 UTC text with milliseconds and a ``Z``: what MQTT payloads carry."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def epoch(dt: datetime) -> float:
    """Epoch seconds; a time without offset is UTC."""
    return (dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)).timestamp()
