"""Access: grants (issue, list, revoke, as signed credentials), the site's public key, the audit."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import select

from gateway.access.grants import (
    GRANTS,
    Grant,
    GrantError,
    GrantNotFound,
    GrantRefused,
    grant_of,
)
from gateway.access.roles import Principal
from gateway.api.deps import (
    AccessDep,
    AppOrMember,
    AppOrStaff,
    ClockDep,
    ConfigDep,
    MemberFacing,
    SessionDep,
    StaffRead,
    acting_for,
    owned,
)
from gateway.api.paging import Limit, Offset, found, in_window, page, where_given
from gateway.api.routes.utilization import FromQ, ToQ
from gateway.api.schemas import iso
from gateway.store.audit import AUDIT

# Grants are issued and revoked by the app (for members) and admins; staff only read them
# (SPEC section 6: staff manage bookings and work orders). A member-bound token issues, lists,
# reads and revokes its own member's grants only.
CallerApp = Annotated[Principal, AppOrMember]
CallerMemberFacing = Annotated[Principal, MemberFacing]

router = APIRouter(prefix="/access", tags=["access"])


class GrantCreate(BaseModel):
    member: str = Field(min_length=1, max_length=64)
    door: str | None = Field(default=None, max_length=128, description="a door device id")
    space: str | None = Field(default=None, max_length=64, description="or a space id")
    valid_from: AwareDatetime
    valid_until: AwareDatetime
    signed: bool = Field(default=False, description="also return an offline credential")


class GrantPublic(BaseModel):
    id: str
    member: str
    door: str | None
    space: str | None
    valid_from: datetime
    valid_until: datetime
    basis: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    credential: str | None = None


class GrantsPublic(BaseModel):
    data: list[GrantPublic]
    count: int
    total: int


class PublicKey(BaseModel):
    algorithm: str = "Ed25519"
    key: str = Field(description="the 32-byte public key, base64url without padding")
    pem: str
    revocations_topic: str


class AuditPublic(BaseModel):
    id: int
    ts: datetime
    actor: str
    action: str
    subject: str
    member: str | None
    credential: str | None
    result: str
    reason: str
    detail: dict[str, Any] | None


class AuditPage(BaseModel):
    data: list[AuditPublic]
    count: int
    total: int


def _t(ts: float) -> datetime:
    out = iso(ts)
    assert out is not None
    return out


def _public(g: Grant, credential: str | None = None) -> GrantPublic:
    return GrantPublic(
        id=g.id,
        member=g.member,
        door=g.door,
        space=g.space,
        valid_from=_t(g.valid_from),
        valid_until=_t(g.valid_until),
        basis=g.basis,
        created_at=_t(g.created_at),
        created_by=g.created_by,
        revoked_at=iso(g.revoked_at),
        credential=credential,
    )


@router.post(
    "/grants",
    response_model=GrantPublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        403: {"description": "the member's plan does not cover it and they hold no booking"},
        404: {"description": "unknown member, door or space"},
    },
)
def issue_grant(access: AccessDep, caller: CallerApp, body: GrantCreate) -> GrantPublic:
    """Grant a member a door or a space for [valid_from, valid_until), if their plan covers
    it or they hold a booking for it; 403 with the reason otherwise."""
    if (body.door is None) == (body.space is None):
        raise HTTPException(422, "give exactly one of: door, space")
    if body.valid_until <= body.valid_from:
        raise HTTPException(422, "valid_until: must be after valid_from")
    member = acting_for(caller, body.member)
    assert member is not None
    try:
        g = access.grants.issue(
            member,
            body.door,
            body.space,
            body.valid_from.timestamp(),
            body.valid_until.timestamp(),
            caller.name,
        )
    except GrantRefused as err:
        raise HTTPException(status.HTTP_403_FORBIDDEN, err.reason) from err
    except GrantError as err:
        code = status.HTTP_404_NOT_FOUND if "unknown" in str(err) else 422
        raise HTTPException(code, str(err)) from err
    return _public(g, access.credential(g) if body.signed else None)


@router.get("/grants", response_model=GrantsPublic)
def list_grants(
    config: ConfigDep,
    clock: ClockDep,
    session: SessionDep,
    caller: CallerMemberFacing,
    member: str | None = None,
    door: str | None = None,
    space: str | None = None,
    live: Annotated[bool | None, Query(description="only grants valid now (or not)")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> GrantsPublic:
    """Grants, newest first."""
    c = GRANTS.c
    q = select(GRANTS).where(c.site == config.get().building.site.id)
    member = acting_for(caller, member)
    q = where_given(q, (c.member, member), (c.door, door), (c.space, space))
    if live is not None:
        now = clock()
        is_live = (c.revoked_at.is_(None)) & (c.valid_from <= now) & (c.valid_until > now)
        q = q.where(is_live if live else ~is_live)
    rows, total = page(session, q, [c.created_at.desc()], limit, offset)
    data = [_public(grant_of(r)) for r in rows]
    return GrantsPublic(data=data, count=len(data), total=total)


@router.get(
    "/grants/{grant_id}",
    response_model=GrantPublic,
    responses={404: {"description": "no such grant"}},
)
def get_grant(access: AccessDep, caller: CallerMemberFacing, grant_id: str) -> GrantPublic:
    g = access.grants.get(grant_id)
    visible = g if g is not None and owned(caller, g.member) else None
    return _public(found(visible, f"no grant {grant_id!r}"))


@router.delete(
    "/grants/{grant_id}",
    response_model=GrantPublic,
    responses={404: {"description": "no such grant"}},
)
def revoke_grant(access: AccessDep, caller: CallerApp, grant_id: str) -> GrantPublic:
    """Revoke a grant: doors refuse it at once, and offline verifiers once they get the
    retained revocation list."""
    g = access.grants.get(grant_id)
    if g is not None and not owned(caller, g.member):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no grant {grant_id!r}")
    try:
        return _public(access.grants.revoke(grant_id, caller.name))
    except GrantNotFound as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err


@router.get("/public-key", response_model=PublicKey, dependencies=[AppOrStaff])
def public_key(access: AccessDep) -> PublicKey:
    """The site's Ed25519 public key, for controllers that verify credentials offline."""
    raw, pem = access.public_key()
    return PublicKey(key=raw, pem=pem, revocations_topic=access.revocations_topic)


@router.get("/audit", response_model=AuditPage, dependencies=[StaffRead])
def audit(
    config: ConfigDep,
    session: SessionDep,
    subject: Annotated[str | None, Query(description="a door, or space:<id>, booking, job")] = None,
    member: str | None = None,
    result: str | None = None,
    action: str | None = None,
    start: FromQ = None,
    end: ToQ = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> AuditPage:
    """Audited actions (door decisions, grants, releases), newest first."""
    c = AUDIT.c
    q = select(AUDIT).where(c.site == config.get().building.site.id)
    q = where_given(q, (c.subject, subject), (c.member, member), (c.result, result))
    q = in_window(where_given(q, (c.action, action)), c.ts, start, end)
    rows, total = page(session, q, [c.ts.desc(), c.id.desc()], limit, offset)
    # the row's columns as they are (the site aside), the time as a UTC datetime
    data = [AuditPublic.model_validate({**r._mapping, "ts": _t(r.ts)}) for r in rows]
    return AuditPage(data=data, count=len(data), total=total)
