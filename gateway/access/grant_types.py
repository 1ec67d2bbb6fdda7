"""A grant, the errors of asking for one, and the checks a request passes before its basis."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields

from sqlalchemy.engine import Engine

from gateway.building import Building
from gateway.errors import GatewayError, ReasonError
from gateway.store.access_tables import GrantRow
from gateway.store.booking_lookup import booking_for

GRANTS = GrantRow.__table__  # type: ignore[attr-defined]
MAX_WINDOW_S = 366 * 86_400  # a grant is for a visit or a term, not forever


class GrantError(GatewayError):
    """The grant request itself is wrong (unknown member, door or space, bad window)."""


class GrantNotFound(GrantError):
    """No grant with that id."""


class GrantRefused(ReasonError):
    """The member may not have this grant; ``reason`` says why (an HTTP 403)."""


def booked(db: Engine, site: str, member: str, space: str, start: float, end: float) -> str | None:
    """The live booking of ``space`` by ``member`` over the whole window (its id), if any."""
    with db.connect() as conn:
        return booking_for(conn, site, member, space, start, end)


BookingCheck = Callable[[Engine, str, str, str, float, float], str | None]


@dataclass(frozen=True, slots=True)
class Grant:
    id: str
    member: str
    door: str | None
    space: str | None
    valid_from: float
    valid_until: float
    basis: str
    created_at: float
    created_by: str
    revoked_at: float | None = None
    booking: str | None = None  # the booking the grant rests on (None: the member's plan)

    def live(self, now: float) -> bool:
        return self.revoked_at is None and self.valid_from <= now < self.valid_until


def grant_of(r: object) -> Grant:
    return Grant(**{f.name: getattr(r, f.name) for f in fields(Grant)})


def row_of(g: Grant) -> dict[str, object]:
    return asdict(g)


def check_request(
    building: Building,
    is_door: Callable[[str], bool],
    door: str | None,
    space: str | None,
    valid_from: float,
    valid_until: float,
    now: float,
) -> None:
    """Raise GrantError when the request names no known door or space or a bad window."""
    if (door is None) == (space is None):
        raise GrantError("a grant is for exactly one of: door, space")
    if door is not None and (door not in building.devices or not is_door(door)):
        raise GrantError(f"unknown door {door!r}")
    if space is not None and space not in building.spaces:
        raise GrantError(f"unknown space {space!r}")
    if not valid_from < valid_until:
        raise GrantError("valid_until must be after valid_from")
    if valid_until - valid_from > MAX_WINDOW_S:
        raise GrantError(f"a grant may last at most {MAX_WINDOW_S // 86_400} days")
    if valid_until <= now:
        raise GrantError("valid_until is in the past")
