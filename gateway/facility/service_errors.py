"""Domain errors of bookings, print release, alerts and work orders (the API maps them).

::

    GatewayError
    └── ServiceError
        ├── NotFound       no such booking, space, job or work order
        ├── Conflict       the request clashes with the current state (overlap, bad transition)
        ├── Invalid        the request makes no sense (end before start, space not bookable)
        ├── Forbidden      the member may not do this (not the job's owner)
        └── Unavailable    a part it needs is switched off (MQTT out)
"""

from __future__ import annotations

from gateway.errors import GatewayError


class ServiceError(GatewayError):
    """Base of the member-service errors; the message says what and why."""


class NotFound(ServiceError):
    """The thing asked for does not exist."""


class Conflict(ServiceError):
    """The request clashes with the current state."""


class Invalid(ServiceError):
    """The request is not valid for this thing; ``loc`` names the field, e.g. ("body", "end")."""

    def __init__(self, message: str, loc: tuple[str, ...] = ("body",)) -> None:
        super().__init__(message)
        self.loc = loc


class Forbidden(ServiceError):
    """The caller (or the member it acts for) may not do this."""


class Unavailable(ServiceError):
    """A part the request needs is switched off or away."""
