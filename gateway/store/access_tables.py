"""Store tables of the member services: API tokens, plans, members, credentials and grants."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel


class ApiToken(SQLModel, table=True):
    """A bearer token: only its sha256 is kept; the token itself is shown once at creation."""

    __tablename__ = "api_token"
    __table_args__ = (Index("ix_api_token_hash", "token_hash", unique=True),)

    site: str = Field(primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=128)
    role: str = Field(max_length=16)
    token_hash: str = Field(max_length=64)
    created_at: float
    revoked_at: float | None = None


class PlanRow(SQLModel, table=True):
    """A membership plan: the spaces, floors and space types it opens."""

    __tablename__ = "access_plan"

    site: str = Field(primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=64)
    name: str
    spaces: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    floors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    space_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    from_file: bool = False


class MemberRow(SQLModel, table=True):
    """A member of the site and their plan."""

    __tablename__ = "access_member"

    site: str = Field(primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=64)
    name: str
    company: str | None = None
    plan: str | None = Field(default=None, max_length=64)
    from_file: bool = False


class CredentialRow(SQLModel, table=True):
    """A member's credential (card number, QR, PIN), kept only as a hash."""

    __tablename__ = "access_credential"

    site: str = Field(primary_key=True, max_length=64)
    credential_hash: str = Field(primary_key=True, max_length=64)
    member: str = Field(max_length=64, index=True)


class GrantRow(SQLModel, table=True):
    """A time-bounded grant to a member for a door or a space: [valid_from, valid_until)."""

    __tablename__ = "access_grant"
    __table_args__ = (Index("ix_grant_site_member", "site", "member"),)

    site: str = Field(primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=32)
    member: str = Field(max_length=64)
    door: str | None = Field(default=None, max_length=128)
    space: str | None = Field(default=None, max_length=64)
    valid_from: float
    valid_until: float
    basis: str = ""  # why it was allowed: the plan, or the booking
    created_at: float
    created_by: str = Field(max_length=128)
    revoked_at: float | None = None
    detail: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    booking: str | None = Field(default=None, max_length=64, index=True)  # the basis, if one
