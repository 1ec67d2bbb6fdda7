"""Members and plans: staff read them; admins create, replace and remove members."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, Field

from gateway.access.control import AccessControl
from gateway.access.erasure import ErasureError, FileMemberError
from gateway.access.erasure_cli import erase_live
from gateway.access.members import Member, MemberError, Plan
from gateway.api.deps import AccessDep, AdminOnly, CallerAdmin, StaffRead
from gateway.api.paging import found

router = APIRouter(tags=["members"])

ID = r"^[^/+#\s]{1,64}$"


class MemberIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    company: str | None = Field(default=None, max_length=200)
    plan: str | None = Field(default=None, max_length=64)
    credentials: list[str] | None = Field(
        default=None,
        max_length=32,
        description="card numbers, QR or PIN codes; stored hashed, never returned. "
        "Omit to keep the member's current ones.",
    )


class MemberCreate(MemberIn):
    id: str = Field(pattern=ID)


class MemberPublic(BaseModel):
    id: str
    name: str
    company: str | None
    plan: str | None
    credentials: int = Field(description="how many credentials the member has")
    from_file: bool


class MembersPublic(BaseModel):
    data: list[MemberPublic]
    count: int


class PlanPublic(BaseModel):
    id: str
    name: str
    spaces: list[str]
    floors: list[str]
    space_types: list[str]
    from_file: bool


class PlansPublic(BaseModel):
    data: list[PlanPublic]
    count: int


def _public(m: Member) -> MemberPublic:
    return MemberPublic.model_validate(m, from_attributes=True)


def _plan(p: Plan) -> PlanPublic:
    return PlanPublic(
        id=p.id,
        name=p.name,
        spaces=sorted(p.spaces),
        floors=sorted(p.floors),
        space_types=sorted(p.space_types),
        from_file=p.from_file,
    )


def _put(access: AccessControl, member_id: str, body: MemberIn) -> MemberPublic:
    creds = None if body.credentials is None else [c for c in body.credentials if c.strip()]
    m = Member(member_id, body.name, body.company, body.plan)
    try:
        return _public(access.directory.put(m, creds))
    except MemberError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err


@router.get("/members", response_model=MembersPublic, dependencies=[StaffRead])
def list_members(
    access: AccessDep, plan: str | None = None, company: str | None = None
) -> MembersPublic:
    data = [
        _public(m)
        for m in access.directory.members()
        if (plan is None or m.plan == plan) and (company is None or m.company == company)
    ]
    return MembersPublic(data=data, count=len(data))


@router.post(
    "/members",
    response_model=MemberPublic,
    status_code=status.HTTP_201_CREATED,
    dependencies=[AdminOnly],
    responses={409: {"description": "the id exists, the plan is unknown or a credential taken"}},
)
def create_member(access: AccessDep, body: MemberCreate) -> MemberPublic:
    if access.directory.get(body.id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"member {body.id} exists; PUT replaces it")
    return _put(access, body.id, body)


@router.get(
    "/members/{member_id}",
    response_model=MemberPublic,
    dependencies=[StaffRead],
    responses={404: {"description": "no such member"}},
)
def get_member(access: AccessDep, member_id: str) -> MemberPublic:
    m = found(access.directory.get(member_id), f"no member {member_id!r}")
    return _public(m)


@router.put(
    "/members/{member_id}",
    response_model=MemberPublic,
    dependencies=[AdminOnly],
    responses={409: {"description": "a file member, an unknown plan or a credential taken"}},
)
def put_member(member_id: str, body: MemberIn, access: AccessDep) -> MemberPublic:
    """Create or replace a member (members of the building file are changed in the file)."""
    if len(member_id) > 64 or any(c in member_id for c in "/+# "):
        raise HTTPException(422, "member_id: not a valid id")
    return _put(access, member_id, body)


@router.delete(
    "/members/{member_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[AdminOnly],
    responses={404: {"description": "no such member"}, 409: {"description": "a file member"}},
)
def delete_member(access: AccessDep, member_id: str) -> Response:
    try:
        gone = access.directory.delete(member_id)
    except MemberError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err
    if not gone:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no member {member_id!r}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class ErasurePublic(BaseModel):
    pseudonym: str = Field(description="the stand-in the kept rows now name")
    already: bool = Field(description="the member was erased before; nothing changed")
    changed: dict[str, int] = Field(description="rows changed per table")


@router.post(
    "/members/{member_id}/erase",
    response_model=ErasurePublic,
    responses={
        404: {"description": "no such member, and nothing recorded about it"},
        409: {"description": "the building file declares the member: remove it there first"},
    },
)
def erase_member(access: AccessDep, member_id: str, caller: CallerAdmin) -> ErasurePublic:
    """Remove the member's personal data; bookings, grants and audit rows stay, pseudonymous."""
    try:
        done = erase_live(access, member_id, caller.name)
    except FileMemberError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err
    except ErasureError as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err
    return ErasurePublic(pseudonym=done.pseudonym, already=done.already, changed=done.changed)


@router.get("/plans", response_model=PlansPublic, dependencies=[StaffRead])
def list_plans(access: AccessDep) -> PlansPublic:
    data = [_plan(p) for p in access.directory.plans()]
    return PlansPublic(data=data, count=len(data))
