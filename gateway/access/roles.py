"""Who may call the gateway: the roles of SPEC section 6 and the principal behind a token."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """What a token may do (SPEC section 6). ``admin`` may do everything."""

    admin = "admin"
    staff = "staff"  # read all; manage bookings and work orders
    app = "app"  # the trusted backend: acts for any member it names (docs/security.md)
    member = "member"  # acts for one member only: from a token exchange by an app or admin


@dataclass(frozen=True)
class Principal:
    """Who is calling: the role of the token presented and the name it was created under.

    A ``member`` principal carries the one member it acts for; ``token_id`` is then the id of
    the app token it was exchanged from, so revoking that token ends it too."""

    role: Role
    name: str
    token_id: str | None = None
    member: str | None = None
