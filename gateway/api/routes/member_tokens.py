"""Token exchange: an app (or admin) token traded for a short-lived token of one member."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, Field

from gateway.api.deps import AccessDep, Principal, Role, SettingsDep, require_role
from gateway.api.paging import found
from gateway.api.schemas import iso

router = APIRouter(prefix="/member-tokens", tags=["tokens"])
CallerApp = Annotated[Principal, Depends(require_role(Role.app))]


class MemberTokenRequest(BaseModel):
    member: str = Field(min_length=1, max_length=64, description="the member it acts for")


class MemberTokenPublic(BaseModel):
    token: str = Field(description="bearer token acting for this member only; shown once")
    member: str
    expires_at: datetime


@router.post(
    "",
    response_model=MemberTokenPublic,
    status_code=status.HTTP_201_CREATED,
    responses={404: {"description": "no such member"}},
)
def exchange(
    access: AccessDep, settings: SettingsDep, caller: CallerApp, body: MemberTokenRequest
) -> MemberTokenPublic:
    """A token for a member's own device: on bookings, grants and print jobs it acts for this
    member only, whatever a request names; it ends at ``expires_at`` or when the token it was
    exchanged from is revoked."""
    found(access.directory.get(body.member), f"no member {body.member!r}")
    ttl = settings.api.member_token_ttl_s
    raw, expires = access.tokens.members.issue(caller, body.member, ttl)
    at = iso(expires)
    assert at is not None
    return MemberTokenPublic(token=raw, member=body.member, expires_at=at)
