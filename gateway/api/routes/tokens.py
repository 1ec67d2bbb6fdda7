"""API tokens through the admin API: create (shown once), list, revoke."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from gateway.access.tokens import TokenError, TokenInfo
from gateway.api.deps import AccessDep, AdminOnly
from gateway.api.schemas import iso

router = APIRouter(prefix="/admin/tokens", tags=["tokens"], dependencies=[AdminOnly])


class TokenCreate(BaseModel):
    role: Literal["admin", "staff", "app"]
    name: str = Field(min_length=1, max_length=128, description="who or what uses it")


class TokenPublic(BaseModel):
    id: str
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None


class TokenCreated(TokenPublic):
    token: str = Field(description="the bearer token; shown only in this response")


class TokensPublic(BaseModel):
    data: list[TokenPublic]
    count: int


def _public(t: TokenInfo) -> TokenPublic:
    created = iso(t.created_at)
    assert created is not None
    return TokenPublic(
        id=t.id, name=t.name, role=t.role, created_at=created, revoked_at=iso(t.revoked_at)
    )


@router.post(
    "",
    response_model=TokenCreated,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "a live token has that name"}},
)
def create_token(access: AccessDep, body: TokenCreate) -> TokenCreated:
    """Create a token; the response is the only place the token itself ever appears."""
    try:
        info, raw = access.tokens.create(body.role, body.name)
    except TokenError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err
    return TokenCreated(**_public(info).model_dump(), token=raw)


@router.get("", response_model=TokensPublic)
def list_tokens(access: AccessDep, include_revoked: bool = False) -> TokensPublic:
    data = [_public(t) for t in access.tokens.list(include_revoked)]
    return TokensPublic(data=data, count=len(data))


@router.delete("/{token}", response_model=TokenPublic, responses={404: {"description": "none"}})
def revoke_token(access: AccessDep, token: str) -> TokenPublic:
    """Revoke a live token by id or name; requests with it fail from now on."""
    try:
        return _public(access.tokens.revoke(token))
    except TokenError as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err
