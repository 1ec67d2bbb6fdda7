"""Who may call the gateway: the roles of SPEC section 6 and the principal behind a token."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """What a token may do (SPEC section 6). ``admin`` may do everything."""

    admin = "admin"
    staff = "staff"  # read all; manage bookings and work orders
    app = "app"  # acts for members: grants, bookings, print release, free-space search


@dataclass(frozen=True)
class Principal:
    """Who is calling: the role of the token presented and the name it was created under."""

    role: Role
    name: str
    token_id: str | None = None
